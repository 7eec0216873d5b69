"""The one interface every database backend implements, and what they share.

A backend owns one isolated episode database at a time: `create` builds it from `Table`s and
opens the agent's restricted connection; `execute` runs one agent statement on that connection
under the statement timeout and the row and byte limits; `end_agent_session` closes that
connection when the agent's turn is over; `read_table` reads final state for evaluators through
a connection of their own, and only from a base table: it refuses (LookupError) when the agent
left a view or another object in its place, so nothing the agent wrote runs while evaluating;
`drop` removes everything the episode created. Backends must never let agent SQL, or objects the
agent made, run on a privileged connection.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from coachgym.envs.database.schema import Backend as BackendKind
from coachgym.envs.database.schema import Table, plain_row


class QueryError(Exception):
    """The database rejected or stopped a statement; `message` is what the agent is shown.

    A MariaDB/MySQL server error also keeps its parts (`code`, `sqlstate`, `reason`), so a protocol
    can word it as another driver did (AgentBench v0.2's `1054 (42S22): ...`)."""

    def __init__(self, message: str, code: int | None = None, sqlstate: str | None = None, reason: str = ""):
        super().__init__(message)
        self.message = message
        self.code, self.sqlstate, self.reason = code, sqlstate, reason


class BackendUnavailable(RuntimeError):
    """The backend cannot run here (no server configured, server down); says how to fix it."""


class Limits(BaseModel):
    """Resource limits on the agent's connection (the env's config for safety)."""

    statement_timeout_s: float = Field(default=10.0, gt=0, description="Wall-clock limit per statement.")
    max_rows: int = Field(default=1000, ge=1, description="Rows fetched per statement; the rest are dropped.")
    max_result_bytes: int = Field(default=1_000_000, ge=1, description="Size of one statement's result (text "
                                  "and blob lengths; other values count 8 each); rows are fetched one by one and "
                                  "the rest dropped once it is reached, so a huge result never reaches memory.")
    max_db_mb: int = Field(default=256, ge=1, description="SQLite size cap, for the main and for the temporary "
                           "database each (servers: disk quota is the server's job; the statement timeout bounds "
                           "runaway inserts). Evaluators refuse to read a table larger than this.")


class QueryResult(BaseModel):
    columns: list[str] = []
    rows: list[tuple] = []
    returns_rows: bool = False
    left_out: str = Field(default="", description="Why some rows are missing (the row, byte or time limit); "
                          "empty when the result is whole.")


class DatabaseBackend(ABC):
    kind: ClassVar[BackendKind]

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self._holding = False  # inside `transaction()`: statements are not committed one by one
        # Agent results keep the driver's Python values (Decimal, datetime.date) instead of `plain`
        # ones: AgentBench v0.2 showed their reprs (`Decimal('0.3333')`). Evaluator reads stay plain.
        self.native_values = False

    @abstractmethod
    def version(self) -> str:
        """Product and version, shown to the agent so it knows the SQL dialect."""

    @abstractmethod
    def create(self, tables: Sequence[Table], mysql_dialect: bool = False) -> None:
        """Drop any previous episode database, build a fresh one, open the agent connection."""

    @abstractmethod
    def execute(self, sql: str) -> QueryResult:
        """Run one agent statement; raise `QueryError` with the database's message on failure."""

    @abstractmethod
    def end_agent_session(self) -> None:
        """Close the agent's connection (its turn is over), so nothing it left open, such as a table
        lock, is held while the evaluator reads."""

    @abstractmethod
    def read_table(self, table: str, columns: Sequence[str] | None = None) -> list[tuple]:
        """All rows of the base table `table` (in `columns` order) as plain values, read by the
        evaluator's own least-privileged connection under the statement timeout.

        Raises LookupError, whose message says why, when the table is gone, is no longer a base
        table (a view, a sequence, ...), is guarded by row-level security, or is larger than
        `max_db_mb`, or when reading it outlives the timeout."""

    @abstractmethod
    def drop(self) -> None:
        """Remove the episode database and its user; safe to call twice."""

    def close(self) -> None:
        self.drop()

    @abstractmethod
    def _agent_transaction(self, command: str) -> None:
        """Run BEGIN, COMMIT or ROLLBACK on the agent's connection (a no-op when there is nothing to end)."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Agent statements run inside are one transaction that is rolled back at the end, except
        what `commit()` committed: how AgentBench v0.2's MySQL connection treated a block of several
        statements (the driver's "Commands out of sync" left it open until the reconnect rolled it back)."""
        self._agent_transaction("BEGIN")
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            self._agent_transaction("ROLLBACK")

    def restart_transaction(self, keep: bool) -> None:
        """Inside `transaction()`: commit (`keep`) or roll back what ran so far and go on in a new one."""
        self._agent_transaction("COMMIT" if keep else "ROLLBACK")
        self._agent_transaction("BEGIN")

    # ----------------------------------------------------------------- shared helpers
    def _deadline(self) -> float:
        return time.monotonic() + self.limits.statement_timeout_s

    def _take_result(self, rows: Iterable[Sequence[Any]], deadline: float) -> tuple[list[tuple], str]:
        """An agent statement's rows within `max_rows` and `max_result_bytes`; see `take_rows`."""
        return take_rows(rows, self.limits.max_rows, self.limits.max_result_bytes, deadline, self.native_values)

    def _take_table(self, table: str, rows: Iterable[Sequence[Any]], deadline: float) -> list[tuple]:
        """A whole table for the evaluator, or LookupError when it exceeds `max_db_mb` or the deadline."""
        taken, left_out = take_rows(rows, None, self.limits.max_db_mb * 1024 * 1024, deadline)
        if left_out:
            raise LookupError(f"cannot read table {table!r} for evaluation within {self.limits.max_db_mb} MB and "
                              f"{self.limits.statement_timeout_s:g} s: {left_out}")
        return taken


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str) else 8


