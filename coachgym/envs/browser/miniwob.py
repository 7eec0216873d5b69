"""MiniWoB++ on coachgym's browser: the task pages shipped in the `miniwob` wheel, no Selenium.

A MiniWoB++ page generates its problem in JavaScript (`genProblem`) from `Math.random`, scores
itself and publishes the result in globals (`WOB_DONE_GLOBAL`, `WOB_RAW_REWARD_GLOBAL`). So the
adapter loads the page by file URL, seeds `Math.seedrandom` exactly as the reference Selenium env
does, starts the episode and afterwards reads the page's own verdict. The reward is the task's raw
reward in [-1, 1] (no time scaling); success means a positive reward. This module must not
judge answers itself: the page is the evaluator.

The verdict counts only from the very document that was seeded and started: it is read through a
handle to that document (whatever tab is active), so a page in another tab, a reloaded (re-rolled)
page or any other document that sets `WOB_DONE_GLOBAL` scores nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import urldefrag

import gymnasium as gym
import miniwob
from playwright.sync_api import Error, JSHandle, Page

from coachgym.envs.browser.observe import HIDE_ATTR
from coachgym.envs.browser.session import BrowserSession
from coachgym.envs.core import Evaluation, Task, TaskSuite

HTML_DIR = Path(miniwob.__file__).parent / "html"
VIEWPORT = (160, 210)  # width, height of the task area, as the reference env crops its screenshots
NO_TIME_LIMIT_MS = 2**31 - 1  # setTimeout's maximum; agents that think for minutes must not time out
PAGE_LIMIT = "page"  # keep each page's own EPISODE_MAX_TIME (10 s by default, 7-30 s on 58 pages), as the reference
LEFT_REWARD = -1.0  # leaving the task page is the agent's failure, scored as the page scores a wrong answer
TimeLimit = float | Literal["page"] | None

START_JS = """({seed, mode, maxTime}) => {
  if (maxTime !== null) core.EPISODE_MAX_TIME = maxTime;
  Math.seedrandom(seed);
  core.setDataMode(mode);
  core.startEpisodeReal();
  const display = document.getElementById('reward-display');
  if (display) display.setAttribute('""" + HIDE_ATTR + """', '');
}"""
_STATUS_JS = """(doc) => {
  const w = doc.defaultView;
  return [doc.URL, w.WOB_DONE_GLOBAL === true, Number(w.WOB_RAW_REWARD_GLOBAL), String(w.WOB_REWARD_REASON)];
}"""


class Verdict(NamedTuple):
    """What the task's own page says about the episode; `left` says how the agent left the task page."""

    done: bool = False
    raw_reward: float = 0.0
    reason: str = "None"
    left: str = ""


def _clamp(raw: float) -> float:
    """MiniWoB rewards lie in [-1, 1]; anything else (NaN included) is not a reward the page can give."""
    return max(-1.0, min(1.0, raw)) if raw == raw else 0.0


def task_names() -> list[str]:
    """The 125 MiniWoB++ tasks (the gymnasium ids the `miniwob` package registers, minus FlightWoB)."""
    names = [spec_id.split("/", 1)[1].rsplit("-v", 1)[0] for spec_id in gym.registry if spec_id.startswith("miniwob/")]
    return sorted(name for name in names if not name.startswith("flight."))


def miniwob_suite() -> TaskSuite:
    """All MiniWoB++ tasks by name (`miniwob.<name>`). Each reset draws a new problem from its seed."""
    tasks = [
        Task(
            id=f"miniwob.{name}",
            env="browser",
            goal=f"MiniWoB++ task {name} (the page states the exact instruction).",
            setup={"kind": "miniwob", "page": name},
            split="test",
            tags=["miniwob"],
            max_steps=20,
        )
        for name in task_names()
    ]
    return TaskSuite(name="miniwob", env="browser", tasks=tasks,
                     description="MiniWoB++ task pages from the `miniwob` wheel, scored by the pages themselves.")


