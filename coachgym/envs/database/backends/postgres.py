"""PostgreSQL backend: one schema and one login role per episode, in a database of our own.

Episodes live in the database named by the URL (created on first use when missing), whose
`public` schema is closed to PUBLIC. Each episode gets a role `cg_<random>` (LOGIN only: not a
superuser, cannot create roles or databases, no membership in pg_read_server_files,
pg_write_server_files or pg_execute_server_program, so `COPY ... FROM PROGRAM`, `pg_read_file` and
server-side `lo_import` are refused) that owns one schema of the same name and has it as its
search path. Agent statements run through the extended query protocol (`Cursor.stream`), in
which the server itself refuses a text holding more than one statement, whatever its quoting;
rows arrive one at a time, so the row and byte limits stop a huge result before it reaches
memory. The statement limit is the role's `statement_timeout` plus a watchdog that cancels the
query from outside, since the agent may `SET statement_timeout = 0`.

Evaluation never reads as the admin (a superuser in the throwaway servers): the admin checks in
the catalog that the scored name is still a plain table without row-level security, then grants
SELECT on it alone to a reader role `cg_<random>_r` (LOGIN only, like the agent's), which reads
it (`FROM ONLY`, so no child tables) on its own connection with `row_security = off`, a
read-only transaction and the statement timeout. Views, policies and functions the agent made
therefore never run at evaluation, and could not run with more than a reader's rights if they did.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence

import psycopg
from psycopg import errors, sql

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
from coachgym.envs.database.backends import postgres_mysql
from coachgym.envs.database.backends.settings import ServerSettings
from coachgym.envs.database.schema import Table, create_table_sql, insert_sql, quote

DEFAULT_DATABASE = "coachgym"
ROLE_OPTIONS = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION"
# What pg_class.relkind means, for explaining a refusal.
_KINDS = {"v": "view", "m": "materialized view", "p": "partitioned table", "f": "foreign table", "S": "sequence",
          "c": "composite type", "i": "index", "I": "partitioned index", "t": "TOAST table"}
# psycopg's stream() reports a statement without rows (INSERT, SET, ...) this way, after finishing it.
_NO_ROWS = "didn't produce a result"


class PostgresBackend(DatabaseBackend):
    kind = "postgres"

    def __init__(self, settings: ServerSettings, limits: Limits | None = None):
        super().__init__(limits)
        self.settings = settings
        self.database = settings.database or DEFAULT_DATABASE
        self._admin: psycopg.Connection | None = None
        self._admin_lock = threading.Lock()
        self._agent: psycopg.Connection | None = None
        self._agent_login: tuple[str, str, str] | None = None  # user, password, options: to reconnect
        self.episode: str | None = None
        self._reader_password: str | None = None
        self._version = ""
        self._mysql_compat_ready = False  # whether this admin session installed or found postgres_mysql
        self._watchdog = Watchdog(self.limits.statement_timeout_s, self._cancel_agent_query)

    def _connect(self, user: str, password: str, database: str, **options: str) -> psycopg.Connection:
        host = self.settings.socket or self.settings.host or "localhost"
        return psycopg.connect(host=host, port=self.settings.port or 5432, dbname=database, user=user,
                               password=password, autocommit=True, connect_timeout=10, **options)

    def _admin_conn(self) -> psycopg.Connection:
        if self._admin is None or self._admin.closed:
            try:
                self._admin = self._open_admin()
            except psycopg.Error as error:
                raise BackendUnavailable(
                    f"Cannot connect to the PostgreSQL server at {self.settings.where()} as {self.settings.user!r}: "
                    f"{' '.join(str(error).split())}. Check that the server runs and the URL "
                    "(COACHGYM_POSTGRES_URL) is right, "
                    "or start one with `python -m coachgym.envs.database.servers postgres`."
                ) from None
            number = self._admin.info.server_version
            self._version = f"PostgreSQL {number // 10000}.{number % 10000}"
        return self._admin

    def _open_admin(self) -> psycopg.Connection:
        try:
            return self._connect(self.settings.user, self.settings.password, self.database)
        except psycopg.OperationalError as error:
            if f'database "{self.database}" does not exist' not in str(error):
                raise
        with self._connect(self.settings.user, self.settings.password, "postgres") as maintenance:
            maintenance.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        admin = self._connect(self.settings.user, self.settings.password, self.database)
        admin.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        admin.execute(sql.SQL("REVOKE CREATE ON DATABASE {} FROM PUBLIC").format(sql.Identifier(self.database)))
        return admin

    def version(self) -> str:
        self._admin_conn()
        return self._version

    def create(self, tables: Sequence[Table], mysql_dialect: bool = False) -> None:
        self.drop()
        name, password = f"cg_{secrets.token_hex(6)}", secrets.token_urlsafe(18)
        role = sql.Identifier(name)
        timeout_ms = int(self.limits.statement_timeout_s * 1000)
        with self._admin_lock:
            admin = self._admin_conn()
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} " + ROLE_OPTIONS + " CONNECTION LIMIT 3").format(
                role, sql.Literal(password)))
            self.episode = name
            admin.execute(sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(role, role))
            admin.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(self.database), role))
            if mysql_dialect and not self._mysql_compat_ready:
                postgres_mysql.install(admin)
                self._mysql_compat_ready = True
        # pg_catalog after mysql_compat, so that its text `=` (MySQL's collation) wins over the built-in one
        search_path = f"{name},{postgres_mysql.SCHEMA},pg_catalog" if mysql_dialect else name
        self._agent_login = (name, password, f"-c search_path={search_path} -c statement_timeout={timeout_ms}")
        self._agent = self._login_agent()
        with self._agent.cursor() as cursor:
            for table in tables:
                cursor.execute(create_table_sql("postgres", table))
                if table.rows:
                    cursor.executemany(insert_sql("postgres", table), table.rows)

    def _login_agent(self) -> psycopg.Connection:
        assert self._agent_login is not None
        user, password, options = self._agent_login
        return self._connect(user, password, self.database, options=options)

    def _cancel_agent_query(self) -> None:
        if self._agent is not None:
            self._agent.cancel_safe(timeout=5)

    def execute(self, statement: str) -> QueryResult:
        if self._agent is None:
            raise RuntimeError("No episode database; call create() first.")
        deadline = self._deadline()
        try:
            with self._watchdog.guard(), self._agent.cursor() as cursor:
                rows = cursor.stream(statement.encode("utf-8"))
                try:
                    taken, left_out = self._take_result(rows, deadline)
                finally:
                    rows.close()  # cancels the statement when rows are left over
                columns = [d.name for d in cursor.description or []]
            return QueryResult(columns=columns, rows=taken, returns_rows=True, left_out=left_out)
        except (errors.QueryCanceled, errors.LockNotAvailable):
            raise QueryError(timeout_message(self.limits.statement_timeout_s)) from None
        except psycopg.Error as error:
            if isinstance(error, psycopg.ProgrammingError) and error.sqlstate is None and _NO_ROWS in str(error):
                return QueryResult()  # the statement ran and returned no rows
            raise QueryError(_message(error) + self._recover()) from None
        except (ValueError, UnicodeError) as error:  # e.g. NUL characters, which PostgreSQL text cannot hold
            raise QueryError(f"Error: {error}") from None
        finally:
            self._settle_transaction()

    def _agent_transaction(self, command: str) -> None:
        if self._agent is None or self._agent.closed:
            return
        idle = self._agent.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        if (command == "BEGIN") == idle:
            self._agent.execute(command)

    def _recover(self) -> str:
        """Reconnect when a statement left the agent's connection stuck (COPY ... TO STDOUT / FROM STDIN)."""
        if self._agent is None or self._agent.pgconn.transaction_status != psycopg.pq.TransactionStatus.ACTIVE:
            return ""
        self._agent.close()
        self._agent = self._login_agent()
        return " (the connection was reset, so temporary tables and session settings are gone)"

    def _settle_transaction(self) -> None:
        """Commit what the agent left open (every statement commits, as in AgentBench)."""
        if self._agent is None or self._agent.closed:
            return
        status = self._agent.info.transaction_status
        if status == psycopg.pq.TransactionStatus.INTRANS and not self._holding:
            self._agent.execute("COMMIT")
        elif status == psycopg.pq.TransactionStatus.INERROR:
            self._agent.execute("ROLLBACK")

    def end_agent_session(self) -> None:
        if self._agent is not None:
            self._agent.close()
            self._agent = None

    def read_table(self, table: str, columns: Sequence[str] | None = None) -> list[tuple]:
        if self.episode is None:
            raise LookupError("no episode database")
        reader, password = self._grant_reader(table)
        names = ", ".join(quote("postgres", c) for c in columns) if columns else "*"
        query = f"SELECT {names} FROM ONLY {quote('postgres', self.episode)}.{quote('postgres', table)}"
        timeout_ms = int(self.limits.statement_timeout_s * 1000)
        options = (f"-c statement_timeout={timeout_ms} -c row_security=off -c search_path=pg_catalog "
                   "-c default_transaction_read_only=on")
        deadline = self._deadline()
        try:
            with self._connect(reader, password, self.database, options=options) as conn, conn.cursor() as cursor:
                rows = cursor.stream(query.encode("utf-8"))
                try:
                    return self._take_table(table, rows, deadline)
                finally:
                    rows.close()
        except psycopg.Error as error:
            raise LookupError(f"cannot read table {table!r}: {_message(error)}") from None

    def _grant_reader(self, table: str) -> tuple[str, str]:
        """Check that `table` is still a plain table the evaluator may read, and let the episode's
        reader role (made on first use) read it alone; returns the reader's login."""
        assert self.episode is not None
        schema, reader = self.episode, f"{self.episode}_r"
        with self._admin_lock:
            admin = self._admin_conn()
            found = admin.execute(
                "SELECT c.relkind, c.relrowsecurity FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s", (schema, table)).fetchone()
            if found is None:
                raise LookupError(missing_table(table))
            kind, row_security = found
            if kind != "r":
                raise LookupError(refused_object(table, _KINDS.get(kind, f"relation of kind {kind!r}")))
            if row_security:
                raise LookupError(f"refused to read {table!r}: row-level security is on for it, and its policies "
                                  "would run SQL the agent wrote while scoring")
            if self._reader_password is None:
                password = secrets.token_urlsafe(18)
                admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} " + ROLE_OPTIONS + " CONNECTION LIMIT 1")
                              .format(sql.Identifier(reader), sql.Literal(password)))
                self._reader_password = password
            admin.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                sql.Identifier(schema), sql.Identifier(reader)))
            admin.execute(sql.SQL("GRANT SELECT ON {}.{} TO {}").format(
                sql.Identifier(schema), sql.Identifier(table), sql.Identifier(reader)))
        return reader, self._reader_password

    def drop(self) -> None:
        self.end_agent_session()
        if self.episode is not None:
            name, self.episode = self.episode, None
            roles = [name] + ([f"{name}_r"] if self._reader_password is not None else [])
            self._reader_password = None
            with self._admin_lock:
                admin = self._admin_conn()
                admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
                for role in map(sql.Identifier, roles):
                    admin.execute(sql.SQL("DROP OWNED BY {}").format(role))
                    admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(role))

    def close(self) -> None:
        self._watchdog.stop()
        try:
            self.drop()
        finally:
            if self._admin is not None and not self._admin.closed:
                self._admin.close()
            self._admin = None


def _message(error: psycopg.Error) -> str:
    text = (error.diag.message_primary or str(error)).strip()
    return f"Error ({error.sqlstate}): {text}" if error.sqlstate else f"Error: {text}"
