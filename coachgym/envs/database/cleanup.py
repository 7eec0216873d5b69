"""Cleanups that run however the process ends: normal exit, an exception, SIGTERM or SIGHUP.

While it runs, the database env leaves things on the host: SQLite episode folders, throwaway
server processes and their data folders. `at_exit(fn)` registers a cleanup and returns a handle
that runs it once: when the owner calls the handle (close/stop), at interpreter exit (atexit), or
when SIGTERM or SIGHUP arrives. Those two signals need a handler because their default action
ends the process without running atexit; SIGINT raises KeyboardInterrupt, so `finally` blocks
and atexit already run. After cleaning up, the handler passes the signal on (to the handler that
was installed before, else to the default action), so the process still ends as the sender meant.
Handlers are installed from the main thread only, and never over an ignored signal. A cleanup
runs only in the process that registered it, never in a forked child. SIGKILL cannot be caught.
This module must not know what it cleans up.
"""

from __future__ import annotations

import atexit
import itertools
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
_lock = threading.RLock()  # re-entrant: a signal may arrive while the main thread holds it
_pending: dict[int, tuple[int, Callable[[], None]]] = {}
_keys = itertools.count()
_previous: dict[int, Any] = {}


class Cleanup:
    """Handle to one registered cleanup; calling it runs the cleanup now, at most once."""

    def __init__(self, key: int):
        self._key = key

    def __call__(self) -> None:
        with _lock:
            entry = _pending.pop(self._key, None)
        if entry is not None:
            entry[1]()


def at_exit(cleanup: Callable[[], None]) -> Cleanup:
    """Register `cleanup` to run once at exit or on SIGTERM/SIGHUP; call the handle to run it sooner."""
    with _lock:
        key = next(_keys)
        _pending[key] = (os.getpid(), cleanup)
    _install_handlers()
    return Cleanup(key)


def run_pending() -> None:
    """Run every cleanup this process registered and has not run yet (best effort, each once)."""
    me = os.getpid()
    while True:
        with _lock:
            key = next((k for k, (pid, _) in _pending.items() if pid == me), None)
            if key is None:
                return
            _, cleanup = _pending.pop(key)
        try:
            cleanup()
        except Exception:  # noqa: BLE001 - one failed cleanup must not keep the others from running
            pass


def _on_signal(signum: int, frame: FrameType | None) -> None:
    run_pending()
    previous = _previous.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # signal.signal works only there; the next registration from the main thread installs them
    for signum in _SIGNALS:
        current = signal.getsignal(signum)
        if signum in _previous or current in (signal.SIG_IGN, None) or current is _on_signal:
            continue  # already ours, ignored (the signal will not end the process) or set outside Python
        _previous[signum] = current
        signal.signal(signum, _on_signal)


atexit.register(run_pending)
