"""MiniWoB++ on coachgym's browser: the task pages shipped in the `miniwob` wheel, no Selenium.

A MiniWoB++ page generates its problem in JavaScript (`genProblem`) from `Math.random`, scores
itself and publishes the result in globals (`WOB_DONE_GLOBAL`, `WOB_RAW_REWARD_GLOBAL`). So the
adapter loads the page by file URL, seeds `Math.seedrandom` exactly as the reference Selenium env
does, starts the episode and afterwards reads the page's own verdict. The reward is the task's raw
reward in [-1, 1] (no time scaling); success means a positive reward. This module must not
judge answers itself: the page is the evaluator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import miniwob
from playwright.sync_api import Page

from coachgym.envs.browser.session import BrowserSession
from coachgym.envs.core import Evaluation, Task, TaskSuite

HTML_DIR = Path(miniwob.__file__).parent / "html"
VIEWPORT = (160, 210)  # width, height of the task area, as the reference env crops its screenshots
NO_TIME_LIMIT_MS = 2**31 - 1  # setTimeout's maximum; agents that think for minutes must not time out

START_JS = """({seed, mode, maxTime}) => {
  core.EPISODE_MAX_TIME = maxTime;
  Math.seedrandom(seed);
  core.setDataMode(mode);
  core.startEpisodeReal();
  const display = document.getElementById('reward-display');
  if (display) display.setAttribute('aria-hidden', 'true');
}"""
_STATUS_JS = "() => [WOB_DONE_GLOBAL, WOB_RAW_REWARD_GLOBAL, WOB_REWARD_GLOBAL, String(WOB_REWARD_REASON)]"


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
    """Runs one MiniWoB++ page per episode and reports the page's own reward."""

    def __init__(self, time_limit_s: float | None = None, data_mode: str = "train"):
        self.time_limit_ms = NO_TIME_LIMIT_MS if time_limit_s is None else int(time_limit_s * 1000)
        self.data_mode = data_mode
        self.status: list[Any] = [False, 0.0, 0.0, "None"]

    def allowed_prefixes(self) -> list[str]:
        return [HTML_DIR.as_uri() + "/"]

    def start(self, session: BrowserSession, task: Task, seed: int) -> str:
        """Load, seed and start the task page; returns the page's instruction (utterance)."""
        name = task.setup["page"]
        page_file = HTML_DIR / "miniwob" / f"{name}.html"
        if not page_file.is_file():
            raise FileNotFoundError(f"MiniWoB++ page {page_file} is missing; reinstall the `miniwob` package.")
        page = session.page
        page.goto(page_file.as_uri(), wait_until="load")
        page.wait_for_function("() => typeof core !== 'undefined' && core.cover_div !== null")
        page.evaluate(START_JS, {"seed": seed, "mode": self.data_mode, "maxTime": self.time_limit_ms})
        page.wait_for_function("() => WOB_TASK_READY === true")
        self.status = [False, 0.0, 0.0, "None"]
        return page.evaluate("() => core.getUtterance()")

    def after_action(self, page: Page) -> bool:
        self.status = page.evaluate(_STATUS_JS)
        return bool(self.status[0])

    def evaluate(self, answer: str | None) -> Evaluation:
        done, raw, _, reason = self.status
        if not done:
            return Evaluation(reward=0.0, success=False, detail="the page did not finish the episode")
        return Evaluation(reward=float(raw), success=float(raw) > 0, detail=f"raw_reward={raw}; reason={reason}")

    def close(self) -> None:
        """Nothing to release: the page lives in the env's browser session."""
