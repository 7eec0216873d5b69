"""The persistent bash session inside a sandbox, and the wire protocol that drives it.

One `bash` process lives for the whole episode, so `cd`, variables, functions and background
jobs survive between actions. The host writes requests to its stdin; the command's stdout and
stderr come back merged on the session's stdout; a completion line (`CGDONE <nonce> <status>`)
comes back on the session's stderr, a channel the command's own output never uses. The nonce is
fresh for every request and appears only in the request's last line, which bash has already
read when the command starts: it is in the shell's memory and nowhere else (not in a pipe, a
file or a variable), so a line a command forges on any channel ends nothing. The backend keeps
the rest out of reach: programs a command runs inherit none of the session's channels, and
cannot read the shell's memory or copy its descriptors (see bwrap.py). A command that reads
stdin gets /dev/null instead of swallowing the next request.

Every piece of text (agent command, init script, checker argument) crosses into bash as the body
of a quoted here-document read with the `read` builtin, so bash treats it as data; only an agent
*command* is then run with `eval`, which is the point of a shell env. Nothing here evaluates text
in Python. A random per-session delimiter keeps here-documents from being closed early.

This module must not know how the sandbox is built (bwrap, docker): backends pass in the process,
its channels, and a hook that stops a timed-out command's processes.
"""

from __future__ import annotations

import os
import secrets
import selectors
import subprocess
import time
import re
from collections.abc import Callable
from typing import Literal, Protocol

from pydantic import BaseModel

from coachgym.envs.shell.config import SandboxConfig

KEEP_OUTPUT_BYTES = 1 << 20  # what a command may return; the env shows far less to the agent
_KEEP_PROTOCOL_BYTES = 4096  # of unrecognised protocol-channel text, while waiting for the completion line
Runner = Literal["command", "bash", "python"]
# bash's own report of the processes the timeout killed; the env says "timed out" instead.
_KILLED_REPORT = re.compile(rb"^[^\n]*line \d+: +\d+ Killed[^\n]*\n?", re.MULTILINE)

_RUNNERS: dict[str, str] = {
    # The agent's command runs in the session itself (state survives); `return 124` from the
    # USR1 trap is how a timed-out command is abandoned without killing the session.
    "command": '__cg_run </dev/null 2>&1',
    # Scripts run as independent processes, as `docker exec bash -c` does in AgentBench.
    "bash": 'bash -c "${__cg_v[0]}" -- "${__cg_v[@]:1}" </dev/null 2>&1',
    # -I: no script folder or user site on sys.path, no PYTHON* variables (files the agent left
    # in the working directory or ~/.local are not imported by a checker).
    "python": 'python3 -I -c "${__cg_v[0]}" "${__cg_v[@]:1}" </dev/null 2>&1',
}


class Channel(Protocol):
    """A pipe end or socket the session reads or writes by file descriptor."""

    def fileno(self) -> int: ...

    def close(self) -> None: ...


class CommandResult(BaseModel):
    output: str
    exit_code: int | None = None
    timed_out: bool = False
    session_ended: bool = False
    notes: list[str] = []  # what the sandbox did about the command (limits hit); never truncated


class SessionDied(RuntimeError):
    """The bash process ended (the command ran `exit`, or its limits killed it)."""


def bootstrap(config: SandboxConfig, nproc_limit: int | None) -> str:
    """Session set-up: hard limits the agent cannot raise, the runner function, the trap."""
    limits = [
        f"ulimit -H -S -v {config.max_memory_mb * 1024}",
        f"ulimit -H -S -t {config.max_cpu_s}",
        f"ulimit -H -S -f {config.max_file_mb * 1024}",
    ]
    if nproc_limit is not None:
        limits.append(f"ulimit -H -S -u {nproc_limit}")
    return "\n".join(
        [
            *limits,
            '__cg_run() { eval "${__cg_v[0]}"; }',
            "trap 'return 124 2>/dev/null' USR1",
            "printf 'CGREADY %s\\n' \"$$\" >&2",
            "",
        ]
    )


