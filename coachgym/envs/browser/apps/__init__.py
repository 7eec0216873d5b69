"""The built-in local web apps (shop, webmail, booking forms) and the world that serves them.

`AppWorld` starts one in-process HTTP server per env, resets the task's app to the state the
task's setup describes, opens its start page and scores the episode from the app's backend state.
"""

from __future__ import annotations

from coachgym.envs.browser.apps.booking import BookingApp
from coachgym.envs.browser.apps.evaluate import check
from coachgym.envs.browser.apps.mail import MailApp
from coachgym.envs.browser.apps.server import AppServer, WebApp
from coachgym.envs.browser.apps.shop import ShopApp
from coachgym.envs.browser.session import BrowserSession
from coachgym.envs.core import Evaluation, Task

APP_CLASSES: dict[str, type[WebApp]] = {"shop": ShopApp, "mail": MailApp, "booking": BookingApp}


class AppWorld:
    """Serves the apps for one env; a task's `setup` names its app, start path and initial state."""

    def __init__(self) -> None:
        self.apps = {name: cls() for name, cls in APP_CLASSES.items()}
        self.server = AppServer(self.apps)
        self.task: Task | None = None

    def allowed_prefixes(self) -> list[str]:
        return [self.server.origin + "/"]

    def start(self, session: BrowserSession, task: Task, seed: int) -> None:
        app = task.setup["app"]
        if app not in self.apps:
            raise ValueError(f"Task {task.id!r} names unknown app {app!r}; apps: {', '.join(self.apps)}.")
        self.apps[app].reset(task.setup)
        self.task = task
        session.page.goto(self.server.origin + task.setup.get("start", f"/{app}/"), wait_until="load")

    def after_action(self) -> str | None:
        return None  # app tasks end when the agent answers; the evaluator then reads the state

    def evaluate(self, answer: str | None) -> Evaluation:
        assert self.task is not None
        passed, detail = check(self.task.evaluator, self.apps, answer)
        return Evaluation(reward=float(passed), success=passed, detail=detail)

    def close(self) -> None:
        self.server.close()
