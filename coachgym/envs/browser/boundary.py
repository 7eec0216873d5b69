"""What a browser episode may reach: the documents and sockets of the task's own sites, nothing else.

An agent under RL pressure will take any shortcut to reward, so no document it writes may ever
load (a `data:` page can set MiniWoB's reward globals or post to an app's cart) and no page may
talk to anything but the task's sites (WebRTC's TURN once delivered bytes to another loopback
port). `Boundary` is the one allow-list; `session.py` enforces it at each layer a document or a
connection could slip through:

- the env refuses to open any other URL (`Boundary.refusal`), so `data:`, `blob:`, `javascript:`
  and `file:` outside the task never load at the agent's request;
- request routing aborts every other http(s)/file request, and a frame that still ends up on
  another document (an `<iframe src="data:...">`, a `blob:` the page made) is blanked;
- the context's proxy is a port that refuses every connection, bypassed only by the allowed
  origins, so what routing cannot see (preconnects, WebSocket, TURN over TCP) reaches no socket;
- Chromium keeps WebRTC off UDP unless it goes through that proxy, i.e. always;
- WebSockets are closed before they connect.

This module decides and explains; it must not touch pages or contexts itself.
"""

from __future__ import annotations

import re
import socket
from functools import cache
from urllib.parse import urljoin, urlsplit

# Browser-wide: WebRTC may use UDP only through the proxy (which refuses everything), and the
# policy cannot be relaxed by a page or by preferences.
LAUNCH_ARGS = ("--force-webrtc-ip-handling-policy", "--webrtc-ip-handling-policy=disable_non_proxied_udp")
BLANK = "about:blank"
# Documents the browser makes itself: empty tabs and frames, srcdoc frames (written by the page,
# never by the agent) and the error page a blocked navigation leaves behind.
BROWSER_DOCUMENTS = (BLANK, "about:srcdoc", "chrome-error://chromewebdata/")
_SELF_CONTAINED = ("data", "blob", "javascript", "filesystem")


class Boundary:
    """The URL prefixes (origins with a trailing slash, or a `file:` folder) one episode may reach."""

    def __init__(self, prefixes: list[str]):
        for prefix in prefixes:
            if not prefix.endswith("/") or urlsplit(prefix).scheme not in ("http", "https", "file"):
                raise ValueError(f"Allowed prefix {prefix!r} must be an http(s) origin or file: folder ending in '/'.")
        self.prefixes = tuple(prefixes)

    def allows_request(self, url: str) -> bool:
        """Whether Chromium may fetch `url` (routing sees the canonical URL, dot segments resolved)."""
        return url.startswith(self.prefixes)

    def allows_document(self, url: str) -> bool:
        """Whether a frame may show `url`; "" is a frame that has not committed a document yet."""
        return url in ("", *BROWSER_DOCUMENTS) or self.allows_request(url)

    def refusal(self, url: str) -> str | None:
        """Why the agent may not open `url`, or None when it may (the task's sites and blank tabs)."""
        if url == BLANK or self.allows_request(_as_loaded(url)):
            return None
        scheme = urlsplit(url).scheme.lower()
        why = (f"{scheme}: URLs carry their own document or script, and no such document is opened here."
               if scheme in _SELF_CONTAINED else "it is not one of this task's sites.")
        return f"{url[:200]} is blocked: {why} Only these sites are reachable: {', '.join(self.prefixes)}"

    def proxy(self) -> dict[str, str]:
        """Playwright context proxy: every connection goes to a refusing port unless it is to an allowed origin.

        `<-loopback>` removes Chromium's implicit bypass for 127.0.0.1/localhost, so other local
        ports are proxied (and refused) too.
        """
        hosts = [urlsplit(prefix).netloc for prefix in self.prefixes if urlsplit(prefix).scheme in ("http", "https")]
        port = _refusing_socket().getsockname()[1]
        return {"server": f"http://127.0.0.1:{port}", "bypass": ",".join(["<-loopback>", *hosts])}


def _as_loaded(url: str) -> str:
    """`url` with its dot segments resolved as Chromium resolves them (also when spelt `%2e` or with
    backslashes), so `<allowed folder>/%2e%2e/...` is judged where it lands. Only for judging: routing
    still checks the URL Chromium actually requests."""
    if urlsplit(url).scheme.lower() not in ("http", "https", "file"):
        return url
    spelt = re.sub("%2e", ".", url.replace("\\", "/"), flags=re.IGNORECASE)
    return urljoin(spelt, spelt)


@cache
def _refusing_socket() -> socket.socket:
    """A loopback socket that is bound for the process's lifetime but never listens.

    Connecting to its port is refused at once, and holding the port keeps any other process from
    taking it, so the proxy can never turn into a real server.
    """
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    return holder
