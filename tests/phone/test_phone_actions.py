"""The AndroidWorld action vocabulary: parsing, gestures that move lists, and fuzzing with junk."""

from __future__ import annotations

import numpy as np
import pytest

from coachgym.envs.actions import ActionError
from coachgym.envs.phone import PhoneEnv
from coachgym.envs.phone.actions import PHONE_ACTIONS
from coachgym.envs.spaces import UnicodeText
from tests.phone.conftest import element, play, tap


@pytest.mark.parametrize("text, name, args", [
    ('{"action_type": "click", "index": 3}', "click", {"index": 3, "x": None, "y": None}),
    ('Reason: tap it.\nAction: {"action_type": "click", "x": 10.0, "y": 20}', "click",
     {"index": None, "x": 10, "y": 20}),
    ("{'action_type': 'input_text', 'text': 'a } b', 'index': 2}", "input_text",
     {"text": "a } b", "index": 2, "clear_text": False}),
    ('{"action_type": "scroll", "direction": "down", "index": null}', "scroll", {"direction": "down", "index": None}),
    ('input_text("hi", index=4, clear_text=True)', "input_text", {"text": "hi", "index": 4, "clear_text": True}),
    ("navigate_back", "navigate_back", {}),
    ('status(goal_status="infeasible")', "status", {"goal_status": "infeasible"}),
])
def test_json_and_call_forms_parse(text, name, args):
    parsed = PHONE_ACTIONS.parse(text)
    assert parsed.name == name and parsed.args == args


@pytest.mark.parametrize("text", ['{"action_type": 3}', '{"action_type": "click", "index": "three"}',
                                  '{"action_type": "click", "speed": 3}', '[1, 2]', '{"action_type": "open_app"}'])
def test_malformed_json_is_an_action_error(text):
    with pytest.raises(ActionError):
        PHONE_ACTIONS.parse(text)


def test_the_prompt_lists_every_action_with_a_json_example():
    described = PHONE_ACTIONS.describe()
    for name in ["click", "long_press", "double_tap", "input_text", "scroll", "swipe", "navigate_back",
                 "navigate_home", "open_app", "keyboard_enter", "wait", "answer", "status"]:
        assert f"{name}(" in described and f'"action_type": "{name}"' in described


def test_scroll_and_swipe_reveal_the_rest_of_a_long_list():
    env = PhoneEnv(task="phone-contacts-ask-nina")
    env.reset(seed=0)
    play(env, ['open_app("Contacts")'])
    with pytest.raises(AssertionError):
        element(env, "Nina Patel")
    play(env, ['{"action_type": "scroll", "direction": "down"}'])
    assert element(env, "Nina Patel")
    obs = play(env, ['{"action_type": "scroll", "direction": "down"}'])[0]
    assert "already at the end" in obs["text"]
    play(env, ['{"action_type": "swipe", "direction": "down", "x": 200, "y": 600}'])  # finger down = scroll up
    assert element(env, "Alice Chen")
    play(env, ['{"action_type": "swipe", "direction": "up"}'])
    tap(env, "Nina Patel")
    assert "+1 415 555 0114" in [e["text"] for e in env.ui_elements()]


def test_double_tap_taps_twice_where_it_lands():
    env = PhoneEnv(task="phone-settings-wifi-off")
    env.reset(seed=0)
    play(env, ['open_app("Settings")'])
    x, y = env.element_center(element(env, "Dark mode")["index"])
    play(env, [f'{{"action_type": "double_tap", "x": {x}, "y": {y}}}'])
    assert env.device.state.settings.dark_mode is False  # toggled on, then off again
    play(env, [f'{{"action_type": "double_tap", "index": {element(env, "About phone")["index"]}}}'])
    assert env.device.view.page == "about"  # first tap opened the page, second landed on it


def test_keyboard_enter_submits_and_input_text_appends_or_replaces():
    env = PhoneEnv(task="phone-messages-text-number")
    env.reset(seed=0)
    play(env, ['open_app("Messages")'])
    tap(env, "Start chat")
    index = element(env, "To: name or number")["index"]
    play(env, [f'input_text("+1 650", index={index})', 'input_text(" 555 0123")'])
    assert element(env, "To: name or number")["text"] == "+1 650 555 0123"
    play(env, ["keyboard_enter()"])
    assert env.device.view.page == "thread" and env.device.view.arg == "+1 650 555 0123"
    box = element(env, "Text message")["index"]
    play(env, [f'input_text("draft", index={box})', f'input_text("Call me", index={box}, clear_text=true)',
               "keyboard_enter()"])
    assert env.device.state.messages[-1].body == "Call me"


def test_random_and_junk_actions_never_break_the_env():
    """Fuzz: a monkey tapping/typing on listed elements (to get deep into apps), random well-formed
    actions and arbitrary Unicode junk."""
    env = PhoneEnv(screenshot_height=320, max_invalid_actions=1000)
    rng, junk = np.random.default_rng(0), UnicodeText(200, seed=0)
    accepted, pages = 0, set()
    for episode in range(12):
        env.reset(seed=episode)
        for _ in range(40):
            roll, elements = rng.random(), env.ui_elements()
            if roll < 0.5:
                verb = ["click", "long_press", "double_tap", "input_text"][int(rng.integers(4))]
                index = int(rng.integers(len(elements)))
                action = f'{verb}("2026-11-30 12:00", index={index})' if verb == "input_text" else f"{verb}({index})"
            else:
                action = PHONE_ACTIONS.sample(rng) if roll < 0.9 else junk.sample()
            if '"status"' in action:
                continue
            obs, _, terminated, truncated, info = env.step(action)
            assert "env_error" not in info, (action, info["env_error"])
            accepted += "action_error" not in info
            pages.add(obs["text"].split("Screen: ", 1)[1].split("\n", 1)[0])
            assert obs["screenshot"].shape == (320, 144, 3)
            if terminated or truncated:
                break
    assert accepted > 200 and len(pages) > 8  # the monkey really got around
