"""Fixtures for the database env tests: throwaway MariaDB/PostgreSQL servers, one per session.

A server test is skipped (with the reason) only when the server binary is missing on this machine
and $CI is unset; in CI a missing server fails the run instead of silently skipping.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from coachgym.envs.database import DatabaseEnv
from coachgym.envs.database.servers import missing_reason, start_server

BACKENDS = ["sqlite", "mariadb", "postgres"]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _server(kind: str) -> Iterator[str]:
    reason = missing_reason(kind)
    if reason:
        if in_ci():
            pytest.fail(f"{reason}. CI is set, so a missing {kind} server is an error, not a skip.")
        pytest.skip(reason)
    server = start_server(kind)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    yield from _server("mariadb")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    yield from _server("postgres")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """(backend name, server URL or None) for each backend in turn."""
    kind = request.param
    return kind, None if kind == "sqlite" else request.getfixturevalue(f"{kind}_url")


@pytest.fixture
def make_env(backend: tuple[str, str | None]) -> Iterator[Callable[..., DatabaseEnv]]:
    """Build envs on the current backend; all are closed (databases dropped) afterwards."""
    made: list[DatabaseEnv] = []

    def make(**kwargs) -> DatabaseEnv:
        env = DatabaseEnv(backend=backend[0], server_url=backend[1], **kwargs)
        made.append(env)
        return env

    yield make
    for env in made:
        env.close()
