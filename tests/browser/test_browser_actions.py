"""The browser vocabulary parses both call syntax and WebArena's bracket syntax, and rejects junk."""

from __future__ import annotations

import numpy as np
import pytest

from coachgym.envs.actions import ActionError
from coachgym.envs.browser.actions import BROWSER_ACTIONS


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ('Thought: go\nAction: click("12")', "click", {"id": "12"}),
        ("click(12)", "click", {"id": "12"}),
        ("click [7-3]", "click", {"id": "7-3"}),
        ("type [5] [blue mug] [0]", "type", {"id": "5", "text": "blue mug", "enter": False}),
        ("type [5] [blue mug]", "type", {"id": "5", "text": "blue mug", "enter": True}),
        ('type("5", "a, b", enter=True)', "type", {"id": "5", "text": "a, b", "enter": True}),
        ("press [Ctrl+a]", "press", {"key": "Control+a"}),
        ("scroll [down]", "scroll", {"dx": 0.0, "dy": 400.0}),
        ("tab_focus [1]", "switch_tab", {"index": 1}),
        ("stop [42 dollars]", "answer", {"text": "42 dollars"}),
        ("go_back", "go_back", {}),
        ("click_xy(10, 20.5)", "click_xy", {"x": 10.0, "y": 20.5}),
    ],
)
def test_browser_actions_parse(text, name, args):
    parsed = BROWSER_ACTIONS.parse(text)
    assert parsed.name == name and parsed.args | args == parsed.args


@pytest.mark.parametrize("text", ["click", "scroll [sideways]", "click_xy(-5, 3)", "switch_tab(x)", "frobnicate(1)"])
def test_browser_actions_reject(text):
    with pytest.raises(ActionError):
        BROWSER_ACTIONS.parse(text)


def test_browser_actions_format_and_sample_round_trip():
    rng = np.random.default_rng(0)
    for _ in range(50):
        text = BROWSER_ACTIONS.sample(rng)
        assert BROWSER_ACTIONS.parse(text).name in BROWSER_ACTIONS.specs
    assert BROWSER_ACTIONS.parse(BROWSER_ACTIONS.format("type", "3", 'say "hi"', enter=True)).args["text"] == 'say "hi"'
