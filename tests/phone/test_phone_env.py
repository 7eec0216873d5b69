"""PhoneEnv end to end: Gymnasium contract, observations, system UI and bad input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import coachgym  # noqa: F401 - registers envs
from coachgym.envs.phone import PhoneEnv
from tests.phone.conftest import element, play, tap


def test_gymnasium_make_and_check_env():
    env = gym.make("coachgym/Phone-v0", screenshot_height=560)
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=0, options={"task_id": "phone-settings-wifi-off"})
    assert obs["screenshot"].shape == (560, 252, 3) and obs["screenshot"].dtype == np.uint8
    assert env.observation_space.contains(obs)
    assert info["ui_elements"] and {"index", "class_name", "text", "content_description", "bounds", "is_clickable",
                                    "is_editable", "is_checked"} <= set(info["ui_elements"][0])


def test_default_resolution_keeps_phone_aspect_and_rgb_array_render():
    env = PhoneEnv(render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    assert obs["screenshot"].shape == (1120, 504, 3)
    assert np.array_equal(env.render(), obs["screenshot"])
    with pytest.raises(ValueError, match="screenshot_height"):
        PhoneEnv(screenshot_height=50)


def test_settings_switch_changes_state_status_bar_and_screenshot():
    env = PhoneEnv(task="phone-settings-wifi-off")
    env.reset(seed=0)
    before = play(env, ['{"action_type": "open_app", "app_name": "Settings"}'])[0]["screenshot"]
    wifi = element(env, "Wi-Fi")
    assert wifi["is_checked"] is True and wifi["class_name"] == "android.widget.Switch"
    obs, reward, terminated, _, info = env.step(f'{{"action_type": "click", "index": {wifi["index"]}}}')
    assert env.device.state.settings.wifi is False and element(env, "Wi-Fi")["is_checked"] is False
    assert not any(e["content_description"] == "Wi-Fi connected" for e in env.ui_elements())
    assert not np.array_equal(before, obs["screenshot"])
    obs, reward, terminated, _, info = env.step('{"action_type": "status", "goal_status": "complete"}')
    assert terminated and reward == 1.0 and info["success"] and info["outcome"] == "completed"


def test_keyboard_opens_on_focus_types_with_keys_and_hides_on_back():
    env = PhoneEnv(task="phone-notes-add-meeting")
    env.reset(seed=0)
    play(env, ['open_app("Notes")'])
    tap(env, "New note")
    obs = tap(env, "Title")
    assert "Keyboard: open" in obs["text"] and element(env, "Title")["is_focused"]
    keys = {n.text: n for n in env.device.screen().nodes if n.style == "key"}
    for char in "hi":  # tap the drawn keys by pixel
        x0, y0, x1, y1 = env.scale.rect(keys[char].bounds)
        play(env, [f"click(x={(x0 + x1) // 2}, y={(y0 + y1) // 2})"])
    assert element(env, "Title")["text"] == "hi"
    obs, _ = play(env, ["navigate_back()"])
    assert "Keyboard: open" not in obs["text"] and env.device.view.page == "edit"


def test_notification_shade_opens_from_status_bar_and_tiles_toggle():
    env = PhoneEnv(task="phone-settings-dnd")
    env.reset(seed=0)
    obs, _ = play(env, ['{"action_type": "swipe", "direction": "down", "x": 250, "y": 400}'])
    assert "Notification shade" not in obs["text"]  # a swipe mid-screen does not open it
    obs, _ = play(env, ['{"action_type": "swipe", "direction": "down", "x": 250, "y": 5}'])
    assert "Screen: Notification shade" in obs["text"]
    tap(env, "Do not disturb")
    assert env.device.state.settings.do_not_disturb
    obs, _ = play(env, ["navigate_back()"])
    assert "Screen: Home screen" in obs["text"]


def test_recent_apps_restore_the_page_left_and_back_goes_home():
    env = PhoneEnv(task="phone-contacts-ask-nina")
    env.reset(seed=0)
    play(env, ['open_app("Contacts")'])
    tap(env, "Bob Martinez")
    play(env, ["navigate_home()"])
    tap(env, "Overview")
    obs = tap(env, "Contacts")
    assert "Screen: Contacts › Bob Martinez" in obs["text"]
    tap(env, "Overview")  # the app that is open right now comes back as it is, too
    assert "Screen: Contacts › Bob Martinez" in tap(env, "Contacts")["text"]
    play(env, ["navigate_back()"])
    obs, _ = play(env, ["navigate_back()"])
    assert "Screen: Home screen" in obs["text"]


def test_dialog_is_modal_and_dark_mode_rethemes_every_screen():
    env = PhoneEnv(task="phone-notes-delete-books")
    env.reset(seed=0)
    play(env, ['open_app("Notes")'])
    tap(env, "Book list", "long_press")
    names = [e["text"] or e["content_description"] for e in env.ui_elements()]
    assert "Groceries" not in names and "Delete" in names and "Cancel" in names  # only the dialog is reachable
    light = env._screenshot()
    env.device.state.settings.dark_mode = True
    dark = env._screenshot()
    assert dark.mean() < light.mean() - 20


@pytest.mark.parametrize("bad, message", [
    ('{"action_type": "click", "index": 999}', "no element 999"),
    ('{"action_type": "click", "x": 9000, "y": 10}', "off the screen"),
    ('{"action_type": "click"}', "needs an element"),
    ('{"action_type": "open_app", "app_name": "Camera"}', "No app named"),
    ('{"action_type": "input_text", "text": "hi"}', "No text field has focus"),
    ('{"action_type": "fly"}', "Unknown action"),
    ('{"action_type": "click", "index": 1', "Unclosed JSON"),
    ('{"action_type": "scroll", "direction": "sideways"}', "must be one of"),
    ('{"action_type": "status", "goal_status": "done"}', "must be one of"),
    ("I think I should tap it", "No action found"),
])
def test_bad_actions_are_explained_not_raised(bad, message):
    env = PhoneEnv(task="phone-settings-wifi-off")
    env.reset(seed=0)
    before = env.device.snapshot()
    obs, reward, terminated, truncated, info = env.step(bad)
    assert message in info["action_error"] and "Invalid action" in obs["text"] and not terminated
    assert env.device.snapshot() == before


def test_input_text_on_a_non_field_is_an_action_error():
    env = PhoneEnv(task="phone-settings-wifi-off")
    env.reset(seed=0)
    obs, _, _, _, info = env.step(f'{{"action_type": "input_text", "text": "x", "index": '
                                  f'{element(env, "Open Settings")["index"]}}}')
    assert "not a text field" in info["action_error"]


def test_function_call_and_json_forms_are_the_same_action():
    outs = []
    for action in ['{"action_type": "open_app", "app_name": "Calendar"}', 'Action: open_app(app_name="Calendar")',
                   "Thought: go.\n{'action_type': 'open_app', 'app_name': 'calendar'}"]:
        env = PhoneEnv(task="phone-calendar-ask-last")
        env.reset(seed=4)
        outs.append(play(env, [action])[0]["screenshot"])
    assert all(np.array_equal(outs[0], o) for o in outs[1:])


def test_normalized_coordinates_option():
    env = PhoneEnv(task="phone-settings-bluetooth-on", coordinates="normalized")
    env.reset(seed=0)
    obs, _ = play(env, ['open_app("Settings")'])
    assert "0-999 normalized" in obs["text"]
    x, y = env.element_center(element(env, "Bluetooth")["index"])
    assert 0 <= x <= 999 and 0 <= y <= 999
    play(env, [f"click(x={x}, y={y})"])
    assert env.device.state.settings.bluetooth is True
    assert "0..999" in env.step("click(x=1000, y=5)")[4]["action_error"]
