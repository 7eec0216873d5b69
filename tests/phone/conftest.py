"""Shared helpers for the phone tests: building envs and playing action lists."""

from __future__ import annotations

from typing import Any

import pytest

from coachgym.envs.phone import PhoneEnv
from coachgym.envs.phone.suite import builtin_suite


@pytest.fixture(scope="session")
def suite():
    return builtin_suite()


def play(env: PhoneEnv, actions: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Step through `actions`, failing loudly on any action the env rejects."""
    obs, info = {}, {}
    for action in actions:
        obs, _, _, _, info = env.step(action)
        assert "action_error" not in info, (action, info.get("action_error"))
    return obs, info


def element(env: PhoneEnv, name: str) -> dict[str, Any]:
    """The first listed UI element whose text, content description or hint is `name`."""
    for item in env.ui_elements():
        if name in (item["text"], item["content_description"], item["hint_text"]):
            return item
    shown = [e["text"] or e["content_description"] or e["hint_text"] for e in env.ui_elements()]
    raise AssertionError(f"{name!r} is not on screen: {shown}")


def tap(env: PhoneEnv, name: str, verb: str = "click") -> dict[str, Any]:
    """`verb` the on-screen element called `name` by its index; returns the observation."""
    return play(env, [f"{verb}(index={element(env, name)['index']})"])[0]
