"""The in-process HTTP server and the small base class the built-in web apps share.

Each env runs its own `AppServer` on 127.0.0.1 with an ephemeral port, so parallel envs never
share state. An app keeps its backend state in an in-memory SQLite database that the task's
evaluator queries directly (state, not what the page or the agent says). Handlers run on the
server's threads while the env thread evaluates, so one lock serialises all access to app state.
Nothing here may reach the network beyond the loopback socket it listens on.

It is the standard library's `http.server`, not Starlette on uvicorn: tried (issue 21), uvicorn's
event-loop thread answered an in-process request in 0.9-8 ms (bimodal, GIL-bound) against 1-2 ms
here, and page loads given a 1 s budget (tests/security, hung pages) failed more often.

State may change only through the apps' own pages: a request that Chromium marks as coming from
another site (`Sec-Fetch-Site`, which no page can forge; a `data:` document is cross-site to
everything) is refused, so no other document can drive an app towards the evaluator's answer.
"""

from __future__ import annotations

import html
import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

STATIC_DIR = Path(__file__).parent / "static"
LAYOUT = (STATIC_DIR / "layout.html").read_text(encoding="utf-8")
MAX_BODY_BYTES = 1_000_000
# Sec-Fetch-Site values of the app's own pages ("same-origin") and of the env opening a URL ("none");
# clients that are not browsers send no such header.
TRUSTED_SITES = (None, "same-origin", "none")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str = "") -> str:
        return self.form.get(name, self.query.get(name, default)).strip()


@dataclass
class Response:
    body: str | bytes = ""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    location: str | None = None


def redirect(location: str) -> Response:
    return Response(status=303, location=location)


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


Handler = Callable[..., Response]


class WebApp:
    """A tiny server-rendered app: routes, an SQLite schema, seed data, and a page layout."""

    name: ClassVar[str]
    title: ClassVar[str]
    schema: ClassVar[str]
    nav: ClassVar[list[tuple[str, str]]] = []

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self._routes = [(method, re.compile(f"^{pattern}$"), handler) for method, pattern, handler in self.routes()]

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

    def handle(self, request: Request) -> Response:
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                with self.lock:
                    return handler(request, *match.groups())
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
        return Response(body=document, status=status)


class AppServer:
    """Serves `/<app>/...` for each app and `/static/...` from package data, on a daemon thread."""

    def __init__(self, apps: dict[str, WebApp]):
        self.apps = apps
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(apps))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="coachgym-apps", daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler_class(apps: dict[str, WebApp]) -> type[BaseHTTPRequestHandler]:
    class AppHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            form: dict[str, str] = {}
            if self.headers.get("Sec-Fetch-Site") not in TRUSTED_SITES:
                self._send(Response("Refused: the apps answer only their own pages.", status=403,
                                    content_type="text/plain; charset=utf-8"))
                return
            if method == "POST":
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
                form = dict(parse_qsl(self.rfile.read(length).decode("utf-8", "replace"), keep_blank_values=True))
            app_name, _, rest = parts.path.lstrip("/").partition("/")
            if app_name == "static":
                response = _static(rest)
            elif app_name in apps:
                request = Request(method, rest.strip("/"), dict(parse_qsl(parts.query, keep_blank_values=True)), form)
                response = apps[app_name].handle(request)
            else:
                response = Response("<h1>Not found</h1>", status=404)
            self._send(response)

        def _send(self, response: Response) -> None:
            body = response.body.encode("utf-8") if isinstance(response.body, str) else response.body
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            if response.location:
                self.send_header("Location", response.location)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence per-request logging
            return

    return AppHandler


def _static(name: str) -> Response:
    path = (STATIC_DIR / name).resolve()
    if STATIC_DIR.resolve() not in path.parents or not path.is_file():
        return Response("not found", status=404, content_type="text/plain")
    types = {".css": "text/css", ".js": "text/javascript", ".html": "text/html; charset=utf-8"}
    return Response(path.read_bytes(), content_type=types.get(path.suffix, "application/octet-stream"))
