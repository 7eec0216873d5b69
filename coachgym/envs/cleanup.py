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
Pending cleanups run by `priority` (highest first), then newest first as atexit does. An owner
that closes things which still need the others registers with a higher priority: a worker's
player closes its envs before the throwaway servers those envs started on first use go away.
A signal that arrives while a cleanup runs on the main thread (where Python runs signal handlers)
is handled when that cleanup returns; handled at once, it would end the process halfway through it.
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
_pending: dict[int, tuple[int, int, Callable[[], None]]] = {}  # key -> (pid, priority, cleanup)
_keys = itertools.count()
_previous: dict[int, Any] = {}
_main_depth = 0  # cleanups now running on the main thread, which a signal handler would interrupt
_deferred: list[tuple[int, FrameType | None]] = []


class Cleanup:
    """Handle to one registered cleanup; calling it runs the cleanup now, at most once."""

    def __init__(self, key: int):
        self._key = key

    def __call__(self) -> None:
        with _lock:
            entry = _pending.pop(self._key, None)
        if entry is not None:
            _run(entry[2])


def at_exit(cleanup: Callable[[], None], priority: int = 0) -> Cleanup:
    """Register `cleanup` to run once at exit or on SIGTERM/SIGHUP; call the handle to run it sooner."""
    with _lock:
        key = next(_keys)
        _pending[key] = (os.getpid(), priority, cleanup)
    _install_handlers()
    return Cleanup(key)


def run_pending() -> None:
    """Run every cleanup this process registered and has not run yet, in order (best effort, each once)."""
    me = os.getpid()
    while True:
        with _lock:
            mine = [(priority, k) for k, (pid, priority, _) in _pending.items() if pid == me]
            if not mine:
                return
            _, _, cleanup = _pending.pop(max(mine)[1])
        try:
            _run(cleanup)
        except Exception:  # noqa: BLE001 - one failed cleanup must not keep the others from running
            pass


def _run(cleanup: Callable[[], None]) -> None:
    global _main_depth
    on_main = threading.current_thread() is threading.main_thread()
    _main_depth += on_main
    try:
        cleanup()
    finally:
        _main_depth -= on_main
        if on_main and not _main_depth and _deferred:
            _on_signal(*_deferred.pop())


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if _main_depth:  # this handler interrupted a cleanup: it finishes first, then _run calls us again
        _deferred.append((signum, frame))
        return
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
