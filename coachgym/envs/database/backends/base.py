"""The one interface every database backend implements, and what they share.

A backend owns one isolated episode database at a time: `create` builds it from `Table`s and
opens the agent's restricted connection; `execute` runs one agent statement on that connection
under the statement timeout and row limit; `read_table` reads final state through a separate,
privileged path for evaluators (so temporary tables or session settings the agent made cannot
fool them); `drop` removes everything the episode created. Backends must never let agent SQL
run on a privileged connection.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from coachgym.envs.database.schema import Backend as BackendKind
from coachgym.envs.database.schema import Table, plain_row


class QueryError(Exception):
    """The database rejected or stopped a statement; `message` is what the agent is shown."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BackendUnavailable(RuntimeError):
    """The backend cannot run here (no server configured, server down); says how to fix it."""


class Limits(BaseModel):
    """Resource limits on the agent's connection (the env's config for safety)."""

    statement_timeout_s: float = Field(default=10.0, gt=0, description="Wall-clock limit per statement.")
    max_rows: int = Field(default=1000, ge=1, description="Rows fetched per statement; the rest are dropped.")
    max_db_mb: int = Field(default=256, ge=1, description="SQLite database size cap (servers: disk quota "
                           "is the server's job; the statement timeout bounds runaway inserts).")


class QueryResult(BaseModel):
    columns: list[str] = []
    rows: list[tuple] = []
    returns_rows: bool = False
    more_rows: bool = Field(default=False, description="The statement returned more than `max_rows` rows.")
    rowcount: int = -1


class DatabaseBackend(ABC):
    kind: ClassVar[BackendKind]

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()

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
    def read_table(self, table: str, columns: Sequence[str] | None = None) -> list[tuple]:
        """All rows of `table` (in `columns` order), privileged; LookupError if it is gone."""

    @abstractmethod
    def drop(self) -> None:
        """Remove the episode database and its user; safe to call twice."""

    def close(self) -> None:
        self.drop()

    # ----------------------------------------------------------------- shared helpers
    def _fetch(self, cursor: Any) -> QueryResult:
        """Rows of the statement just run, at most `max_rows`, as plain values."""
        if cursor.description is None:
            return QueryResult(rowcount=cursor.rowcount if cursor.rowcount is not None else -1)
        rows = cursor.fetchmany(self.limits.max_rows + 1)
        more = len(rows) > self.limits.max_rows
        return QueryResult(
            columns=[d[0] for d in cursor.description],
            rows=[plain_row(r) for r in rows[: self.limits.max_rows]],
            returns_rows=True,
            more_rows=more,
            rowcount=len(rows),
        )


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


def timeout_message(seconds: float) -> str:
    return f"Error: statement cancelled after {seconds:g} s (the statement time limit)."