def take_rows(
    rows: Iterable[Sequence[Any]], max_rows: int | None, max_bytes: int, deadline: float, native: bool = False
) -> tuple[list[tuple], str]:
    """Plain rows pulled one at a time until a limit is reached, and why the rest were left out.

    The caller passes a lazy iterator (an unbuffered cursor) and stops the statement when the
    reason is not empty, so rows past the limits are never fetched into memory. A first row that
    alone exceeds `max_bytes` is kept with its texts cut, so the agent still sees its start.
    With `native` the rows keep the driver's values instead of `plain` ones.
    """
    taken: list[tuple] = []
    used = 0
    for raw in rows:
        if max_rows is not None and len(taken) >= max_rows:
            return taken, f"only the first {max_rows} rows are shown"
        row = tuple(raw) if native else plain_row(raw)
        used += sum(map(_size, row))
        if used > max_bytes:
            if not taken:
                share = max(1, max_bytes // max(1, len(row)))
                taken.append(tuple(v[:share] if isinstance(v, str) else v for v in row))
            return taken, (f"the result was cut at {max_bytes:,} bytes (the result size limit); "
                           f"{len(taken)} row(s) are shown")
        taken.append(row)
        if time.monotonic() > deadline:
            return taken, f"the result was cut at the statement time limit; {len(taken)} row(s) are shown"
    return taken, ""


class Watchdog:
    """Cancels a server statement that outlives the timeout, from one long-lived helper thread.

    Server-side timeouts alone are not enough: the agent may change its own session settings
    (`SET statement_timeout = 0`), so the env also enforces the limit from outside. Use as
    `with watchdog.guard(): run statement`; `fired` tells afterwards whether it cancelled.
    """

    def __init__(self, seconds: float, cancel: Any):
        self.seconds = seconds
        self.fired = False
        self._cancel = cancel
        self._deadline: float | None = None
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def _loop(self) -> None:
        with self._wake:
            while not self._stopping:
                if self._deadline is None:
                    self._wake.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._wake.wait(left)
                    continue
                self._deadline, self.fired = None, True
                try:
                    self._cancel()
                except Exception:  # noqa: BLE001 - the statement may have just finished; nothing to cancel
                    pass

    @contextmanager
    def guard(self) -> Iterator[None]:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="coachgym-db-watchdog", daemon=True)
            self._thread.start()
        with self._wake:
            self.fired = False
            self._deadline = time.monotonic() + self.seconds
            self._wake.notify()
        try:
            yield
        finally:
            with self._wake:
                self._deadline = None

    def stop(self) -> None:
        """End the helper thread (the backend is closing)."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._stopping = False


def missing_table(table: str) -> str:
    return f"cannot read table {table!r}: it no longer exists"


def refused_object(table: str, kind: str) -> str:
    """Why evaluation will not read `table`: the agent left a `kind` (view, sequence, ...) in its place."""
    return (f"refused to read {table!r}: it is now a {kind}, not the base table the episode created; evaluation "
            "reads only base tables, so that nothing the agent defined runs while scoring")


def timeout_message(seconds: float) -> str:
    return f"Error: statement cancelled after {seconds:g} s (the statement time limit)."
