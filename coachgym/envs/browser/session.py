"""One Chromium per process, one isolated browser context per episode.

Playwright's sync API is bound to the thread that started it and a second `sync_playwright()`
in the same thread fails, so the process shares a single Playwright driver and a single Chromium
(`shared_browser`), relaunched transparently when it has died. Each env episode gets a fresh
`BrowserSession`: its own context (cookies, storage), its tabs, the init script the settle-wait
relies on, and the enforcement of the episode's `Boundary` (routing, proxy, WebSockets, frames;
the rules themselves live in `boundary.py`).

This module knows nothing about tasks, observations or actions; it must not sleep for fixed times.
"""

from __future__ import annotations

import atexit
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import (Browser, BrowserContext, Error, Page, Playwright, Route, WebSocketRoute,
                                  sync_playwright)
from pydantic import BaseModel, Field, model_validator

from coachgym.envs.browser.boundary import BLANK, LAUNCH_ARGS, Boundary
from coachgym.envs.browser.chromium import launch_chromium

JS_DIR = Path(__file__).parent / "js"
INIT_JS = (JS_DIR / "init.js").read_text(encoding="utf-8")
MAX_BLOCKED_URL_CHARS = 120


class BrowserConfig(BaseModel):
    """How the browser looks to the agent and how long the env waits for it."""

    viewport_width: int = Field(default=1280, ge=64, le=4096, description="CSS pixels.")
    viewport_height: int = Field(default=720, ge=64, le=4096, description="CSS pixels.")
    device_scale_factor: float = Field(default=1.0, gt=0, le=4, description="Screenshot pixels per CSS pixel.")
    headless: bool = True
    action_timeout_ms: int = Field(default=3000, description="Bound on one click/type/select to become possible.")
    navigation_timeout_ms: int = Field(default=10000, description="Bound on a page load.")
    settle_quiet_ms: int = Field(default=12, description="DOM must be this long without mutations to count as stable.")
    settle_max_ms: int = Field(default=800, description="Upper bound on waiting for the page to settle.")
    set_of_marks: bool = Field(default=False, description="Draw element ids on the screenshot (set-of-marks).")
    element_text_chars: int = Field(
        default=1000, ge=20, description="Text budget of one outline element (name, text, value); longer text "
        "ends in '…(+N chars)'.")
    outline_chars: int = Field(
        default=60_000, ge=1000, description="Budget of the whole outline; lines past it are replaced by one line "
        "saying how many were left out.")
    step_deadline_ms: int = Field(
        default=30000, ge=100,
        description="Hard bound on one reset or step (action, settle, observation); past it the page is deemed "
        "hung, its tabs are closed and the episode ends as env_error.")

    @model_validator(mode="after")
    def _deadline_covers_a_page_load(self) -> BrowserConfig:
        if self.step_deadline_ms <= self.navigation_timeout_ms + self.settle_max_ms:
            raise ValueError(f"step_deadline_ms ({self.step_deadline_ms}) must exceed navigation_timeout_ms + "
                             f"settle_max_ms ({self.navigation_timeout_ms + self.settle_max_ms}), or a slow but "
                             "healthy page load would be treated as a hung page; raise it or lower those.")
        return self

    @property
    def screenshot_shape(self) -> tuple[int, int]:
        scale = self.device_scale_factor
        return round(self.viewport_height * scale), round(self.viewport_width * scale)


class _SharedBrowser:
    """The process's Playwright driver and Chromium, started lazily and relaunched after a crash."""

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._thread: int | None = None

    def get(self, headless: bool = True) -> Browser:
        if self._thread is not None and self._thread != threading.get_ident():
            raise RuntimeError(
                "Playwright's sync API is bound to the thread that started it; run one browser env per "
                "worker process (or create all browser envs on the same thread)."
            )
        if self._playwright is None:
            self._playwright = sync_playwright().start()
            self._thread = threading.get_ident()
        if self._browser is None or not self._browser.is_connected():
            self._browser = launch_chromium(self._playwright, headless=headless, extra_args=LAUNCH_ARGS)
        return self._browser

    def restart(self) -> None:
        """Forget a browser that stopped answering; the next `get` launches a new one."""
        if self._browser is not None:
            try:
                self._browser.close()
            except Error:
                pass
        self._browser = None

    def pid(self) -> int | None:
        """Process id of the running Chromium browser process (used by crash tests and tooling)."""
        if self._browser is None or not self._browser.is_connected():
            return None
        cdp = self._browser.new_browser_cdp_session()
        try:
            info = cdp.send("SystemInfo.getProcessInfo")
        finally:
            cdp.detach()
        return next((int(p["id"]) for p in info["processInfo"] if p["type"] == "browser"), None)

    def shutdown(self) -> None:
        self.restart()
        if self._playwright is not None:
            try:
                self._playwright.stop()
            except Exception:  # noqa: BLE001 - the driver may already be gone at interpreter exit
                pass
        self._playwright = None
        self._thread = None

    @property
    def playwright(self) -> Playwright:
        self.get()
        assert self._playwright is not None
        return self._playwright


