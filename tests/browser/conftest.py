"""Shared browser-env fixtures: one env per test module (the Chromium process is shared anyway)."""

from __future__ import annotations

import pytest

from coachgym.envs.browser import BrowserEnv


@pytest.fixture(scope="module")
def app_env():
    env = BrowserEnv(suite="browser", viewport_width=800, viewport_height=600)
    yield env
    env.close()


@pytest.fixture(scope="module")
def miniwob_env():
    env = BrowserEnv(suite="miniwob")
    yield env
    env.close()


class LocalPage:
    """A real browser session on pages a test writes into its own folder, driven by parsed action text.

    For page behaviour no built-in app or MiniWoB page has (file inputs, shadow DOM, drag targets):
    the actions go through the same parser, `Performer` and outline as in `BrowserEnv`.
    """

    def __init__(self, folder, **config):
        from coachgym.envs.browser.session import BrowserConfig, BrowserSession

        self.folder = folder
        self.config = BrowserConfig(**({"viewport_width": 400, "viewport_height": 300} | config))
        self.session = BrowserSession(self.config, [folder.as_uri() + "/"])
        self.count = 0

    def open(self, body: str, head: str = "") -> str:
        from coachgym.envs.browser.observe import snapshot

        self.count += 1
        path = self.folder / f"page{self.count}.html"
        path.write_text(f"<!doctype html><html><head>{head}</head><body>{body}</body></html>", encoding="utf-8")
        self.session.page.goto(path.as_uri())
        self.snap = snapshot(self.session.page, self.config)
        return self.text

    @property
    def text(self) -> str:
        return "\n".join(self.snap.lines)

    def act(self, action: str) -> str:
        """Run the action text; returns the new outline after the notes of actions the page cut short, as the
        env does (raises `ActionError` like the env would report)."""
        from coachgym.envs.browser.actions import BROWSER_ACTIONS
        from coachgym.envs.browser.observe import snapshot
        from coachgym.envs.browser.perform import Performer

        parsed = BROWSER_ACTIONS.parse(action)
        notes = [Performer(self.session, self.snap, self.config).run(single)
                 for single in (parsed.args["actions"] if parsed.name == "sequence" else [parsed])]
        self.snap = snapshot(self.session.page, self.config)
        return "\n\n".join([*filter(None, notes), self.text])

    def id(self, role: str, name: str) -> str:
        from coachgym.envs.browser.expert import find_element

        found = find_element(self.text, role, name)
        assert found, f"no {role} {name!r} in:\n{self.text}"
        return found

    def js(self, expression: str):
        return self.session.page.evaluate(expression)


@pytest.fixture(scope="module")
def local_page(tmp_path_factory):
    page = LocalPage(tmp_path_factory.mktemp("pages"))
    yield page
    page.session.close()
