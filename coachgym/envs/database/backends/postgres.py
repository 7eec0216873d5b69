"""PostgreSQL backend: one schema and one login role per episode, in a database of our own.

Episodes live in the database named by the URL (created on first use when missing), whose
`public` schema is closed to PUBLIC. Each episode gets a role `cg_<random>` (LOGIN only: not a
superuser, cannot create roles or databases, no membership in pg_read_server_files,
pg_write_server_files or pg_execute_server_program, so `COPY ... FROM PROGRAM`, `pg_read_file` and
server-side `lo_import` are refused) that owns one schema of the same name and has it as its
search path. The statement limit is the role's `statement_timeout` plus a watchdog that cancels
the query from outside, since the agent may `SET statement_timeout = 0`. Evaluation reads tables
through the admin connection.
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
    timeout_message,
)
from coachgym.envs.database.backends.settings import ServerSettings
from coachgym.envs.database.schema import Table, create_table_sql, insert_sql, quote

DEFAULT_DATABASE = "coachgym"


class PostgresBackend(DatabaseBackend):
    kind = "postgres"

    def __init__(self, settings: ServerSettings, limits: Limits | None = None):
        super().__init__(limits)
        self.settings = settings
        self.database = settings.database or DEFAULT_DATABASE
        self._admin: psycopg.Connection | None = None
        self._admin_lock = threading.Lock()
        self._agent: psycopg.Connection | None = None
        self.episode: str | None = None
        self._version = ""
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
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT "
                                  "NOREPLICATION CONNECTION LIMIT 3").format(role, sql.Literal(password)))
            self.episode = name
            admin.execute(sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(role, role))
            admin.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(self.database), role))
        options = f"-c search_path={name} -c statement_timeout={timeout_ms}"
        self._agent = self._connect(name, password, self.database, options=options)
        with self._agent.cursor() as cursor:
            for table in tables:
                cursor.execute(create_table_sql("postgres", table))
                if table.rows:
                    cursor.executemany(insert_sql("postgres", table), table.rows)

    def _cancel_agent_query(self) -> None:
        if self._agent is not None:
            self._agent.cancel_safe(timeout=5)

    def execute(self, statement: str) -> QueryResult:
        if self._agent is None:
            raise RuntimeError("No episode database; call create() first.")
        try:
            with self._watchdog.guard(), self._agent.cursor() as cursor:
                cursor.execute(statement.encode("utf-8"), prepare=False)
                result = self._fetch(cursor)
            return result
        except (errors.QueryCanceled, errors.LockNotAvailable):
            raise QueryError(timeout_message(self.limits.statement_timeout_s)) from None
        except psycopg.Error as error:
            raise QueryError(_message(error)) from None
        except (ValueError, UnicodeError) as error:  # e.g. NUL characters, which PostgreSQL text cannot hold
            raise QueryError(f"Error: {error}") from None
        finally:
            self._settle_transaction()

    def _settle_transaction(self) -> None:
        """Commit what the agent left open (every statement commits, as in AgentBench)."""
        if self._agent is None or self._agent.closed:
            return
        status = self._agent.info.transaction_status
        if status == psycopg.pq.TransactionStatus.INTRANS:
            self._agent.execute("COMMIT")
        elif status == psycopg.pq.TransactionStatus.INERROR:
            self._agent.execute("ROLLBACK")

    def read_table(self, table: str, columns: Sequence[str] | None = None) -> list[tuple]:
        if self.episode is None:
            raise LookupError("no episode database")
        names = ", ".join(quote("postgres", c) for c in columns) if columns else "*"
        query = f"SELECT {names} FROM {quote('postgres', self.episode)}.{quote('postgres', table)}"
        try:
            with self._admin_lock, self._admin_conn().cursor() as cursor:
                cursor.execute(query.encode("utf-8"))
                return list(cursor.fetchall())
        except (errors.UndefinedTable, errors.UndefinedColumn) as error:
            raise LookupError(f"cannot read table {table!r}: {_message(error)}") from None

    def drop(self) -> None:
        if self._agent is not None:
            self._agent.close()
            self._agent = None
        if self.episode is not None:
            role, self.episode = sql.Identifier(self.episode), None
            with self._admin_lock:
                admin = self._admin_conn()
                admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(role))
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
