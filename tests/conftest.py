"""Fixtures every test folder may use: throwaway MariaDB/PostgreSQL servers (one per session), the
shared `quickstart --small` run, the check for one-line CLI errors, and the release of the shared
Chromium after each module.

A server test is skipped (with the reason) only when the server binary is missing on this machine
and $CI is unset; in CI a missing server fails the run instead of silently skipping.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from coachgym.envs.database.servers import missing_reason, start_server


@pytest.fixture(scope="module", autouse=True)
def _release_shared_chromium():
    """Browser envs share one Playwright driver per process, bound to the main thread; while it runs,
    Playwright's sync API refuses to start there again (a report rendered with its own Playwright in a
    later module would fail), so every module that started it stops it."""
    yield
    session = sys.modules.get("coachgym.envs.browser.session")
    if session is not None:
        session.shared_browser.shutdown()


def free_port() -> int:
    """A loopback port nothing listens on right now, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answers(process: subprocess.Popen, url: str, ready: Callable[[int], bool] = lambda status: True,
                       output: Callable[[], str] | None = None, headers: dict | None = None,
                       seconds: float = 120) -> None:
    """Poll `url` until its HTTP status satisfies `ready`; fail with the process's output if it exits first."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode} before {url} answered:\n"
                                 f"{output() if output else process.stdout.read()}")
        try:
            if ready(httpx.get(url, headers=headers, timeout=2).status_code):
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"nothing answered at {url} within {seconds:g} s"
        time.sleep(0.2)


def stop(process: subprocess.Popen, sig: int = signal.SIGINT, group: bool = False) -> None:
    """Send `sig` (to the process group with `group`), then kill whatever is left after 20 s."""
    send = (lambda s: os.killpg(process.pid, s)) if group else process.send_signal
    send(sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait()


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _server(kind: str) -> Iterator[str]:
    reason = missing_reason(kind)
    if reason:
        if in_ci():
            pytest.fail(f"{reason}. CI is set, so a missing {kind} server is an error, not a skip.")
        pytest.skip(reason)
    server = start_server(kind)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    yield from _server("mariadb")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    yield from _server("postgres")


@pytest.fixture(scope="session")
def quickstart_small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """One `coachgym quickstart --small` run (its folder and printed output), shared by the tests that read it."""
    from typer.testing import CliRunner

    from coachgym.cli import app

    out = tmp_path_factory.mktemp("quickstart") / "qs"
    result = CliRunner().invoke(app, ["quickstart", "--small", "--out", str(out)])
    assert result.exit_code == 0, result.output
    yield out, result.output


@pytest.fixture
def one_line_error() -> Callable[[int, str], str]:
    """A check that a CLI run failed as users must see it: exit code 2, exactly one `Error:` line,
    no traceback. Takes (exit code, everything printed); returns the error line."""

    def check(exit_code: int, output: str) -> str:
        errors = [line for line in output.splitlines() if line.startswith("Error: ")]
        assert exit_code == 2 and len(errors) == 1 and "Traceback" not in output, output
        return errors[0]

    return check
