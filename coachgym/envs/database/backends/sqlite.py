"""SQLite backend: a fresh database file per episode in its own temporary folder.

The agent's connection is fenced by SQLite's authorizer: ATTACH (and VACUUM INTO, which SQLite
reports as an attach) may only name files inside the episode folder; `load_extension` and the
other host-reaching functions are refused; only read-only PRAGMAs run, so the agent cannot lift
the size cap (`max_page_count`) or touch the schema's internals. A progress handler enforces the
statement time limit. Setup and evaluation use their own connections, without the fence, before
and after the agent's turn.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
import unicodedata
import weakref
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from coachgym.envs.database.backends.base import DatabaseBackend, Limits, QueryError, QueryResult, timeout_message
from coachgym.envs.database.schema import MYSQL_COLLATION, Table, create_table_sql, insert_sql, quote

# Pragmas that only inspect: the first group takes a table/index name, the second must have no
# argument (with one, `page_size = ...` would change the database).
_INSPECT_PRAGMAS = frozenset("table_info table_xinfo table_list index_list index_info index_xinfo "
                             "foreign_key_list".split())
_READ_ONLY_PRAGMAS = frozenset("collation_list database_list compile_options page_count page_size encoding".split())
_FORBIDDEN_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer", "readfile", "writefile", "edit"})


@lru_cache(maxsize=65536)
def _mysql_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().rstrip(" ")


def mysql_ci(left: str, right: str) -> int:
    """MySQL's default text comparison: case- and accent-insensitive, trailing spaces ignored."""
    a, b = _mysql_key(left), _mysql_key(right)
    return (a > b) - (a < b)


class SQLiteBackend(DatabaseBackend):
    kind = "sqlite"

    def __init__(self, limits: Limits | None = None, memory: bool = False):
        """`memory=True` keeps the database in RAM, for building reference answers; not for agents,
        since evaluation then has to share the agent's connection."""
        super().__init__(limits)
        self.memory = memory
        self._root: Path | None = None
        self._episodes = 0
        self.folder: Path | None = None
        self._conn: sqlite3.Connection | None = None
        self._denied: str | None = None

    def version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"

    def _connect(self) -> sqlite3.Connection:
        target = ":memory:" if self.folder is None else self.folder / "episode.db"
        conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        conn.create_collation(MYSQL_COLLATION, mysql_ci)
        return conn

    def create(self, tables: Sequence[Table], mysql_dialect: bool = False) -> None:
        self.drop()
        if not self.memory:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="coachgym-sqlite-"))
                # Remove the folder even when the env is never closed.
                self._cleanup = weakref.finalize(self, shutil.rmtree, self._root, True)
            self._episodes += 1
            self.folder = self._root / f"episode-{self._episodes}"
            self.folder.mkdir()
        conn = self._connect()
        # A throwaway database needs no crash safety; skipping fsync makes episode setup ~10x faster.
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA journal_mode = MEMORY")
        conn.execute("BEGIN")
        for table in tables:
            conn.execute(create_table_sql("sqlite", table, mysql_dialect))
            conn.executemany(insert_sql("sqlite", table), table.rows)
        conn.execute("COMMIT")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {self.limits.max_db_mb * 1024 * 1024 // page_size}")
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 10_000_000)
        conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 2)
        conn.set_authorizer(self._authorize)
        self._conn = conn

    def _authorize(self, action: int, arg1: str | None, arg2: str | None, _db: str | None, _src: str | None) -> int:
        reason = None
        if action == sqlite3.SQLITE_ATTACH and not self._inside_episode(arg1):
            reason = (f"ATTACH/VACUUM INTO may only use ':memory:' or absolute paths inside the episode folder "
                      f"{self.folder}, not {arg1!r}")
        elif action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _FORBIDDEN_FUNCTIONS:
            reason = f"the function {arg2}() is disabled in this environment"
        elif action == sqlite3.SQLITE_PRAGMA and not (
            arg1 in _INSPECT_PRAGMAS or (arg1 in _READ_ONLY_PRAGMAS and arg2 is None)
        ):
            reason = f"PRAGMA {arg1} is not allowed here (only read-only pragmas such as table_info)"
        if reason is None:
            return sqlite3.SQLITE_OK
        self._denied = reason
        return sqlite3.SQLITE_DENY

    def _inside_episode(self, filename: str | None) -> bool:
        if filename is None or self.folder is None or filename.lower().startswith("file:"):
            return False
        if filename in ("", ":memory:"):
            return True
        # SQLite resolves relative names against the process's working directory, not the episode
        # folder, so only absolute paths can be checked.
        folder = self.folder.resolve()
        return Path(filename).is_absolute() and Path(filename).resolve().is_relative_to(folder)

    def execute(self, sql: str) -> QueryResult:
        if self._conn is None:
            raise RuntimeError("No episode database; call create() first.")
        conn = self._conn
        deadline = time.monotonic() + self.limits.statement_timeout_s
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 2000)
        self._denied = None
        try:
            cursor = conn.execute(sql)
            result = self._fetch(cursor)
        except sqlite3.Error as error:
            if time.monotonic() > deadline and "interrupt" in str(error):
                raise QueryError(timeout_message(self.limits.statement_timeout_s)) from None
            raise QueryError(f"Error: {self._denied or error}") from None
        except (OverflowError, ValueError) as error:  # e.g. integers beyond 64 bits, NUL characters
            raise QueryError(f"Error: {error}") from None
        finally:
            conn.set_progress_handler(None, 0)
            if conn.in_transaction:  # every statement commits, as in AgentBench
                conn.execute("COMMIT")
        return result

    def read_table(self, table: str, columns: Sequence[str] | None = None) -> list[tuple]:
        if self._conn is None:
            raise LookupError("no episode database")
        names = ", ".join(quote("sqlite", c) for c in columns) if columns else "*"
        reader = self._conn if self.memory and self._conn is not None else self._connect()
        try:
            return reader.execute(f"SELECT {names} FROM main.{quote('sqlite', table)}").fetchall()
        except sqlite3.OperationalError as error:
            raise LookupError(f"cannot read table {table!r}: {error}") from None
        finally:
            if reader is not self._conn:
                reader.close()

    def drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def close(self) -> None:
        self.drop()
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

