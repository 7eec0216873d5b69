"""The in-process HTTP server and the small base class the built-in web apps share.

Each env runs its own `AppServer` (a Starlette app served by uvicorn on a background thread) on
127.0.0.1 with an ephemeral port, so parallel envs never share state. An app keeps its backend
state in an in-memory SQLite database that the task's evaluator queries directly (state, not what
the page or the agent says). Handlers run on the server's thread while the env thread evaluates,
so one lock serialises all access to app state. Nothing here may reach the network beyond the
loopback socket it listens on.

State may change only through the apps' own pages: a request that Chromium marks as coming from
another site (`Sec-Fetch-Site`, which no page can forge; a `data:` document is cross-site to
everything) is refused, so no other document can drive an app towards the evaluator's answer.
"""

from __future__ import annotations

import html
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request as HTTPRequest
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coachgym.envs.server import ThreadedServer

STATIC_DIR = Path(__file__).parent / "static"
LAYOUT = (STATIC_DIR / "layout.html").read_text(encoding="utf-8")
MAX_BODY_BYTES = 1_000_000
# Sec-Fetch-Site values of the app's own pages ("same-origin") and of the env opening a URL ("none");
# clients that are not browsers send no such header.
TRUSTED_SITES = (None, "same-origin", "none")


@dataclass
class Request:
    """What an app handler reads: the query string and the submitted form, as plain strings."""

    method: str
    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str = "") -> str:
        return self.form.get(name, self.query.get(name, default)).strip()


def redirect(location: str) -> Response:
    return RedirectResponse(location, status_code=303)


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


Handler = Callable[..., Response]


class WebApp:
    """A tiny server-rendered app: routes, an SQLite schema, seed data, and a page layout.

    `routes()` lists (method, path, handler) with Starlette path syntax (`product/{pid:int}`);
    path parameters reach the handler as keyword arguments, after the `Request`.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    schema: ClassVar[str]
    nav: ClassVar[list[tuple[str, str]]] = []

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.db = sqlite3.connect(":memory:", check_same_thread=False)

    def routes(self) -> list[tuple[str, str, Handler]]:
        raise NotImplementedError

    def seed(self, setup: dict[str, Any]) -> None:
        """Fill the fresh database for one episode from the task's setup."""
        raise NotImplementedError

    def reset(self, setup: dict[str, Any]) -> None:
        with self.lock:
            tables = [row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                self.db.execute(f'DROP TABLE "{table}"')
            self.db.executescript(self.schema)
            self.seed(setup)
            self.db.commit()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.db.execute(sql, params).fetchall()

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        with self.lock:
            cursor = self.db.execute(sql, params)
            self.db.commit()
            return int(cursor.lastrowid or 0)

    def mount(self) -> Mount:
        """The app's routes under `/<name>/`; any other path there gets the app's own "Not found" page."""
        routes: list[BaseRoute] = [Route(f"/{path}", self._endpoint(handler), methods=[method])
                                   for method, path, handler in self.routes()]
        routes.append(Route("/{path:path}", self._endpoint(self.not_found), methods=["GET", "POST"]))
        return Mount(f"/{self.name}", routes=routes)

    def _endpoint(self, handler: Handler) -> Callable[[HTTPRequest], Any]:
        async def endpoint(request: HTTPRequest) -> Response:
            body = b""
            async for chunk in request.stream():
                body += chunk
                if len(body) >= MAX_BODY_BYTES:
                    break
            form = dict(parse_qsl(body[:MAX_BODY_BYTES].decode("utf-8", "replace"), keep_blank_values=True))
            app_request = Request(request.method, dict(request.query_params), form)
            with self.lock:  # the env thread evaluates the same state
                return handler(app_request, **request.path_params)

        return endpoint

    def not_found(self, request: Request, path: str = "") -> Response:
        return self.page("Not found", "<p>There is no such page.</p>", status=404)

    def url(self, path: str = "") -> str:
        return f"/{self.name}/{path}"

    def page(self, heading: str, body: str, status: int = 200, notice: str = "") -> Response:
        nav = "".join(f'<a href="{esc(self.url(path))}">{esc(label)}</a>' for label, path in self.nav)
        notice_html = f'<p class="notice" role="status">{esc(notice)}</p>' if notice else ""
        document = (LAYOUT.replace("{{title}}", esc(f"{heading} - {self.title}"))
                    .replace("{{app}}", esc(self.title)).replace("{{home}}", esc(self.url()))
                    .replace("{{nav}}", nav).replace("{{heading}}", esc(heading))
                    .replace("{{notice}}", notice_html).replace("{{body}}", body))
        return HTMLResponse(document, status_code=status)


class AppServer:
    """Serves `/<app>/...` for each app and `/static/...` from package data."""

    def __init__(self, apps: dict[str, WebApp]):
        self.apps = apps
        routes = [Mount("/static", StaticFiles(directory=STATIC_DIR)), *(app.mount() for app in apps.values())]
        self.http = ThreadedServer(OwnPagesOnly(Starlette(routes=routes)))

    @property
    def origin(self) -> str:
        return self.http.url

    def close(self) -> None:
        self.http.stop()


class OwnPagesOnly:
    """ASGI middleware: refuses what another site's document sent (see the module docstring) and
    marks every response `no-store`, so a page always shows the app's current state."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if Headers(scope=scope).get("sec-fetch-site") not in TRUSTED_SITES:
            refused = PlainTextResponse("Refused: the apps answer only their own pages.", status_code=403)
            await refused(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_no_store)
