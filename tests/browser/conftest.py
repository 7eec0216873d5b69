"""Shared browser-env fixtures: one env per test module (the Chromium process is shared anyway)."""

from __future__ import annotations

import pytest

from coachgym.envs.browser import BrowserEnv


@pytest.fixture(scope="module")
def app_env():
    env = BrowserEnv(suite="browser", viewport_width=800, viewport_height=600)
    yield env
    env.close()


@pytest.fixture(scope="module")
def miniwob_env():
    env = BrowserEnv(suite="miniwob")
    yield env
    env.close()
