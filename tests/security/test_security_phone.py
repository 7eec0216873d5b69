"""Deeply nested actions are invalid actions with an explanation, never env errors (issue #16).

`json.loads` and `ast` recurse once per bracket, so '[' * 5000 used to raise RecursionError out of
the phone's JSON dialect and end the episode as env_error. The shared parser now rejects nesting
beyond `MAX_NESTING` for every env and every syntax.
"""

from __future__ import annotations

import pytest

from coachgym.envs.actions import MAX_NESTING, ActionError
from coachgym.envs.browser.actions import BROWSER_ACTIONS
from coachgym.envs.database.vocabulary import DATABASE_ACTIONS
from coachgym.envs.phone import PhoneEnv
from coachgym.envs.phone.actions import PHONE_ACTIONS

ISSUE_ACTION = '{"action_type":"click","x":' + "[" * 5000 + "]" * 5000 + "}"


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_the_issue_action_is_an_invalid_action_and_the_episode_goes_on():
    env = PhoneEnv(task="phone-settings-wifi-off", screenshot_height=320)
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(ISSUE_ACTION)
    assert "env_error" not in info and info["outcome"] is None
    assert f"more than {MAX_NESTING} levels deep" in info["action_error"]
    assert obs["text"].startswith("Invalid action:") and not (terminated or truncated) and reward == 0.0
    _, _, _, _, info = env.step('{"action_type": "open_app", "app_name": "Settings"}')
    assert "action_error" not in info


@pytest.mark.parametrize("actions, text", [
    (PHONE_ACTIONS, '{"action_type": "click", "x": ' + _nested(MAX_NESTING + 1) + "}"),
    (PHONE_ACTIONS, '{"action_type": "answer", "text": ' + '{"a": ' * 2000 + "1" + "}" * 2000 + "}"),
    (PHONE_ACTIONS, "{'action_type': 'click', 'x': " + _nested(3000) + "}"),  # the ast.literal_eval fallback
    (PHONE_ACTIONS, "click(x=" + _nested(MAX_NESTING + 1) + ")"),
    (BROWSER_ACTIONS, "answer(" + _nested(MAX_NESTING + 1) + ")"),
    (DATABASE_ACTIONS, "answer(" + _nested(MAX_NESTING + 1) + ")"),
    (DATABASE_ACTIONS, "Action: Answer\nFinal Answer: " + _nested(MAX_NESTING + 1)),
])
def test_nesting_deeper_than_the_limit_is_an_invalid_format_in_every_syntax(actions, text):
    with pytest.raises(ActionError) as error:
        actions.parse(text)
    assert error.value.kind == "invalid_format"


def test_nesting_within_the_limit_still_parses():
    parsed = DATABASE_ACTIONS.parse("answer([" + _nested(MAX_NESTING - 1) + "])")
    value = parsed.args["values"]
    for _ in range(MAX_NESTING - 1):
        assert isinstance(value, list) and len(value) == 1
        value = value[0]
    assert value == []