shared_browser = _SharedBrowser()
atexit.register(shared_browser.shutdown)


class BrowserSession:
    """An isolated context with tabs that can reach only `allowed_prefixes` (see `Boundary`).

    An env keeps its session across episodes (`fresh_episode` between them) and replaces it
    only when the browser died or the allow-list changed.
    """

    def __init__(self, config: BrowserConfig, allowed_prefixes: list[str]):
        self.config = config
        self.boundary = Boundary(allowed_prefixes)
        self.blocked: list[str] = []
        self.context = self._new_context()
        self.pages: list[Page] = []
        self.active = 0
        self.new_page()

    def _new_context(self) -> BrowserContext:
        options: dict[str, Any] = dict(
            viewport={"width": self.config.viewport_width, "height": self.config.viewport_height},
            device_scale_factor=self.config.device_scale_factor,
            service_workers="block",
            proxy=self.boundary.proxy(),
        )
        try:
            context = shared_browser.get(self.config.headless).new_context(**options)
        except Error:  # the browser died since the last episode: start a new one, once
            shared_browser.restart()
            context = shared_browser.get(self.config.headless).new_context(**options)
        context.set_default_timeout(self.config.action_timeout_ms)
        context.set_default_navigation_timeout(self.config.navigation_timeout_ms)
        context.add_init_script(INIT_JS)
        context.route("**/*", self._route)
        context.route_web_socket(re.compile(""), self._refuse_web_socket)
        context.on("page", self._adopt)
        return context

    def _route(self, route: Route) -> None:
        url = route.request.url
        if self.boundary.allows_request(url):
            route.fallback()
        else:
            self._block(url)
            route.abort("blockedbyclient")

    def _refuse_web_socket(self, web_socket: WebSocketRoute) -> None:
        """No task needs a WebSocket; the page sees it close without a connection ever being made."""
        self._block(web_socket.url)
        web_socket.close(code=1008, reason="WebSockets are blocked in this environment.")

    def _block(self, url: str) -> None:
        self.blocked.append(url[:MAX_BLOCKED_URL_CHARS])

    def blank_foreign_documents(self) -> None:
        """Point every frame that shows a document outside the boundary at about:blank.

        The env never opens such a URL and Chromium refuses top-level `data:` navigations from
        pages, but a page can still put `data:` or `blob:` into an iframe or open a `blob:` tab.
        """
        for page in self.pages:
            for frame in page.frames:
                if self.boundary.allows_document(frame.url):
                    continue
                self._block(frame.url)
                try:
                    frame.goto(BLANK)
                except Error:
                    if not frame.is_detached() and not page.is_closed():  # else it went away meanwhile
                        raise

    def fresh_episode(self) -> None:
        """Clear what an episode leaves behind (tabs, cookies, blocked log) without a new context.

        A new context costs ~0.5 s; closing the tabs gives every episode a fresh document anyway.
        """
        for page in list(self.pages):
            page.close()
        self.pages, self.active, self.blocked = [], 0, []
        self.context.clear_cookies()
        self.new_page()

    def _adopt(self, page: Page) -> None:
        """Popups and target=_blank links become the active tab, as in a real browser."""
        if page not in self.pages:
            self.pages.append(page)
            self.active = len(self.pages) - 1
        page.on("close", self._forget)

    def _forget(self, page: Page) -> None:
        if page in self.pages:
            index = self.pages.index(page)
            self.pages.remove(page)
            if self.active >= index and self.active > 0:
                self.active -= 1

    # ----------------------------------------------------------------- tabs
    @property
    def page(self) -> Page:
        if not self.pages:
            self.new_page()
        return self.pages[self.active]

    def new_page(self) -> Page:
        page = self.context.new_page()
        self._adopt(page)
        return page

    def switch(self, index: int) -> None:
        if not 0 <= index < len(self.pages):
            raise IndexError(f"There is no tab {index}; open tabs are 0..{len(self.pages) - 1}.")
        self.active = index
        self.pages[index].bring_to_front()

    def close_active(self) -> None:
        self.page.close()
        if not self.pages:
            self.new_page()

    def tabs(self, active_title: str | None = None) -> list[tuple[str, str]]:
        """(title, url) of each open tab, in order; `active_title` saves a round trip for the active tab."""
        return [(active_title if i == self.active and active_title is not None else _safe(page.title, ""), page.url)
                for i, page in enumerate(self.pages)]

    def take_blocked(self) -> list[str]:
        blocked, self.blocked = self.blocked, []
        return blocked

    def close(self) -> None:
        try:
            self.context.close()
        except Error:
            pass


def _safe(call: Callable[[], str], default: str) -> str:
    try:
        return call()
    except Error:
        return default
