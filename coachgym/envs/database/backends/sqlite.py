"""SQLite backend: a fresh database file per episode in its own temporary folder.

The agent's connection is fenced by SQLite's authorizer: ATTACH, VACUUM and VACUUM INTO (which
SQLite reports as an attach) are refused, since any attached database, even ':memory:', would
escape the size cap; `load_extension` and the other host-reaching functions are refused; only
read-only PRAGMAs run, so the agent cannot lift the size caps (`max_page_count` on the main and
on the temporary database) or touch the schema's internals. A progress handler enforces the
statement time limit. Evaluation opens its own read-only connection, reads only a base table
(never a view or virtual table the agent left in its place), with untrusted schema functions
off and the same time limit. The folder is removed on close, at exit and on SIGTERM/SIGHUP.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
import time
import unicodedata
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache, partial
from pathlib import Path

from coachgym.envs.database.backends.base import (
    DatabaseBackend,
    Limits,
    QueryError,
    QueryResult,
    missing_table,
    refused_object,
    timeout_message,
)
from coachgym.envs.cleanup import at_exit
from coachgym.envs.database.schema import MYSQL_COLLATION, Table, create_table_sql, insert_sql, quote
from coachgym.envs.database.sqltext import SQLITE_NUMBER

# Pragmas that only inspect: the first group takes a table/index name, the second must have no
# argument (with one, `page_size = ...` would change the database).
_INSPECT_PRAGMAS = frozenset("table_info table_xinfo table_list index_list index_info index_xinfo "
                             "foreign_key_list".split())
_READ_ONLY_PRAGMAS = frozenset("collation_list database_list compile_options page_count page_size encoding".split())
_FORBIDDEN_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer", "readfile", "writefile", "edit"})
_MAX_VALUE_BYTES = 10_000_000  # SQLITE_LIMIT_LENGTH: the largest text, blob or row


@lru_cache(maxsize=65536)
def _mysql_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().rstrip(" ")


_LEADING_NUMBER = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")


def mysql_number(value: object) -> object:
    """MySQL's reading of a value as a number: a text's leading numeric part, else 0, as a double."""
    if value is None or isinstance(value, (int, float)):
        return value
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    found = _LEADING_NUMBER.match(text)
    return float(found.group(1)) if found else 0.0


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

    def _connect(self, read_only: bool = False) -> sqlite3.Connection:
        if self.folder is None:
            target = ":memory:"
        else:
            path = self.folder / "episode.db"
            target = f"{path.as_uri()}?mode=ro" if read_only else str(path)
        conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False, uri=read_only)
        conn.create_collation(MYSQL_COLLATION, mysql_ci)
        conn.create_function(SQLITE_NUMBER, 1, mysql_number, deterministic=True)
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, _MAX_VALUE_BYTES)
        if read_only:  # the evaluator's reader: functions named in the agent's schema may not have side effects
            conn.execute("PRAGMA trusted_schema = OFF")
        return conn

    def create(self, tables: Sequence[Table], mysql_dialect: bool = False) -> None:
        self.drop()
        if not self.memory:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="coachgym-sqlite-"))
                self._remove_root = at_exit(partial(shutil.rmtree, self._root, True))
                weakref.finalize(self, self._remove_root)  # also when the backend is dropped unclosed
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
        for database in ("main", "temp"):  # TEMP tables get a cap of their own
            page_size = conn.execute(f"PRAGMA {database}.page_size").fetchone()[0]
            conn.execute(f"PRAGMA {database}.max_page_count = {self.limits.max_db_mb * 1024 * 1024 // page_size}")
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        conn.set_authorizer(self._authorize)
        self._conn = conn

    def _authorize(self, action: int, arg1: str | None, arg2: str | None, _db: str | None, _src: str | None) -> int:
        reason = None
        if action == sqlite3.SQLITE_ATTACH:
            reason = ("ATTACH, VACUUM and VACUUM INTO are not allowed here: every database of the episode must stay "
                      "within its size cap; use the main database (or TEMP tables)")
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

    def execute(self, sql: str) -> QueryResult:
        if self._conn is None:
            raise RuntimeError("No episode database; call create() first.")
        conn = self._conn
        deadline = self._deadline()
        self._denied = None
        try:
            with _time_limit(conn, deadline):
                cursor = conn.execute(sql)
                try:
                    if cursor.description is None:
                        return QueryResult()
                    columns = [d[0] for d in cursor.description]
                    rows, left_out = self._take_result(cursor, deadline)
                finally:
                    cursor.close()  # ends the statement, however many rows it had left
        except sqlite3.Error as error:
            if time.monotonic() > deadline and "interrupt" in str(error):
                raise QueryError(timeout_message(self.limits.statement_timeout_s)) from None
            raise QueryError(f"Error: {self._denied or error}") from None
        except (OverflowError, ValueError) as error:  # e.g. integers beyond 64 bits, NUL characters
            raise QueryError(f"Error: {error}") from None
        finally:
            if conn.in_transaction and not self._holding:  # every statement commits, as in AgentBench
                conn.execute("COMMIT")
        return QueryResult(columns=columns, rows=rows, returns_rows=True, left_out=left_out)

    def _agent_transaction(self, command: str) -> None:
        if self._conn is not None and (command == "BEGIN") != self._conn.in_transaction:
            self._conn.execute(command)

    def end_agent_session(self) -> None:
        if not self.memory and self._conn is not None:  # in memory, the connection is the database
            self._conn.close()
            self._conn = None

    def read_table(self, table: str, columns: Sequence[str] | None = None) -> list[tuple]:
        if self.folder is None and self._conn is None:
            raise LookupError("no episode database")
        reader = self._conn if self.memory and self._conn is not None else self._connect(read_only=True)
        deadline = self._deadline()
        try:
            with _time_limit(reader, deadline):
                found = reader.execute("SELECT type FROM pragma_table_list WHERE schema = 'main' AND name = ? "
                                       "COLLATE NOCASE", (table,)).fetchone()
                if found is None:
                    raise LookupError(missing_table(table))
                if found[0] != "table":
                    raise LookupError(refused_object(table, found[0]))
                names = ", ".join(quote("sqlite", c) for c in columns) if columns else "*"
                cursor = reader.execute(f"SELECT {names} FROM main.{quote('sqlite', table)}")
                return self._take_table(table, cursor, deadline)
        except sqlite3.Error as error:
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
            self._remove_root()
            self._root = None


@contextmanager
def _time_limit(conn: sqlite3.Connection, deadline: float) -> Iterator[None]:
    """Interrupt whatever `conn` runs past `deadline` (SQLite checks every 2000 VM steps)."""
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 2000)
    try:
        yield
    finally:
        conn.set_progress_handler(None, 0)

