"""The front door of coachgym's HTTP servers (`coachgym serve-env`, `coachgym serve-model`).

FastAPI reads and parses a request body before it runs any dependency, so a token check written
as a dependency comes too late: a client without the token could still make the server buffer a
300 MB upload. `Gate` sits in front of the app instead: it checks the bearer token from the
headers and bounds the body size before the app reads a single body byte. Refusals go through
the app's own HTTPException handler, so they look like the app's other errors. This module must
not parse bodies or know about routes.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Gate:
    """ASGI middleware: 401 without `Authorization: Bearer <token>` (when a token is set), 413 for a
    body over `max_body_bytes`, judged by its Content-Length or, for a chunked upload, as soon as
    the bytes read pass the limit."""

    def __init__(self, app: ASGIApp, token: str | None, max_body_bytes: int, refusal: str,
                 handlers: dict[Any, Any]):
        self.app, self.max_body_bytes, self.refusal, self.handlers = app, max_body_bytes, refusal, handlers
        self.expected = f"Bearer {token}".encode() if token else None
        self.too_large = (f"The request body is larger than this server's limit of {max_body_bytes:,} bytes; send "
                          "less (e.g. smaller screenshots) or start the server with a larger --max-body-mb.")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if self.expected is not None and not hmac.compare_digest(headers.get(b"authorization", b""), self.expected):
            await self._refuse(scope, receive, send, HTTPException(401, self.refusal, {"WWW-Authenticate": "Bearer"}))
            return
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_body_bytes:
            await self._refuse(scope, receive, send, HTTPException(413, self.too_large))
            return
        received = 0

        async def capped() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:  # a chunked upload has no Content-Length to judge by
                raise HTTPException(413, self.too_large)
            return message

        await self.app(scope, capped, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, error: HTTPException) -> None:
        response = await self.handlers[StarletteHTTPException](Request(scope, receive), error)
        await response(scope, receive, send)


def install_gate(app: FastAPI, token: str | None, max_body_bytes: int, refusal: str) -> None:
    """Put a `Gate` in front of `app`; `token=None` lets every caller in. `refusal` is the 401
    message: how to send the right token."""
    app.add_middleware(Gate, token=token, max_body_bytes=max_body_bytes, refusal=refusal,
                       handlers=app.exception_handlers)
