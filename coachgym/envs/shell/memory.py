"""The sandbox-wide memory limit, enforced from outside the sandbox by a watchdog thread.

RLIMIT_AS bounds each process, not their sum (three 1 GB processes fit under a 2 GB RLIMIT_AS),
and a cgroup memory limit needs a cgroup the host delegates, which containers often do not. So a
thread polls the sandbox's processes every `INTERVAL_S`, sums the memory they hold, and calls
`on_exceed` when the sum passes the limit. Held memory is resident anonymous and shared pages
plus memfd files kept open; files written to the writable layer are bounded by its size instead.
Between two polls a burst can pass the limit by what processes allocate in `INTERVAL_S`.

This module measures and calls back; it must not know how processes are found or stopped.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

INTERVAL_S = 0.1
SETTLE_S = 2.0  # how long killed processes get to release their memory before the sum counts again
_COUNTED = ("RssAnon:", "RssShmem:")


def held_bytes(pids: Iterable[int]) -> int:
    """Memory the processes `pids` hold together (each memfd counted once)."""
    total, memfds = 0, {}
    for pid in pids:
        total += _resident(pid)
        memfds.update(_memfds(pid))
    return total + sum(memfds.values())


def _resident(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return sum(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith(_COUNTED))


def _memfds(pid: int) -> dict[tuple[int, int], int]:
    """Allocated bytes of each memfd `pid` has open, keyed by inode."""
    found = {}
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return found
    for name in names:
        path = f"/proc/{pid}/fd/{name}"
        try:
            if os.readlink(path).startswith("/memfd:"):
                info = os.stat(path)
                found[(info.st_dev, info.st_ino)] = info.st_blocks * 512
        except OSError:
            continue
    return found


class MemoryWatchdog:
    """Calls `on_exceed()` whenever the processes `members()` returns hold more than `limit_bytes`;
    `hits` counts those calls."""

    def __init__(self, members: Callable[[], list[int]], limit_bytes: int, on_exceed: Callable[[], None]):
        self.members = members
        self.limit_bytes = limit_bytes
        self.on_exceed = on_exceed
        self.hits = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="coachgym-shell-memory", daemon=True)

    def start(self) -> MemoryWatchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _watch(self) -> None:
        while not self._stopping.wait(INTERVAL_S):
            if held_bytes(self.members()) > self.limit_bytes:
                self.hits += 1  # first, so the command that is running now reports it
                self.on_exceed()
                self._settle()

    def _settle(self) -> None:
        """Wait (at most SETTLE_S) for stopped processes to give their memory back, so the
        processes of the next command are not taken for them."""
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline and held_bytes(self.members()) > self.limit_bytes:
            if self._stopping.wait(0.02):
                return
