"""People as agents: a terminal prompt for text envs, a local web page for screen envs.

Both record exactly what a model agent would: the same prompts (`prompts.prompt_builder`), the
same action vocabulary, the same `Trajectory` records. On the web page the person sees the live
screenshot, scaled to the window; a click on it becomes one of the env's pointer actions (those
with `x` and `y` arguments: the phone's `click`, `long_press`, `double_tap` and `swipe <direction>`,
the browser's `click_xy`), chosen on the page. Buttons are generated for every other action whose
required arguments have fixed choices, a text box types into the focused field when the env has
such an action, and any other action can be written in the vocabulary's own syntax. When the
episode ends the page shows its result. The page only produces action text; the env parses and
validates it as it would a model's output.
"""

from __future__ import annotations

import io
import itertools
import queue
import sys
import threading
import time
from importlib import resources
from typing import Any, TextIO

from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, Response
from PIL import Image
from pydantic import BaseModel

from coachgym.agents.base import AgentOutput, EpisodeEnd
from coachgym.agents.scripted import PromptedAgent
from coachgym.envs.actions import ActionError, ActionSet, ActionSpec
from coachgym.envs.core import Task
from coachgym.envs.registry import env_class


class _PromptedHuman(PromptedAgent):
    """A person answers in the env's action vocabulary (kept for the web page's controls)."""

    def start_episode(self, task: Task, env_info: dict[str, Any]) -> None:
        super().start_episode(task, env_info)
        self.actions: ActionSet = env_class(task.env).actions


class TerminalHumanAgent(_PromptedHuman):
    """Prints each observation and reads one action from the terminal.

    An empty line sends what was typed once it parses as an action of the env (so multi-line
    actions such as AgentBench's `Think:` / `Act: bash` / code block can contain blank lines);
    a line holding only `.` sends it as it is, for the env to explain what is wrong.
    """

    name = "human"

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None):
        super().__init__()
        self.stdin, self.stdout = stdin or sys.stdin, stdout or sys.stdout

    def start_episode(self, task: Task, env_info: dict[str, Any]) -> None:
        super().start_episode(task, env_info)
        self.stdout.write(f"{self.system_prompt}\n\n(An empty line sends the action; '.' sends it as it is.)\n")

    def act(self, observation: dict[str, Any]) -> AgentOutput:
        prompt = self._prompt(observation)
        self.stdout.write(f"\n{'=' * 60}\n{prompt}\n{'-' * 60}\naction> ")
        self.stdout.flush()
        return AgentOutput(text=self._read_action(), prompt=prompt)

    def _read_action(self) -> str:
        lines: list[str] = []
        for line in self.stdin:
            line = line.rstrip("\n")
            if line == ".":
                break
            if not line.strip() and self._complete("\n".join(lines)):
                break
            lines.append(line)
        return "\n".join(lines).strip("\n")

    def _complete(self, text: str) -> bool:
        try:
            self.actions.parse(text)
        except ActionError:
            return False
        return True


# --------------------------------------------------------------------------- web page
def _choices(spec: ActionSpec, skip: set[str]) -> list[dict[str, Any]] | None:
    """Every way to fill the required arguments not in `skip` from their fixed choices (None: some have none)."""
    required = [a for a in spec.args if not a.optional and a.name not in skip]
    if spec.block or any(a.choices is None for a in required):
        return None
    names = [a.name for a in required]
    return [dict(zip(names, values)) for values in itertools.product(*[a.choices for a in required])]


def _points(spec: ActionSpec) -> bool:
    return {"x", "y"} <= {a.name for a in spec.args}


def pointer_modes(actions: ActionSet) -> list[dict[str, Any]]:
    """What a click on the screenshot can do: each action taking `x` and `y`, its other arguments fixed.

    A click-like action comes first (the page's default); e.g. the phone's click, long_press,
    double_tap and one swipe per direction, or the browser's click_xy.
    """
    modes = []
    for spec in sorted(filter(_points, actions.specs.values()), key=lambda s: not s.name.startswith(("click", "tap"))):
        for fixed in _choices(spec, {"x", "y"}) or []:
            modes.append({"label": " ".join([spec.name, *map(str, fixed.values())]), "name": spec.name, "args": fixed})
    return modes


def typing_spec(actions: ActionSet) -> ActionSpec | None:
    """An action that types `text` into the focused field, needing no other argument."""
    for spec in actions.specs.values():
        names = {a.name for a in spec.args if not a.optional}
        if names == {"text"} and not spec.terminal and "type" in spec.name + spec.doc.lower():
            return spec
    return None


def button_actions(actions: ActionSet) -> list[dict[str, str]]:
    """One button per action that needs no point and whose required arguments all have fixed choices.

    Actions that take `x`/`y` are left to clicks on the screenshot: without a point (or an element)
    the env would reject them.
    """
    buttons = []
    for spec in actions.specs.values():
        for fixed in [] if _points(spec) else _choices(spec, set()) or []:
            buttons.append({"label": " ".join([spec.name, *map(str, fixed.values())]),
                            "action": actions.format(spec.name, **fixed)})
    return buttons


