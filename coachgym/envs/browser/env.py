"""`BrowserEnv`: a real Chromium that text agents and vision agents drive with the same actions.

The env owns the episode: a fresh isolated browser context per reset, executing parsed actions
through Playwright, and rendering the observation (outline with element ids, tabs, screenshot).
What the page *is* and how it is scored belongs to a world: `AppWorld` (the built-in local web
apps, scored from their backend state) or `MiniWobWorld` (MiniWoB++ pages, scored by the page).
Agent text is never executed; element ids are validated before they reach a selector. Only the
task's own sites are reachable (`boundary.py`), and every reset and step runs under a hard deadline
(`deadline.py`), so a hung page ends its episode instead of blocking the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np
from playwright.sync_api import Error, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from coachgym.envs.actions import ActionError, ParsedAction, from_normalized
from coachgym.envs.browser.actions import BROWSER_ACTIONS, SEQUENCE
from coachgym.envs.browser.deadline import DeadlineExceeded, deadline
from coachgym.envs.browser.miniwob import VIEWPORT as MINIWOB_VIEWPORT
from coachgym.envs.browser.miniwob import MiniWobWorld, TimeLimit
from coachgym.envs.browser.observe import Snapshot, screenshot, snapshot
from coachgym.envs.browser.perform import Performer
from coachgym.envs.browser.session import BrowserConfig, BrowserSession, shared_browser
from coachgym.envs.core import AgentEnv, Evaluation, StepResult, Task, TaskSuite
from coachgym.envs.registry import load_suite

# Playwright errors that mean the browser (not the agent) is gone: these end the episode as env_error.
_DEAD = re.compile(r"Target (page, context or browser )?(has been )?closed|Browser has been closed|crash|disconnected",
                   re.IGNORECASE)
CLOSE_HUNG_S = 5.0  # closing a context is browser-side and quick even when its renderer is stuck
_ELEMENT_ARGS = ("id", "from_id", "to_id")  # what a screen-only task refuses: the agent was shown no ids
_POINT_ARGS = (("x", "y"), ("x1", "y1"), ("x2", "y2"))  # the points `coordinates: normalized` scales


class World(Protocol):
    """What the pages of a task are and how they are scored."""

    def allowed_prefixes(self) -> list[str]: ...
    def start(self, session: BrowserSession, task: Task, seed: int) -> str | None: ...
    def after_action(self) -> str | None:
        """None while the episode goes on; else the sentence that tells the agent why it ended."""
    def evaluate(self, answer: str | None) -> Evaluation: ...
    def close(self) -> None: ...


class BrowserEnv(AgentEnv):
    """Drive Chromium to complete a web task.

    Observation: `text` lists the open tabs, the URL and an accessibility-tree-like outline of the
    active tab in which every element carries an id (`[12] button 'Add to cart'`, ids inside
    iframes look like `7-3`); `screenshot` is the viewport (HxWx3, with ids drawn on it when
    `set_of_marks=True`); `goal` is the task instruction.
    Actions (`actions.py`): clicks, hover, mouse down/move/up and drags by id or coordinates,
    `type`, key combinations, (multi-)select, page or element scroll, `wait`, `upload`, navigation,
    tabs and `answer(text)`; WebArena's `click [12]` syntax is accepted too. Several actions in one
    message run in order, or the message is an invalid action saying which one is wrong.
    Only the task's local sites are reachable: other URLs (including data:, blob: and javascript:)
    are refused as invalid actions, other requests are blocked and the episode continues.
    A reset or step that outlasts `step_deadline_ms` (a page stuck in a script) ends as env_error.
    Reward: built-in apps score 1/0 from their backend state (and the answer, for questions) when
    the episode ends; MiniWoB++ tasks give the page's own reward in [-1, 1] as soon as it finishes.
    A task with `setup["screen_only"]` (the GUI families of `gui_tasks`) leaves the outline out and
    refuses actions by element id and key presses, so the screenshot is the only way to find a target; its
    `setup["coordinates"] = "normalized"` makes action points 0-999 of the viewport (CogAgent style).
    """

    name = "browser"
    actions = BROWSER_ACTIONS
    default_max_steps = 25

    def __init__(
        self,
        task: str | Task | None = None,
        suite: str | TaskSuite | None = None,
        max_steps: int | None = None,
        max_invalid_actions: int = 3,
        split: str | None = None,
        render_mode: str | None = None,
        config: BrowserConfig | dict[str, Any] | None = None,
        miniwob_time_limit_s: TimeLimit = None,
        **config_fields: Any,
    ):
        if not isinstance(suite, TaskSuite):
            suite = load_suite(suite or self.name)
        if not isinstance(config, BrowserConfig):
            fields = dict(config or {}) | config_fields
            tasks = [task] if isinstance(task, Task) else suite.tasks
            if all(t.setup.get("kind") == "miniwob" for t in tasks) and "viewport_width" not in fields:
                fields["viewport_width"], fields["viewport_height"] = MINIWOB_VIEWPORT
            config = BrowserConfig(**fields)
        self.config = config
        self.screenshot_shape = config.screenshot_shape
        self.miniwob_time_limit_s = miniwob_time_limit_s
        self.session: BrowserSession | None = None
        self.snap = Snapshot()
        self.answer: str | None = None
        self._worlds: dict[str, World] = {}
        self.world: World | None = None
        self.screen_only = False
        self.coordinates = "pixels"
        super().__init__(task=task, suite=suite, max_steps=max_steps, max_invalid_actions=max_invalid_actions,
                         split=split, render_mode=render_mode)

    # ----------------------------------------------------------------- episode
    def _world_for(self, task: Task) -> World:
        kind = task.setup.get("kind", "app")
        if kind not in self._worlds:
            if kind == "miniwob":
                self._worlds[kind] = MiniWobWorld(time_limit_s=self.miniwob_time_limit_s)
            elif kind == "app":
                from coachgym.envs.browser.apps import AppWorld

                self._worlds[kind] = AppWorld()
            else:
                raise ValueError(f"Task {task.id!r} has unknown browser task kind {kind!r} (use 'app' or 'miniwob').")
        return self._worlds[kind]

    def _setup(self, task: Task, seed: int) -> str:
        self.episode_seed = seed
        self.world = self._world_for(task)
        self.answer = None
        self.screen_only = bool(task.setup.get("screen_only"))
        self.coordinates = task.setup.get("coordinates", "pixels")
        if self.coordinates not in ("pixels", "normalized"):
            raise ValueError(f"Task {task.id!r} has coordinates={self.coordinates!r}; use 'pixels' or 'normalized'.")
        shared_browser.get(self.config.headless)  # the deadline needs Playwright's loop running
        with self._bounded("starting the task"):
            self.session = self._fresh_session(self.world.allowed_prefixes())
            goal = self.world.start(self.session, task, seed)
            if goal:
                self.task = task.model_copy(update={"goal": goal})
            return self._render()

    @contextmanager
    def _bounded(self, doing: str) -> Iterator[None]:
        """Run the block under the step deadline; a page that hangs past it loses its tabs."""
        seconds = self.config.step_deadline_ms / 1000
        try:
            with deadline(seconds, f"the page did not respond within {seconds:g} s while {doing} (a script on it "
                          "may be stuck in a loop); its tabs were closed and the episode ended."):
                yield
        except DeadlineExceeded:
            self._drop_session()
            raise

    def _drop_session(self) -> None:
        """Close the session's context, which kills its renderers; restart the browser if even that hangs."""
        session, self.session = self.session, None
        if session is None:
            return
        try:
            with deadline(CLOSE_HUNG_S, "closing the tabs of a hung page"):
                session.close()
        except DeadlineExceeded:
            shared_browser.restart()

    def _fresh_session(self, allowed: list[str]) -> BrowserSession:
        """Reuse the session when it is healthy and allows the same origins, else start a new one."""
        if self.session is not None:
            if self.session.boundary.prefixes == tuple(allowed):
                try:
                    self.session.fresh_episode()
                    return self.session
                except Error:  # the browser died with the last episode
                    pass
            self.session.close()
        return BrowserSession(self.config, allowed)

    def _execute(self, action: ParsedAction) -> StepResult:
        with self._bounded(f"running {action.name}"):
            return self._act(action)

    def _act(self, action: ParsedAction) -> StepResult:
        assert self.session is not None and self.world is not None
        actions = action.args["actions"] if action.name == SEQUENCE else [action]
        note, cut_short = None, []
        for index, single in enumerate(actions, start=1):
            try:
                cut_short.append(self._perform(single))
            except ActionError as error:
                if index == 1:
                    raise
                self._last_text = self._render()  # the earlier actions changed the page: show it as it is now
                raise ActionError(f"Actions 1-{index - 1} of {len(actions)} ran; action {index} "
                                  f"({single.raw[:80]}) failed and the rest did not run: {error.message}",
                                  kind=error.kind) from None
            note = self.world.after_action()
            if note:
                skipped = len(actions) - index
                note += f" The remaining {skipped} action(s) did not run." if skipped else ""
                break
        text = "\n\n".join([*filter(None, cut_short), self._render()])
        if note:
            text = note + "\n\n" + text
        return StepResult(text=text, done=bool(note) or actions[-1].name == "answer")

    def _perform(self, action: ParsedAction) -> str | None:
        """One action through Playwright; its failures become `ActionError`s unless the browser is gone. Returns
        the note of an action the page cut short."""
        assert self.session is not None
        if action.name == "answer":
            self.answer = action.args["text"]
            return None
        action = self._in_pixels(action)
        performer = Performer(self.session, self.snap, self.config)
        try:
            return performer.run(action)
        except PlaywrightTimeout as error:
            self._wait_until_responsive()
            raise ActionError(f"{action.name} timed out: {_first_line(error)} (is the element hidden, disabled "
                              "or covered by another element?)") from None
        except Error as error:
            if _DEAD.search(str(error)) and action.name != "close_tab":
                raise
            raise ActionError(f"{action.name} failed: {_first_line(error)}") from None
        finally:
            self.pointer.extend((x / self.config.viewport_width, y / self.config.viewport_height)
                                for x, y in performer.points)

    def _in_pixels(self, action: ParsedAction) -> ParsedAction:
        """The action as Playwright takes it: 0-999 points scaled to CSS pixels. On a screen-only task an
        element id is refused (the agent was shown none and must not find targets by guessing ids), and
        so are keys (tabbing to the n-th button finds it without the screen)."""
        if self.screen_only and any(action.args.get(name) for name in _ELEMENT_ARGS):
            raise ActionError(f"{action.name} names an element id, but this task shows only the screenshot: "
                              f"point at the target with click_xy(x, y) ({self._unit}).")
        if self.screen_only and action.name == "press":  # Tab, Enter would reach a button without looking
            raise ActionError(f"Keys are refused on this task, which is solved by looking: point at the target "
                              f"with click_xy(x, y) ({self._unit}).")
        if self.coordinates != "normalized":
            return action
        args = dict(action.args)
        for x_name, y_name in _POINT_ARGS:
            if x_name in args:
                args[x_name], args[y_name] = from_normalized(args[x_name], args[y_name], self.config.viewport_width,
                                                             self.config.viewport_height)
        return action.model_copy(update={"args": args})

    @property
    def _unit(self) -> str:
        return "0-999 normalized" if self.coordinates == "normalized" else "CSS pixels"

    def prompt_info(self) -> dict[str, str]:
        """For a screen-only GUI task, a prompt that says only what such a task needs: click a point."""
        info = super().prompt_info()
        if self.screen_only:
            info["doc"] = f"A web page. Find the target on the screenshot and click it; x/y are {self._unit}."
            info["actions"] = self.actions.describe(only=("click_xy",))
        return info

    def _wait_until_responsive(self) -> None:
        """An action that timed out may have started a script that never yields: then this blocks until the
        step deadline ends the episode, instead of blaming the element and leaving the next step to hang."""
        assert self.session is not None
        try:
            self.session.page.evaluate("() => 0")
        except Error:  # navigating or closed, which is not hung
            pass

    def _evaluate(self) -> Evaluation:
        assert self.world is not None
        return self.world.evaluate(self.answer)

    def _screenshot(self) -> np.ndarray | None:
        if self.session is None:
            return None
        try:
            return screenshot(self.session.page, self.config, self.snap.boxes if self.config.set_of_marks else None)
        except Error:  # a dead browser still yields an observation; the step reports env_error
            return None

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
        for world in self._worlds.values():
            world.close()
        self._worlds.clear()

    # ----------------------------------------------------------------- observation
    def _render(self) -> str:
        assert self.session is not None
        self.session.blank_foreign_documents()
        page = self.session.page
        self.snap = _snapshot_with_retry(page, self.config)
        tabs = " | ".join(
            f"[{i}] {title or url}" + (" (active)" if i == self.session.active else "")
            for i, (title, url) in enumerate(self.session.tabs(self.snap.title))
        )
        parts = [f"Tabs: {tabs}", f"URL: {self.snap.url}"]
        blocked = self.session.take_blocked()
        if blocked:
            parts.append("Blocked (only local sites are reachable): " + ", ".join(sorted(set(blocked))[:5]))
        parts.append(f"Page: {self.snap.title}")
        if self.screen_only:
            width, height = self.config.viewport_width, self.config.viewport_height
            parts.append(f"Screenshot {width}x{height}; x/y are {self._unit}.")
        else:
            parts.extend(self.snap.lines or ["(empty page)"])
        return "\n".join(parts)

def _snapshot_with_retry(page: Page, config: BrowserConfig, attempts: int = 3) -> Snapshot:
    """A click may start a navigation that destroys the document mid-snapshot: wait for the new one."""
    for _ in range(attempts - 1):
        try:
            return snapshot(page, config)
        except Error as error:
            if "context was destroyed" not in str(error) and "navigat" not in str(error):
                raise
            page.wait_for_load_state("domcontentloaded")
    return snapshot(page, config)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
