"""People as agents: a terminal prompt for text envs, a local web page for screen envs.

Both record exactly what a model agent would: the same prompts (`prompts.prompt_builder`), the
same action vocabulary, the same `Trajectory` records. On the web page the person sees the live
screenshot; a click on it becomes the env's own pointer action (the vocabulary's action with
`x` and `y` arguments, e.g. the phone's `click(x=.., y=..)` or the browser's `click_xy(x=.., y=..)`),
buttons are generated for every action whose arguments are all optional or have fixed choices,
a text box types into the focused field when the env has such an action, and any other action
can be written in the vocabulary's own syntax. The page only produces action text; the env
parses and validates it as it would a model's output.
"""

from __future__ import annotations

import io
import itertools
import queue
import sys
import threading
from importlib import resources
from typing import Any, TextIO

from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, Response
from PIL import Image
from pydantic import BaseModel

from coachgym.agents.base import AgentOutput
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
def pointer_spec(actions: ActionSet) -> ActionSpec | None:
    """The action a click on the screenshot becomes: one taking `x` and `y` (a `click` first)."""
    candidates = [s for s in actions.specs.values() if {"x", "y"} <= {a.name for a in s.args}]
    candidates.sort(key=lambda s: (not s.name.startswith(("click", "tap")), len(s.args)))
    return candidates[0] if candidates else None


def typing_spec(actions: ActionSet) -> ActionSpec | None:
    """An action that types `text` into the focused field, needing no other argument."""
    for spec in actions.specs.values():
        names = {a.name for a in spec.args if not a.optional}
        if names == {"text"} and not spec.terminal and "type" in spec.name + spec.doc.lower():
            return spec
    return None


def button_actions(actions: ActionSet) -> list[dict[str, str]]:
    """One button per action whose required arguments all have fixed choices (or none)."""
    buttons = []
    for spec in actions.specs.values():
        required = [a for a in spec.args if not a.optional]
        if spec.block or any(a.choices is None for a in required):
            continue
        for values in itertools.product(*[a.choices for a in required]):
            label = " ".join([spec.name, *map(str, values)])
            buttons.append({"label": label, "action": actions.format(spec.name, **dict(zip([a.name for a in required], values)))})
    return buttons


class ActionBody(BaseModel):
    x: int | None = None
    y: int | None = None
    text: str | None = None
    typed: str | None = None


class WebHumanAgent(_PromptedHuman):
    """Serves a page at `url` showing the live screen; each `act` waits for the person's action."""

    name = "human-web"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, timeout_s: float | None = None):
        from coachgym.envs.server import ThreadedServer

        super().__init__()
        self.timeout_s = timeout_s
        self._actions: queue.Queue[str] = queue.Queue()
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {"version": 0, "waiting": False, "done": False, "goal": "", "text": "",
                                       "step": 0, "buttons": [], "vocabulary": "", "can_type": False,
                                       "has_screenshot": False}
        self._png = b""
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
            return self._state

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
            spec = pointer_spec(self.actions)
            if spec is None:
                raise HTTPException(400, "This env has no pointer action; write the action in the text box.")
            return self.actions.format(spec.name, x=body.x, y=body.y)
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
        with self._lock:
            self._state = self._state | {"goal": task.goal, "buttons": button_actions(self.actions), "done": False,
                                         "vocabulary": env_info["actions"], "can_type": typing_spec(self.actions) is not None}

    def act(self, observation: dict[str, Any]) -> AgentOutput:
        prompt = self._prompt(observation)
        shot = observation.get("screenshot")
        if shot is not None:
            buffer = io.BytesIO()
            Image.fromarray(shot).save(buffer, format="PNG", compress_level=1)
            self._png = buffer.getvalue()
        with self._lock:
            self._state = self._state | {"version": self._state["version"] + 1, "waiting": True, "text": observation["text"],
                                         "step": observation.get("step", 0), "has_screenshot": shot is not None}
        try:
            text = self._actions.get(timeout=self.timeout_s)
        except queue.Empty:
            raise TimeoutError(f"No action from the page at {self.url} within {self.timeout_s}s.") from None
        return AgentOutput(text=text, prompt=prompt)

    def close(self) -> None:
        with self._lock:
            self._state = self._state | {"waiting": False, "done": True}
        self._server.stop()
