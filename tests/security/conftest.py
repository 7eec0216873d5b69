"""Servers under attack: `coachgym serve-env` and `coachgym serve-model` run as real processes
(so their memory can be read from /proc), and a large upload that is never held in memory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.conftest import free_port, stop, wait_until_answers


@dataclass
class Served:
    """A running `coachgym serve-*` process: its URL, its pid and what it printed so far."""

    url: str
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory (VmHWM): it only grows, so no spike goes unseen."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE).group(1)) / 1024

    def printed(self, pattern: str) -> str:
        match = re.search(pattern, "".join(self.output))
        assert match, f"{pattern!r} not in the server's output: {''.join(self.output)}"
        return match.group(1)


@pytest.fixture(scope="module")
def serve() -> Iterator:
    """`serve(command, *args, ready="/path", headers=...)` starts `coachgym COMMAND ARGS --port P` and
    returns a `Served` once `ready` answers (any status: it may be the 401 that proves a key is needed)."""
    started: list[Served] = []

    def start(command: str, *args: str, ready: str, environ: dict[str, str] | None = None) -> Served:
        port = free_port()
        process = subprocess.Popen([sys.executable, "-m", "coachgym.cli", command, *args, "--port", str(port)],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env=(environ or os.environ) | {"PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
        served = Served(f"http://127.0.0.1:{port}", process)
        started.append(served)
        threading.Thread(target=lambda: served.output.extend(iter(process.stdout.readline, "")), daemon=True).start()
        wait_until_answers(process, served.url + ready, output=lambda: "".join(served.output))
        return served

    yield start
    for served in started:
        stop(served.process)


@pytest.fixture
def upload():
    """`upload(mb)`: a chunked upload of `mb` MB made on the fly (the client holds 1 MB at a time)."""

    def chunks(megabytes: int = 50) -> Iterator[bytes]:
        chunk = b"A" * 2**20
        for _ in range(megabytes):
            yield chunk

    return chunks


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> str:
    from coachgym.agents.tiny import build_tiny_chat_model

    return str(build_tiny_chat_model(tmp_path_factory.mktemp("tiny-qwen2"), arch="qwen2"))
