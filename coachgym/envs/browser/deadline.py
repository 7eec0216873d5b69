"""A hard wall-clock bound on a block of sync Playwright calls.

Playwright bounds clicks and navigations with timeouts, but `evaluate`, `title`, the mouse and
the keyboard wait for the renderer without limit, and a page stuck in `while (true) {}` never
answers: one such page would block `step()` forever. While a sync call waits, Playwright runs its
asyncio loop in a dispatcher greenlet (and marks that loop as the thread's running loop between
calls). A timer on that loop throws into the waiting greenlet, the same way Playwright delivers
a signal (pytest-timeout, Ctrl+C) that fires mid-call: the call is abandoned and the connection
stays usable, so the caller can then close the hung page.

This module only interrupts; deciding what to close afterwards belongs to the caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import greenlet


class DeadlineExceeded(RuntimeError):
    """The block did not finish in time; the Playwright call it was waiting on was abandoned."""


@contextmanager
def deadline(seconds: float, message: str) -> Iterator[None]:
    """Run the block, raising `DeadlineExceeded(message)` from whichever sync call is waiting at `seconds`.

    Must be used on the thread that drives Playwright, after Playwright has started.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError("deadline() needs a started Playwright sync API on this thread; start the browser "
                           "(e.g. create the BrowserSession) before bounding calls with it.") from None
    waiter = greenlet.getcurrent()

    def expire() -> None:
        # Runs inside the loop, so `waiter` is suspended in a sync call right now.
        if not waiter.dead:
            waiter.throw(DeadlineExceeded(message))

    timer = loop.call_later(seconds, expire)
    try:
        yield
    finally:
        timer.cancel()