class MiniWobWorld:
    """Runs one MiniWoB++ page per episode and reports the page's own reward.

    `time_limit_s`: None runs without a time limit (as BrowserGym does), "page" keeps each page's
    own limit (what the reference env does), a number sets that limit on every page.
    The episode ends when the page finishes it, or when the agent leaves the task page (navigates,
    reloads or closes it, or makes another tab active): that is the agent's failure (reward -1).
    """

    def __init__(self, time_limit_s: TimeLimit = None, data_mode: str = "train"):
        if time_limit_s is None:
            self.time_limit_ms: int | None = NO_TIME_LIMIT_MS
        elif time_limit_s == PAGE_LIMIT:
            self.time_limit_ms = None
        elif isinstance(time_limit_s, (int, float)) and time_limit_s > 0:
            self.time_limit_ms = int(time_limit_s * 1000)
        else:
            raise ValueError(f"miniwob_time_limit_s={time_limit_s!r}: use None (no limit), 'page' (each page's own "
                             "limit, as the reference env) or a positive number of seconds.")
        self.data_mode = data_mode
        self.verdict = Verdict()
        self.document: JSHandle | None = None
        self.session: BrowserSession | None = None
        self.task_page: Page | None = None
        self.page_url = ""

    def allowed_prefixes(self) -> list[str]:
        return [HTML_DIR.as_uri() + "/"]

    def start(self, session: BrowserSession, task: Task, seed: int) -> str:
        """Load, seed and start the task page; returns the page's instruction (utterance). A task's own
        `setup["seed"]` fixes its problem (a GUI task's layout) whatever the episode seed."""
        name = task.setup["page"]
        seed = task.setup.get("seed", seed)
        page_file = HTML_DIR / "miniwob" / f"{name}.html"
        if not page_file.is_file():
            raise FileNotFoundError(f"MiniWoB++ page {page_file} is missing; reinstall the `miniwob` package.")
        page = session.page
        page.goto(page_file.as_uri(), wait_until="load")
        page.wait_for_function("() => typeof core !== 'undefined' && core.cover_div !== null")
        page.evaluate(START_JS, {"seed": seed, "mode": self.data_mode, "maxTime": self.time_limit_ms})
        page.wait_for_function("() => WOB_TASK_READY === true")
        self.verdict = Verdict()
        self.document, self.page_url = page.evaluate_handle("document"), page_file.as_uri()
        self.session, self.task_page = session, page
        utterance = page.evaluate("() => core.getUtterance()")
        # Natural-language pages return {utterance, fields}; the instruction is the utterance, as in the reference.
        return utterance["utterance"] if isinstance(utterance, dict) else utterance

    def after_action(self) -> str | None:
        self.verdict = self._read_verdict()
        if self.verdict.left:
            return f"You left the task page ({self.verdict.left}); the episode ended as a failure."
        return "The task page reports the episode finished." if self.verdict.done else None

    def _read_verdict(self) -> Verdict:
        """The started document's own globals, while it is the active tab's document; else how it was left."""
        assert self.document is not None and self.session is not None
        if self.task_page is not None and self.task_page.is_closed():
            return Verdict(left="the task tab was closed")
        if self.session.pages and self.session.page is not self.task_page:
            return Verdict(left="another tab became the active one")
        try:
            url, done, raw, reason = self.document.evaluate(_STATUS_JS)
        except Error:
            return Verdict(left="the task page was reloaded or navigated away")
        if urldefrag(url).url != self.page_url:
            return Verdict(left=f"the task document now shows {url[:120]}, not the task")
        return Verdict(done=done, raw_reward=_clamp(raw), reason=reason)

    def evaluate(self, answer: str | None) -> Evaluation:
        verdict = self.verdict
        if verdict.left:
            return Evaluation(reward=LEFT_REWARD, success=False, detail=f"the agent left the task page: {verdict.left}")
        if not verdict.done:
            return Evaluation(reward=0.0, success=False, detail="the page did not finish the episode")
        return Evaluation(reward=verdict.raw_reward, success=verdict.raw_reward > 0,
                          detail=f"raw_reward={verdict.raw_reward}; reason={verdict.reason}")

    def close(self) -> None:
        """Nothing to release: the page lives in the env's browser session."""
