"""What every sandbox backend offers the shell env.

A sandbox is one isolated Linux system for one episode: a persistent bash session (`run`),
independent script processes inside the same system (`run_script`, AgentBench's
`docker exec bash -c`), and `snapshot`, which freezes the agent's files so evaluators can read
them in a separate sandbox where nothing the agent left running can interfere.

This module holds the interface only (`backends.open_sandbox` picks the backend, which imports it);
it must not build namespaces.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from coachgym.envs.shell.config import SandboxConfig
from coachgym.envs.shell.session import CommandResult, ShellSession

_SCRIPT_RUNNERS = {"bash": "bash", "python": "python", "python3": "python"}


class SandboxUnavailable(RuntimeError):
    """The backend cannot run on this machine; the message says what to install or change."""


class Sandbox(ABC):
    """One isolated system with a persistent shell. Use as a context manager or call `close`."""

    def __init__(self, config: SandboxConfig):
        self.config = config
        self.session: ShellSession | None = None

    @abstractmethod
    def start(self) -> Sandbox:
        """Create the system and its shell; returns self."""

    @abstractmethod
    def snapshot(self) -> Sandbox:
        """Stop this sandbox and return a started one for evaluators: it sees this one's files
        (writes there are thrown away), nothing that ran here keeps running there, and (bwrap)
        the programs and libraries it runs are the base's, not ones the agent replaced."""

    @abstractmethod
    def close(self) -> None:
        """Kill every process and remove every trace; safe to call twice."""

    # ----------------------------------------------------------------- shared behaviour
    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        """Run `command` in the persistent session (its `cd`, variables and jobs survive)."""
        return self._session_run([command], "command", timeout)

    def run_script(self, language: str, code: str, args: Sequence[str] = (), timeout: float | None = None
                   ) -> CommandResult:
        """Run `code` as its own `bash -c` / `python3 -c` process with `args` as argv."""
        runner = _SCRIPT_RUNNERS.get(language.lower())
        if runner is None:
            raise ValueError(f"Unsupported script language {language!r}; use bash or python.")
        return self._session_run([code, *args], runner, timeout)

    def _session_run(self, values: list[str], runner: str, timeout: float | None) -> CommandResult:
        if self.session is None:
            raise RuntimeError("The sandbox is not started (call start()).")
        mark = self._mark()
        result = self.session.run(values, runner, timeout or self.config.timeout_s, mark)
        if self._hit_memory_limit():
            result.notes.append(f"[the sandbox's processes held more than {self.config.max_memory_mb} MB of memory "
                                "together; they were stopped]")
        if result.session_ended:
            self._restart_session()
        elif self._hit_process_limit(mark):
            result.notes.append(f"[the sandbox reached its limit of {self.config.max_processes} processes; "
                                "every process except the shell was stopped]")
        return result

    def wait_settled(self, max_wait_s: float = 2.0) -> None:
        """Wait until processes started in the background stop appearing or changing, as they
        would while a model thinks about its first command (no-op where it cannot be seen)."""

    def stop_processes(self) -> None:
        """Kill every process in the system except the session shell (no-op where it cannot)."""

    def _mark(self) -> int:
        """Called as each command starts; `_hit_process_limit` and timeouts get the value back."""
        return 0

    def _hit_process_limit(self, mark: int) -> bool:
        """True (after stopping every process but the shell) when the command ran into the process limit."""
        return False

    def _hit_memory_limit(self) -> bool:
        """True when the memory limit stopped processes since the previous command."""
        return False

    @abstractmethod
    def _restart_session(self) -> None:
        """Replace a dead or stuck shell with a fresh one in the same system."""

    def __enter__(self) -> Sandbox:
        return self.start() if self.session is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()
