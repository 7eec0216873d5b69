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
from urllib.parse import urljoin

import numpy as np
from playwright.sync_api import Error, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from coachgym.envs.actions import ActionError, ParsedAction
from coachgym.envs.browser.actions import BROWSER_ACTIONS
from coachgym.envs.browser.deadline import DeadlineExceeded, deadline
from coachgym.envs.browser.miniwob import VIEWPORT as MINIWOB_VIEWPORT
from coachgym.envs.browser.miniwob import MiniWobWorld
from coachgym.envs.browser.observe import ID_ATTR, Snapshot, screenshot, snapshot
from coachgym.envs.browser.session import BrowserConfig, BrowserSession, shared_browser
from coachgym.envs.core import AgentEnv, Evaluation, StepResult, Task, TaskSuite

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
# Playwright errors that mean the browser (not the agent) is gone: these end the episode as env_error.
_DEAD = re.compile(r"Target (page, context or browser )?(has been )?closed|Browser has been closed|crash|disconnected",
                   re.IGNORECASE)
CLOSE_HUNG_S = 5.0  # closing a context is browser-side and quick even when its renderer is stuck


class World(Protocol):
    """What the pages of a task are and how they are scored."""

    def allowed_prefixes(self) -> list[str]: ...
    def start(self, session: BrowserSession, task: Task, seed: int) -> str | None: ...
    def after_action(self) -> bool: ...
    def evaluate(self, answer: str | None) -> Evaluation: ...
    def close(self) -> None: ...


class BrowserEnv(AgentEnv):
    """Drive Chromium to complete a web task.

    Observation: `text` lists the open tabs, the URL and an accessibility-tree-like outline of the
    active tab in which every element carries an id (`[12] button 'Add to cart'`, ids inside
    iframes look like `7-3`); `screenshot` is the viewport (HxWx3, with ids drawn on it when
    `set_of_marks=True`); `goal` is the task instruction.
    Actions: `click(id)`, `click_xy(x, y)`, `type(id, text)`, `press(key)`, `select(id, option)`,
    `scroll(dx, dy)`, `hover(id)`, `goto(url)`, `go_back()`, `go_forward()`, `new_tab()`,
    `switch_tab(i)`, `close_tab()`, `answer(text)`; WebArena's `click [12]` syntax is accepted too.
    Only the task's local sites are reachable: other URLs (including data:, blob: and javascript:)
    are refused as invalid actions, other requests are blocked and the episode continues.
    A reset or step that outlasts `step_deadline_ms` (a page stuck in a script) ends as env_error.
    Reward: built-in apps score 1/0 from their backend state (and the answer, for questions) when
    the episode ends; MiniWoB++ tasks give the page's own reward in [-1, 1] as soon as it finishes.
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
        miniwob_time_limit_s: float | None = None,
        **config_fields: Any,
    ):
        if not isinstance(config, BrowserConfig):
            fields = dict(config or {}) | config_fields
            if suite == "miniwob" and "viewport_width" not in fields:
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
        try:
            getattr(self, f"_do_{action.name}")(**action.args)
        except PlaywrightTimeout as error:
            self._wait_until_responsive()
            raise ActionError(f"{action.name} timed out: {_first_line(error)} (is the element hidden, disabled "
                              "or covered by another element?)") from None
        except Error as error:
            if _DEAD.search(str(error)) and action.name != "close_tab":
                raise
            raise ActionError(f"{action.name} failed: {_first_line(error)}") from None
        text = self._render()
        finished = action.name == "answer" or self.world.after_action()
        if finished and action.name != "answer":
            text = "The task page reports the episode finished.\n\n" + text
        return StepResult(text=text, done=finished)

    def _wait_until_responsive(self) -> None:
        """An action that timed out may have started a script that never yields: then this blocks until the
        step deadline ends the episode, instead of blaming the element and leaving the next step to hang."""
        try:
            self._page.evaluate("() => 0")
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
        parts.extend(self.snap.lines or ["(empty page)"])
        return "\n".join(parts)

    # ----------------------------------------------------------------- actions
    def _locate(self, element_id: str) -> Any:
        element_id = element_id.strip().strip("[]'\"")
        if not _ID.match(element_id) or element_id not in self.snap.boxes:
            raise ActionError(f"There is no element with id {element_id!r} on the page; use an id shown in brackets.")
        frame = self.snap.frame_of(element_id)
        if frame is None:
            raise ActionError(f"The frame holding element {element_id!r} is gone; look at the new page.")
        return frame.locator(f'[{ID_ATTR}="{element_id}"]')

    @property
    def _page(self) -> Page:
        assert self.session is not None
        return self.session.page

    def _do_click(self, id: str) -> None:
        self._locate(id).click()

    def _do_click_xy(self, x: float, y: float) -> None:
        if x > self.config.viewport_width or y > self.config.viewport_height:
            raise ActionError(f"({x}, {y}) is outside the {self.config.viewport_width}x"
                              f"{self.config.viewport_height} viewport.")
        self._page.mouse.click(x, y)

    def _do_type(self, id: str, text: str, enter: bool = False) -> None:
        element = self._locate(id)
        if not element.is_editable():
            raise ActionError(f"Element {id} is not a text field; type into an input, textarea or editable element.")
        element.fill("")
        element.press_sequentially(text)
        if enter:
            element.press("Enter")

    def _do_press(self, key: str) -> None:
        self._page.keyboard.press(key)

    def _do_select(self, id: str, option: str) -> None:
        element = self._locate(id)
        if element.evaluate("e => e.tagName") != "SELECT":
            raise ActionError(f"Element {id} is not a drop-down; click it instead, or select on a combobox.")
        element.select_option(option)

    def _do_scroll(self, dx: float, dy: float) -> None:
        self._page.mouse.wheel(dx, dy)

    def _do_hover(self, id: str) -> None:
        self._locate(id).hover()

    def _reachable(self, url: str) -> str:
        """`url` resolved against the current page, or an `ActionError` saying why it may not be opened."""
        assert self.session is not None
        target = urljoin(self._page.url, url.strip())
        refusal = self.session.boundary.refusal(target)
        if refusal:
            raise ActionError(refusal)
        return target

    def _do_goto(self, url: str) -> None:
        self._page.goto(self._reachable(url), wait_until="load")

    def _do_go_back(self) -> None:
        if self._page.go_back(wait_until="load") is None:
            raise ActionError("There is no previous page in this tab.")

    def _do_go_forward(self) -> None:
        if self._page.go_forward(wait_until="load") is None:
            raise ActionError("There is no next page in this tab.")

    def _do_new_tab(self, url: str = "") -> None:
        assert self.session is not None
        target = self._reachable(url) if url else ""
        page = self.session.new_page()
        if target:
            page.goto(target, wait_until="load")

    def _do_switch_tab(self, index: int) -> None:
        assert self.session is not None
        try:
            self.session.switch(index)
        except IndexError as error:
            raise ActionError(str(error)) from None

    def _do_close_tab(self) -> None:
        assert self.session is not None
        self.session.close_active()

    def _do_answer(self, text: str = "") -> None:
        self.answer = text


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
