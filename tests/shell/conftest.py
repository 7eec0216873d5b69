"""Fixtures for the shell env tests: small sandbox configs and a session-wide sandbox."""

from __future__ import annotations

import pytest

from coachgym.envs.shell import SandboxConfig, open_sandbox


@pytest.fixture(scope="session")
def fast_config() -> SandboxConfig:
    """Short timeout so hang/fork-bomb tests finish quickly."""
    return SandboxConfig(timeout_s=2, max_processes=128)


@pytest.fixture(scope="module")
def sandbox(fast_config):
    box = open_sandbox(fast_config)
    yield box
    box.close()
