"""MariaDB/MySQL backend: one database and one restricted user per episode.

The env's admin connection creates `cg_<random>` (database and user) and grants the user only
data and schema privileges on that one database: no FILE (so no LOAD_FILE, LOAD DATA INFILE or
SELECT ... INTO OUTFILE), no SUPER, no PROCESS, no GRANT OPTION, no access to other databases.
The agent's connection logs in as that user without multi-statement or LOCAL INFILE support.
The statement limit is enforced twice: MariaDB's `max_statement_time` for the session, and a
watchdog that runs `KILL QUERY` from the admin connection in case the agent changed the session
setting. Evaluation reads tables through the admin connection.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence

import pymysql
from pymysql.constants import SERVER_STATUS

from coachgym.envs.database.backends.base import (
    BackendUnavailable,
    DatabaseBackend,
    Limits,
    QueryError,
    QueryResult,
    Watchdog,
    timeout_message,
)
from coachgym.envs.database.backends.settings import ServerSettings
from coachgym.envs.database.schema import Table, create_table_sql, insert_sql, quote

EPISODE_PRIVILEGES = ("SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, CREATE VIEW, SHOW VIEW, "
                      "CREATE TEMPORARY TABLES, LOCK TABLES")
_NO_SUCH_TABLE, _BAD_FIELD = 1146, 1054


class MySQLBackend(DatabaseBackend):
    kind = "mysql"

    def __init__(self, settings: ServerSettings, limits: Limits | None = None):
        super().__init__(limits)
        self.settings = settings
        self._admin: pymysql.connections.Connection | None = None
        self._admin_lock = threading.Lock()
        self._agent: pymysql.connections.Connection | None = None
        self.episode: str | None = None
        self._version = ""
        self._watchdog = Watchdog(self.limits.statement_timeout_s, self._kill_agent_query)

    def _connect(self, user: str, password: str, database: str | None = None) -> pymysql.connections.Connection:
        where = {"unix_socket": self.settings.socket} if self.settings.socket else {
            "host": self.settings.host or "127.0.0.1", "port": self.settings.port or 3306}
        return pymysql.connect(user=user, password=password, database=database, charset="utf8mb4", autocommit=True,
                               connect_timeout=10, local_infile=False, **where)

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
            try:
                cursor.execute(f"SET SESSION max_statement_time = {self.limits.statement_timeout_s:g}")
            except pymysql.MySQLError:
                pass  # MySQL proper has no max_statement_time; the watchdog still applies

    def _kill_agent_query(self) -> None:
        if self._agent is not None:
            self._admin_run(f"KILL QUERY {int(self._agent.thread_id())}")

    def execute(self, sql: str) -> QueryResult:
        if self._agent is None:
            raise RuntimeError("No episode database; call create() first.")
        watchdog = self._watchdog
        try:
            with watchdog.guard(), self._agent.cursor() as cursor:
                cursor.execute(sql)
                result = self._fetch(cursor)
                while cursor.nextset():  # CALL may return extra result sets; discard them
                    pass
            if self._agent.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS:
                self._agent.commit()  # every statement commits, as in AgentBench
            return result
        except pymysql.MySQLError as error:
            if watchdog.fired or (error.args and error.args[0] in (1317, 1969, 3024)):
                raise QueryError(timeout_message(self.limits.statement_timeout_s)) from None
            raise QueryError(_message(error)) from None
        except (pymysql.err.InterfaceError, ValueError, UnicodeError) as error:
            raise QueryError(f"Error: {error}") from None

    def read_table(self, table: str, columns: Sequence[str] | None = None) -> list[tuple]:
        if self.episode is None:
            raise LookupError("no episode database")
        names = ", ".join(quote("mysql", c) for c in columns) if columns else "*"
        try:
            with self._admin_lock, self._admin_conn().cursor() as cursor:
                cursor.execute(f"SELECT {names} FROM {quote('mysql', self.episode)}.{quote('mysql', table)}")
                return list(cursor.fetchall())
        except pymysql.MySQLError as error:
            if error.args and error.args[0] in (_NO_SUCH_TABLE, _BAD_FIELD):
                raise LookupError(f"cannot read table {table!r}: {_message(error)}") from None
            raise

    def drop(self) -> None:
        if self._agent is not None:
            try:
                self._agent.close()
            except pymysql.MySQLError:
                pass
            self._agent = None
        if self.episode is not None:
            name, self.episode = self.episode, None
            self._admin_run(f"DROP DATABASE IF EXISTS {quote('mysql', name)}", f"DROP USER IF EXISTS '{name}'@'%'")

    def close(self) -> None:
        self._watchdog.stop()
        try:
            self.drop()
        finally:
            if self._admin is not None and self._admin.open:
                self._admin.close()
            self._admin = None


def _message(error: Exception) -> str:
    """The server's error as `Error <code>: <text>` (DBBench shows the driver's raw error)."""
    if len(error.args) >= 2:
        return f"Error {error.args[0]}: {error.args[1]}"
    return f"Error: {error}"
