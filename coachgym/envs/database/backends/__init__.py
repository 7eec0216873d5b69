"""Database backends behind one interface, chosen by name.

`make_backend("sqlite" | "mariadb" | "mysql" | "postgres", server_url=...)` returns a
`DatabaseBackend`. Server backends take their connection from `server_url` or, for users with
their own server, from `COACHGYM_MYSQL_URL` / `COACHGYM_POSTGRES_URL`; the driver modules are
imported only when that backend is used.
"""

from __future__ import annotations

import os
import warnings

from coachgym.envs.database.backends.base import (
    BackendUnavailable,
    DatabaseBackend,
    Limits,
    QueryError,
    QueryResult,
)
from coachgym.envs.database.backends.settings import ServerSettings

ALIASES = {"sqlite": "sqlite", "sqlite3": "sqlite", "mysql": "mysql", "mariadb": "mysql",
           "postgres": "postgres", "postgresql": "postgres", "pg": "postgres"}
URL_VARIABLES = {"mysql": "COACHGYM_MYSQL_URL", "postgres": "COACHGYM_POSTGRES_URL"}
BACKEND_VARIABLE = "COACHGYM_DB_BACKEND"


def backend_kind(name: str | None) -> str:
    """Canonical backend kind for a name, defaulting to $COACHGYM_DB_BACKEND, then sqlite."""
    name = (name or os.environ.get(BACKEND_VARIABLE) or "sqlite").lower()
    if name not in ALIASES:
        raise ValueError(f"Unknown database backend {name!r}; use one of sqlite, mariadb, mysql, postgres.")
    return ALIASES[name]


def mysql_default(server_url: str | None = None) -> tuple[str, str | None]:
    """(backend, server URL) for MySQL-dialect tasks (DBBench) when no backend was named: MariaDB,
    which reproduces MySQL's semantics, at `server_url` or $COACHGYM_MYSQL_URL, else a throwaway
    local server when MariaDB is installed; else SQLite, with a warning naming what differs."""
    url = server_url or os.environ.get(URL_VARIABLES["mysql"])
    if url:
        return "mysql", url
    from coachgym.envs.database.servers import ServerUnavailable, missing_reason, shared_server

    reason = missing_reason("mariadb")
    if reason is None:
        try:
            return "mysql", shared_server("mariadb").url
        except ServerUnavailable as error:
            reason = f"a local MariaDB server did not start: {error}"
    warnings.warn(f"DBBench runs on SQLite, which does not reproduce all of MySQL's semantics ({reason}): integer "
                  "division, text arithmetic and decimal literals differ (docs/database.md lists them). For MySQL's "
                  "semantics install `mariadb-server` or set COACHGYM_MYSQL_URL.", stacklevel=3)
    return "sqlite", None


def make_backend(
    name: str | None = None, server_url: str | None = None, limits: Limits | None = None
) -> DatabaseBackend:
    kind = backend_kind(name)
    if kind == "sqlite":
        from coachgym.envs.database.backends.sqlite import SQLiteBackend

        return SQLiteBackend(limits)
    url = server_url or os.environ.get(URL_VARIABLES[kind])
    if not url:
        product = "a MariaDB/MySQL" if kind == "mysql" else "a PostgreSQL"
        raise BackendUnavailable(
            f"The {kind} backend needs {product} server: pass server_url=... or set {URL_VARIABLES[kind]} "
            f"(e.g. {ServerSettings.example(kind)}). For a throwaway local server run "
            f"`python -m coachgym.envs.database.servers {'mariadb' if kind == 'mysql' else 'postgres'}`."
        )
    settings = ServerSettings.from_url(url)
    if kind == "mysql":
        from coachgym.envs.database.backends.mysql import MySQLBackend

        return MySQLBackend(settings, limits)
    from coachgym.envs.database.backends.postgres import PostgresBackend

    return PostgresBackend(settings, limits)


__all__ = ["BackendUnavailable", "DatabaseBackend", "Limits", "QueryError", "QueryResult", "ServerSettings",
           "backend_kind", "make_backend", "mysql_default"]
