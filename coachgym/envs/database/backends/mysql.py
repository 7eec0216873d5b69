"""MariaDB/MySQL backend: one database and one restricted user per episode.

The env's admin connection creates `cg_<random>` (database and user) and grants the user only
data and schema privileges on that one database: no FILE (so no LOAD_FILE, LOAD DATA INFILE or
SELECT ... INTO OUTFILE), no SUPER, no PROCESS, no GRANT OPTION, no access to other databases.
The agent's connection logs in as that user without multi-statement (CLIENT_MULTI_STATEMENTS)
or LOCAL INFILE support, so the server itself refuses a text holding two statements. Rows are
read unbuffered, one at a time, and the statement is killed once the row or byte limit is
reached. The statement limit is enforced twice: MariaDB's `max_statement_time` for the session,
and a watchdog that runs `KILL QUERY` from the admin connection in case the agent changed the
session setting.

Evaluation never reads as the admin: the admin checks in information_schema that the scored name
is still a BASE TABLE (not a view, whose SQL SECURITY INVOKER body would run as the reader), then
grants SELECT on it alone to a reader user `cg_<random>_r`, which reads it on its own connection
under the same limits; no FILE privilege, so even LOAD_FILE in the agent's SQL would read nothing.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Sequence

import pymysql
from pymysql.constants import SERVER_STATUS
from pymysql.cursors import SSCursor

from coachgym.envs.database.backends.base import (
    BackendUnavailable,
    DatabaseBackend,
    Limits,
    QueryError,
    QueryResult,
    Watchdog,
    missing_table,
    refused_object,
    timeout_message,
)
from coachgym.envs.database.backends.settings import ServerSettings
from coachgym.envs.database.schema import Table, create_table_sql, insert_sql, quote

EPISODE_PRIVILEGES = ("SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, CREATE VIEW, SHOW VIEW, "
                      "CREATE TEMPORARY TABLES, LOCK TABLES")
_INTERRUPTED, _TIMEOUTS = 1317, (1317, 1969, 3024)  # killed; max_statement_time / max_execution_time


class MySQLBackend(DatabaseBackend):
    kind = "mysql"

    def __init__(self, settings: ServerSettings, limits: Limits | None = None):
        super().__init__(limits)
        self.settings = settings
        self._admin: pymysql.connections.Connection | None = None
        self._admin_lock = threading.Lock()
        self._agent: pymysql.connections.Connection | None = None
        self.episode: str | None = None
        self._reader_password: str | None = None
        self._version = ""
        self._watchdog = Watchdog(self.limits.statement_timeout_s, self._kill_agent_query)

    def _connect(self, user: str, password: str, database: str | None = None,
                 read_timeout: float | None = None) -> pymysql.connections.Connection:
        where = {"unix_socket": self.settings.socket} if self.settings.socket else {
            "host": self.settings.host or "127.0.0.1", "port": self.settings.port or 3306}
        return pymysql.connect(user=user, password=password, database=database, charset="utf8mb4", autocommit=True,
                               connect_timeout=10, read_timeout=read_timeout, local_infile=False, **where)

    def _admin_conn(self) -> pymysql.connections.Connection:
        if self._admin is None or not self._admin.open:
            try:
                self._admin = self._connect(self.settings.user, self.settings.password)
            except pymysql.MySQLError as error:
                raise BackendUnavailable(
                    f"Cannot connect to the MariaDB/MySQL server at {self.settings.where()} as "
                    f"{self.settings.user!r}: {error}. Check that the server runs and the URL (COACHGYM_MYSQL_URL) "
                    "is right, or start one with `python -m coachgym.envs.database.servers mariadb`."
                ) from None
            with self._admin.cursor() as cursor:
                cursor.execute("SELECT VERSION()")
                version = cursor.fetchone()[0]
            self._version = f"MariaDB {version.split('-')[0]}" if "mariadb" in version.lower() else f"MySQL {version}"
        return self._admin

    def _admin_run(self, *statements: str) -> None:
        with self._admin_lock, self._admin_conn().cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    def version(self) -> str:
        self._admin_conn()
        return self._version

    def create(self, tables: Sequence[Table], mysql_dialect: bool = False) -> None:
        self.drop()
        name, password = f"cg_{secrets.token_hex(6)}", secrets.token_urlsafe(18)
        self.episode = name
        self._admin_run(
            f"CREATE DATABASE {quote('mysql', name)} CHARACTER SET utf8mb4",
            f"CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'",
            f"GRANT {EPISODE_PRIVILEGES} ON {quote('mysql', name)}.* TO '{name}'@'%'",
        )
        self._agent = self._connect(name, password, name)  # pymysql leaves MULTI_STATEMENTS off
        with self._agent.cursor() as cursor:
            for table in tables:
                cursor.execute(create_table_sql("mysql", table))
                if table.rows:
                    cursor.executemany(insert_sql("mysql", table), table.rows)
            if mysql_dialect:
                # DBBench's answer_md5 values were made on a server where comparing text with numbers
                # in UPDATE ... WHERE only warns; strict mode turns that into error 1292.
                cursor.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")
            self._limit_session(cursor)

    def _limit_session(self, cursor: pymysql.cursors.Cursor) -> None:
        try:
            cursor.execute(f"SET SESSION max_statement_time = {self.limits.statement_timeout_s:g}")
        except pymysql.MySQLError:
            pass  # MySQL proper has no max_statement_time; the watchdog and deadlines still apply

    def _kill_query(self, conn: pymysql.connections.Connection) -> None:
        self._admin_run(f"KILL QUERY {int(conn.thread_id())}")

    def _kill_agent_query(self) -> None:
        if self._agent is not None:
            self._kill_query(self._agent)

    def execute(self, sql: str) -> QueryResult:
        if self._agent is None:
            raise RuntimeError("No episode database; call create() first.")
        watchdog = self._watchdog
        try:
            with watchdog.guard():
                result = self._run(sql)
            if self._agent.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS and not self._holding:
                self._agent.commit()  # every statement commits, as in AgentBench
            return result
        except pymysql.MySQLError as error:
            if watchdog.fired or (error.args and error.args[0] in _TIMEOUTS):
                raise QueryError(timeout_message(self.limits.statement_timeout_s)) from None
            raise _query_error(error) from None
        except (pymysql.err.InterfaceError, ValueError, UnicodeError) as error:
            raise QueryError(f"Error: {error}") from None

    def _agent_transaction(self, command: str) -> None:
        if self._agent is not None:
            {"BEGIN": self._agent.begin, "COMMIT": self._agent.commit, "ROLLBACK": self._agent.rollback}[command]()

    def _run(self, sql: str) -> QueryResult:
        """One agent statement, its rows read unbuffered and cut at the row and byte limits."""
        assert self._agent is not None
        deadline, left_out = self._deadline(), ""
        cursor = self._agent.cursor(SSCursor)
        try:
            cursor.execute(sql)
            if cursor.description is None:
                return QueryResult()
            rows, left_out = self._take_result(cursor, deadline)
            return QueryResult(columns=[d[0] for d in cursor.description], rows=rows, returns_rows=True,
                               left_out=left_out)
        finally:
            if left_out:
                self._kill_query(self._agent)  # stop the server sending the rows left out
            try:
                cursor.close()  # reads what is still on its way, and any further result sets (CALL)
            except pymysql.MySQLError as error:
                if not (left_out and error.args and error.args[0] == _INTERRUPTED):
                    raise

    def end_agent_session(self) -> None:
        if self._agent is not None:
            try:
                self._agent.close()  # also releases LOCK TABLES the agent still holds
            except pymysql.MySQLError:
                pass
            self._agent = None

    def read_table(self, table: str, columns: Sequence[str] | None = None) -> list[tuple]:
        if self.episode is None:
            raise LookupError("no episode database")
        reader, password = self._grant_reader(table)
        names = ", ".join(quote("mysql", c) for c in columns) if columns else "*"
        query = f"SELECT {names} FROM {quote('mysql', self.episode)}.{quote('mysql', table)}"
        deadline = self._deadline()
        try:
            conn = self._connect(reader, password, self.episode, read_timeout=self.limits.statement_timeout_s)
        except pymysql.MySQLError as error:
            raise LookupError(f"cannot read table {table!r}: {_message(error)}") from None
        try:
            with conn.cursor() as cursor:
                self._limit_session(cursor)
            cursor = conn.cursor(SSCursor)
            cursor.execute(query)
            rows = self._take_table(table, cursor, deadline)
            cursor.close()
            return rows
        except LookupError:
            self._kill_query(conn)
            raise
        except pymysql.MySQLError as error:
            raise LookupError(f"cannot read table {table!r}: {_message(error)}") from None
        finally:
            conn.close()

    def _grant_reader(self, table: str) -> tuple[str, str]:
        """Check that `table` is still a base table, and let the episode's reader user (made on first
        use) read it alone; returns the reader's login."""
        assert self.episode is not None
        reader = f"{self.episode}_r"
        with self._admin_lock, self._admin_conn().cursor() as cursor:
            cursor.execute("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
                           "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s", (self.episode, table))
            kinds = [kind for name, kind in cursor.fetchall() if name == table]
            if not kinds:
                raise LookupError(missing_table(table))
            if kinds[0] != "BASE TABLE":
                raise LookupError(refused_object(table, kinds[0].lower()))
            if self._reader_password is None:
                password = secrets.token_urlsafe(18)
                cursor.execute(f"CREATE USER '{reader}'@'%' IDENTIFIED BY '{password}'")
                self._reader_password = password
            cursor.execute(f"GRANT SELECT ON {quote('mysql', self.episode)}.{quote('mysql', table)} TO '{reader}'@'%'")
        return reader, self._reader_password

    def drop(self) -> None:
        self.end_agent_session()
        if self.episode is not None:
            name, self.episode = self.episode, None
            users = [name] + ([f"{name}_r"] if self._reader_password is not None else [])
            self._reader_password = None
            self._admin_run(f"DROP DATABASE IF EXISTS {quote('mysql', name)}",
                            *(f"DROP USER IF EXISTS '{user}'@'%'" for user in users))

    def close(self) -> None:
        self._watchdog.stop()
        try:
            self.drop()
        except (pymysql.OperationalError, BackendUnavailable):
            if not self._server_removed():
                raise
        finally:
            if self._admin is not None and self._admin.open:
                self._admin.close()
            self._admin = None

    def _server_removed(self) -> bool:
        """A throwaway local server that stopped before this env closed (killed, or stopped by whoever
        started it) took the episode's database with it: its socket is gone, nothing is left to drop."""
        return bool(self.settings.socket) and not os.path.exists(self.settings.socket)


def _query_error(error: pymysql.MySQLError) -> QueryError:
    """The server's error for the agent, with its code and SQLSTATE (PyMySQL reads both from the
    error packet) kept apart for protocols that word it differently."""
    if len(error.args) >= 2:
        return QueryError(_message(error), code=error.args[0], sqlstate=getattr(error, "sqlstate", None),
                          reason=error.args[1])
    return QueryError(_message(error))


def _message(error: Exception) -> str:
    """The server's error as `Error <code>: <text>` (DBBench shows the driver's raw error)."""
    if len(error.args) >= 2:
        return f"Error {error.args[0]}: {error.args[1]}"
    return f"Error: {error}"