class ShellSession:
    """Talks to one running bash process; see the module docstring for the protocol."""

    def __init__(self, process: subprocess.Popen, on_timeout: Callable[[int], None],
                 channels: tuple[Channel, Channel, Channel] | None = None):
        """`channels` are the shell's stdin, stdout and stderr as seen from here (default: the
        process's pipes). On a timeout, `on_timeout(mark)` must stop the processes started since
        `mark` (the value the backend passed to `run`) and send the shell SIGUSR1."""
        self.process = process
        self.on_timeout = on_timeout
        self.requests, self.output, self.protocol = channels or (process.stdin, process.stdout, process.stderr)
        self.delimiter = "__CG_EOF_" + secrets.token_hex(8)
        self.shell_pid: int | None = None  # the session's pid as the sandbox sees it
        self._err = b""
        self._selector = selectors.DefaultSelector()
        for stream in (self.output, self.protocol):
            os.set_blocking(stream.fileno(), False)
            self._selector.register(stream, selectors.EVENT_READ)

    # ----------------------------------------------------------------- requests
    def wait_ready(self, script: str, timeout: float) -> None:
        self._write(script)
        deadline = time.monotonic() + timeout
        while b"CGREADY" not in self._err:
            if not self._pump(deadline, bytearray()):
                raise SessionDied(self._death_message("while starting"))
            if time.monotonic() >= deadline:
                raise TimeoutError(f"The sandbox shell did not start within {timeout:.0f} s.")
        line = self._err.split(b"CGREADY", 1)[1].split(b"\n", 1)[0]
        self.shell_pid = int(line.strip() or 0)
        self._err = b""

    def run(self, values: list[str], runner: Runner, timeout: float, mark: int = 0) -> CommandResult:
        """Send `values` (code first, then arguments) and run them with `runner`."""
        nonce = secrets.token_hex(16)
        body = ["__cg_v=()"]
        for value in values:
            value = value.replace("\0", "")
            body += [f"IFS= read -r -d '' __cg_x <<'{self.delimiter}'", value, self.delimiter,
                     "__cg_v+=(\"${__cg_x%$'\\n'}\")"]
        body.append(f"{_RUNNERS[runner]}; printf 'CGDONE {nonce} %s\\n' \"$?\" >&2")
        self._write("\n".join(body) + "\n")
        output = bytearray()
        deadline = time.monotonic() + timeout
        timed_out = False
        while True:
            status = self._done(nonce)
            if status is not None:
                self._drain(output)
                if timed_out:
                    output = _KILLED_REPORT.sub(b"", bytes(output))
                return CommandResult(output=_decode(output), exit_code=status, timed_out=timed_out)
            if not self._pump(deadline, output):
                return CommandResult(output=_decode(output), timed_out=timed_out, session_ended=True)
            if time.monotonic() >= deadline:
                if timed_out:  # the trap did not bring the shell back: give the session up
                    return CommandResult(output=_decode(output), timed_out=True, session_ended=True)
                timed_out = True
                self.on_timeout(mark)
                deadline = time.monotonic() + 2.0

    # ----------------------------------------------------------------- plumbing
    def _write(self, text: str) -> None:
        data = memoryview(text.encode("utf-8", errors="replace"))
        try:
            while data:
                data = data[os.write(self.requests.fileno(), data):]
        except (ValueError, OSError) as error:
            raise SessionDied(self._death_message(f"({error})")) from None

    def _pump(self, deadline: float, output: bytearray) -> bool:
        """Read what is ready until the deadline; False once the session has closed its output."""
        wait = max(0.0, deadline - time.monotonic())
        events = self._selector.select(timeout=min(wait, 0.5))
        for key, _ in events:
            chunk = _read(key.fileobj)
            if chunk is None:
                continue
            if not chunk:
                return False
            if key.fileobj is self.protocol:
                self._err += chunk
            elif len(output) < KEEP_OUTPUT_BYTES:
                output += chunk[: KEEP_OUTPUT_BYTES - len(output)]
        return True

    def discard_pending_output(self) -> None:
        """Drop output already written by processes that were just killed."""
        self._drain(bytearray())

    def _drain(self, output: bytearray) -> None:
        chunk = _read(self.output)
        while chunk:
            if len(output) < KEEP_OUTPUT_BYTES:
                output += chunk[: KEEP_OUTPUT_BYTES - len(output)]
            chunk = _read(self.output)

    def _done(self, nonce: str) -> int | None:
        marker = f"CGDONE {nonce} ".encode()
        if marker not in self._err:
            self._err = self._err[-_KEEP_PROTOCOL_BYTES:]  # whatever else arrives there is noise
            return None
        tail = self._err.split(marker, 1)[1]
        if b"\n" not in tail:
            return None
        status, rest = tail.split(b"\n", 1)
        self._err = rest
        return int(status.strip() or -1)

    def _death_message(self, when: str) -> str:
        code = self.process.poll()
        detail = self._err.decode("utf-8", errors="replace").strip()[-400:]
        return f"The sandbox shell ended {when} (exit status {code}). {detail}".strip()

    def close(self) -> None:
        self._selector.close()
        for stream in (self.requests, self.output, self.protocol):
            try:
                stream.close()
            except OSError:
                pass


def _read(stream: Channel) -> bytes | None:
    try:
        return os.read(stream.fileno(), 65536)
    except BlockingIOError:
        return None
    except OSError:
        return b""


def _decode(data: bytes | bytearray) -> str:
    return bytes(data).decode("utf-8", errors="replace")