class ActionBody(BaseModel):
    x: int | None = None
    y: int | None = None
    mode: str | None = None  # a pointer mode's label (default: the first)
    text: str | None = None
    typed: str | None = None


class WebHumanAgent(_PromptedHuman):
    """Serves a page at `url` showing the live screen; each `act` waits for the person's action.

    `close` waits (up to `linger_s`) until a page that is still polling has shown the episode's
    result, then stops the server.
    """

    name = "human-web"
    linger_s = 5.0

    def __init__(self, host: str = "127.0.0.1", port: int = 0, timeout_s: float | None = None):
        from coachgym.envs.server import ThreadedServer

        super().__init__()
        self.timeout_s = timeout_s
        self._actions: queue.Queue[str] = queue.Queue()
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {"version": 0, "waiting": False, "done": False, "goal": "", "text": "",
                                       "step": 0, "buttons": [], "modes": [], "vocabulary": "", "can_type": False,
                                       "has_screenshot": False, "result": None}
        self._png = b""
        self._polled_at = 0.0  # when a page last asked for the state
        self._result_shown = threading.Event()
        self._server = ThreadedServer(self._build_app(), host, port)
        self.url = self._server.url

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="coachgym play")
        page = resources.files("coachgym.agents").joinpath("web/human.html").read_text(encoding="utf-8")

        @app.get("/", response_class=HTMLResponse)
        def index() -> str:
            return page

        @app.get("/state")
        def state() -> dict[str, Any]:
            current = self._state
            self._polled_at = time.monotonic()
            if current["result"] is not None:
                self._result_shown.set()
            return current

        @app.get("/screenshot.png")
        def screenshot() -> Response:
            return Response(self._png, media_type="image/png", headers={"Cache-Control": "no-store"})

        @app.post("/action")
        def action(body: ActionBody) -> dict[str, str]:
            with self._lock:
                if not self._state["waiting"]:
                    raise HTTPException(409, "The env is not waiting for an action right now.")
                text = self._action_text(body)
                self._state = self._state | {"waiting": False}
            self._actions.put(text)
            return {"action": text}

        return app

    def _action_text(self, body: ActionBody) -> str:
        if body.x is not None and body.y is not None:
            modes = {mode["label"]: mode for mode in pointer_modes(self.actions)}
            if not modes:
                raise HTTPException(400, "This env has no pointer action; write the action in the text box.")
            mode = modes.get(body.mode or next(iter(modes)))
            if mode is None:
                raise HTTPException(400, f"Unknown click mode {body.mode!r}; pick one of: {', '.join(modes)}.")
            return self.actions.format(mode["name"], **mode["args"], x=body.x, y=body.y)
        if body.typed is not None:
            spec = typing_spec(self.actions)
            if spec is None:
                raise HTTPException(400, "This env has no plain typing action; write the action in the text box.")
            return self.actions.format(spec.name, text=body.typed)
        if body.text:
            return body.text
        raise HTTPException(400, "Send a click (x, y), text to type, or an action.")

    def start_episode(self, task: Task, env_info: dict[str, Any]) -> None:
        super().start_episode(task, env_info)
        self._result_shown.clear()
        with self._lock:
            self._state = self._state | {"goal": task.goal, "buttons": button_actions(self.actions), "done": False,
                                         "modes": [mode["label"] for mode in pointer_modes(self.actions)],
                                         "vocabulary": env_info["actions"], "result": None,
                                         "can_type": typing_spec(self.actions) is not None}

    def act(self, observation: dict[str, Any]) -> AgentOutput:
        prompt = self._prompt(observation)
        self._show(observation, waiting=True)
        try:
            text = self._actions.get(timeout=self.timeout_s)
        except queue.Empty:
            raise TimeoutError(f"No action from the page at {self.url} within {self.timeout_s}s.") from None
        return AgentOutput(text=text, prompt=prompt)

    def end_episode(self, observation: dict[str, Any], end: EpisodeEnd) -> None:
        self._show(observation, waiting=False, result=end.model_dump(mode="json"))

    def _show(self, observation: dict[str, Any], waiting: bool, result: dict[str, Any] | None = None) -> None:
        shot = observation.get("screenshot")
        if shot is not None:
            buffer = io.BytesIO()
            Image.fromarray(shot).save(buffer, format="PNG", compress_level=1)
            self._png = buffer.getvalue()
        with self._lock:
            self._state = self._state | {"version": self._state["version"] + 1, "waiting": waiting,
                                         "text": observation["text"], "step": observation.get("step", 0),
                                         "has_screenshot": shot is not None, "done": result is not None,
                                         "result": result}

    def close(self) -> None:
        with self._lock:
            self._state = self._state | {"waiting": False}
        if self._state["result"] is not None and time.monotonic() - self._polled_at < 2.0:
            self._result_shown.wait(self.linger_s)  # a page is watching: let it show the result first
        self._server.stop()
