"""Fixtures for the database env tests: each test runs on every backend (servers: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from coachgym.envs.database import DatabaseEnv

BACKENDS = ["sqlite", "mariadb", "postgres"]


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
