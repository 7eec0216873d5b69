"""AndroidWorld-format action sequences against the native and the `androidworld` dialect.

The sequences are written from AndroidWorld's documentation of `JSONAction` and its actuation:
Enter after `input_text`, edge swipes, index-or-coordinates, device pixels, `unknown`, `keycode`.
`"@Name"` in an action stands for the index of the element called Name on the current screen.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from coachgym.envs.phone import PhoneEnv
from coachgym.envs.phone.ui import LOGICAL_H, LOGICAL_W

UI_ELEMENT_FIELDS = {"text", "content_description", "class_name", "bbox", "bbox_pixels", "hint_text", "is_checked",
                     "is_checkable", "is_clickable", "is_editable", "is_enabled", "is_focused", "is_focusable",
                     "is_long_clickable", "is_scrollable", "is_selected", "is_visible", "package_name",
                     "resource_name", "tooltip", "resource_id"}


def _named(env: PhoneEnv, name: str) -> dict[str, Any]:
    return next(e for e in env.ui_elements() if name in (e["text"], e["content_description"], e["hint_text"]))


def _run(dialect: str, task: str, actions: list[dict[str, Any]]) -> tuple[PhoneEnv, list[str | None]]:
    """Play the actions; returns the env and each step's action error (None when accepted)."""
    env = PhoneEnv(task=f"phone-{task}", screenshot_height=560, action_dialect=dialect, max_invalid_actions=99)
    env.reset(seed=0)
    errors = []
    for action in actions:
        resolved = {k: (_named(env, v[1:])["index"] if isinstance(v, str) and v.startswith("@") else v)
                    for k, v in action.items()}
        if resolved.get("x") == "centre of Dark mode":  # device pixels of an element's centre
            box = _named(env, "Dark mode")["bbox_pixels"]
            resolved["x"], resolved["y"] = (box["x_min"] + box["x_max"]) / 2, (box["y_min"] + box["y_max"]) / 2 + 0.4
        _, _, terminated, _, info = env.step(json.dumps(resolved))
        errors.append(info.get("action_error"))
        if terminated:
            break
    return env, errors


def _open(app: str) -> dict[str, Any]:
    return {"action_type": "open_app", "app_name": app}


# (name, task, actions, check on the native env, check on the androidworld env)
SEQUENCES = [
    ("lookup by index and answer", "contacts-ask-nina",
     [_open("Contacts"), {"action_type": "scroll", "direction": "down"},
      {"action_type": "click", "index": "@Nina Patel"},
      {"action_type": "answer", "text": "+1 415 555 0114"}, {"action_type": "status", "goal_status": "complete"}],
     lambda env, errors: not any(errors) and env.device.state.answer == "+1 415 555 0114",
     lambda env, errors: not any(errors) and env.device.state.answer == "+1 415 555 0114"),
    ("input_text presses Enter", "messages-text-number",
     [_open("Messages"), {"action_type": "click", "index": "@Start chat"},
      {"action_type": "input_text", "text": "+1 650 555 0123", "index": "@To: name or number"}],
     lambda env, errors: not any(errors) and env.device.view.page == "new",
     lambda env, errors: not any(errors) and env.device.view.page == "thread"),
    ("input_text sends in a chat", "messages-text-carol",
     [_open("Messages"), {"action_type": "click", "index": "@Carol White"},
      {"action_type": "input_text", "text": "I'll send the report tonight", "index": "@Text message"}],
     lambda env, errors: not any(errors) and env.device.state.messages[-1].outgoing is False,
     lambda env, errors: not any(errors) and env.device.state.messages[-1].body == "I'll send the report tonight"),
    ("bare swipe down is an edge swipe", "settings-dnd",
     [{"action_type": "swipe", "direction": "down"}],
     lambda env, errors: not any(errors) and env.device.overlay is None,
     lambda env, errors: not any(errors) and env.device.overlay == "shade"),
    ("index and x/y together", "settings-wifi-off",
     [_open("Settings"), {"action_type": "click", "index": "@Wi-Fi", "x": 10, "y": 10}],
     lambda env, errors: errors[1] is None and env.device.state.settings.wifi is False,
     lambda env, errors: errors[1] is not None and env.device.state.settings.wifi is True),
    ("float device-pixel coordinates", "settings-dark-mode",
     [_open("Settings"), {"action_type": "click", "x": "centre of Dark mode", "y": 0}],
     lambda env, errors: errors[1] is not None and not env.device.state.settings.dark_mode,
     lambda env, errors: errors[1] is None and env.device.state.settings.dark_mode),
    ("unknown and keycode", "settings-wifi-off",
     [{"action_type": "unknown"}, {"action_type": "wait", "keycode": "KEYCODE_HOME"}],
     lambda env, errors: all(errors), lambda env, errors: not any(errors)),
    ("input_text at x/y", "notes-add-meeting",
     [_open("Notes"), {"action_type": "click", "index": "@New note"},
      {"action_type": "input_text", "text": "Meeting notes", "x": 540, "y": 340}],
     lambda env, errors: errors[2] is not None,
     lambda env, errors: errors[2] is None and env.device.view.fields.get("title") == "Meeting notes"),
    ("scroll with an index", "contacts-ask-nina",
     [_open("Contacts"), {"action_type": "scroll", "direction": "down", "index": "@Alice Chen"}],
     lambda env, errors: not any(errors) and env.device.view.scroll > 0,
     lambda env, errors: not any(errors) and env.device.view.scroll > 0),
    ("scroll from an element outside the list", "contacts-ask-nina",
     [_open("Contacts"), {"action_type": "scroll", "direction": "down", "index": "@Create contact"}],
     lambda env, errors: not any(errors) and env.device.view.scroll > 0,
     lambda env, errors: not any(errors) and env.device.view.scroll == 0),
]


@pytest.mark.parametrize("name, task, actions, native_ok, aw_ok", SEQUENCES, ids=[s[0] for s in SEQUENCES])
def test_androidworld_sequences_in_both_dialects(name, task, actions, native_ok, aw_ok):
    assert native_ok(*_run("native", task, actions)), "native dialect"
    assert aw_ok(*_run("androidworld", task, actions)), "androidworld dialect"


@pytest.mark.parametrize("action, message", [
    ({"action_type": "tap", "index": 1}, "Invalid action type"),
    ({"action_type": "click", "index": 1, "speed": 3}, "Unexpected key"),
    ({"action_type": "click", "index": 1, "y": 3}, "Either an index"),
    ({"action_type": "scroll", "direction": "sideways"}, "Invalid scroll direction"),
    ({"action_type": "wait", "keycode": "ENTER"}, "Invalid keycode"),
    ({"action_type": "click"}, "Invalid click action"),
    ({"action_type": "click", "index": 999}, "Invalid element index"),
    ({"action_type": "open_app"}, "No app name"),
])
def test_androidworld_rejects_what_json_action_rejects(action, message):
    env = PhoneEnv(task="phone-settings-wifi-off", screenshot_height=320, action_dialect="androidworld")
    env.reset(seed=0)
    info = env.step(json.dumps(action))[4]
    assert message in info.get("action_error", ""), info


def test_androidworld_accepts_what_json_action_accepts():
    env = PhoneEnv(task="phone-contacts-ask-nina", screenshot_height=320, action_dialect="androidworld")
    env.reset(seed=0)
    env.step(json.dumps(_open("Contacts")))
    for action in [{"action_type": "click", "index": str(_named(env, "Home")["index"])},  # "3" is index 3
                   {"action_type": "answer", "text": 4155550114}, {"action_type": "wait", "index": None, "x": None},
                   {"action_type": "long_press", "x": 540.9, "y": 1200.2}]:
        info = env.step(json.dumps(action))[4]
        assert "action_error" not in info, (action, info["action_error"])
    assert env.device.state.answer == "4155550114" and env.device.view is None


def test_ui_elements_carry_every_androidworld_field_with_its_conventions():
    env = PhoneEnv(task="phone-messages-text-number", screenshot_height=560, action_dialect="androidworld")
    env.reset(seed=0)
    env.step(json.dumps(_open("Messages")))
    env.step(json.dumps({"action_type": "click", "index": _named(env, "Start chat")["index"]}))
    elements = env.ui_elements()
    assert all(UI_ELEMENT_FIELDS <= set(e) for e in elements)
    field = _named(env, "To: name or number")
    assert field["text"] is None and field["content_description"] is None and field["hint_text"] == "To: name or number"
    assert field["is_editable"] and field["is_focusable"] and field["package_name"] == "com.coachgym.messages"
    box, norm = field["bbox_pixels"], field["bbox"]
    assert field["bounds"] == [box["x_min"], box["y_min"], box["x_max"], box["y_max"]]  # device pixels here
    assert norm["x_max"] == box["x_max"] / LOGICAL_W and norm["y_min"] == box["y_min"] / LOGICAL_H
    lists = [e for e in elements if e["class_name"].endswith("RecyclerView")]
    assert len(lists) == 1 and lists[0]["is_scrollable"] and not lists[0]["is_clickable"]
    assert _named(env, "Back")["package_name"] == "com.android.systemui"
    env.step(json.dumps({"action_type": "navigate_back"}))
    thread_row = _named(env, "Carol White")
    assert thread_row["is_long_clickable"] and thread_row["resource_name"] == "com.coachgym.messages:id/row"


def test_random_androidworld_actions_and_junk_never_break_the_env():
    env = PhoneEnv(screenshot_height=320, action_dialect="androidworld", max_invalid_actions=1000)
    rng = np.random.default_rng(0)
    accepted = 0
    for episode in range(6):
        env.reset(seed=episode)
        for _ in range(40):
            action = env.actions.sample(rng)
            if rng.random() < 0.2:  # AndroidWorld-shaped but wrong
                action = json.dumps({"action_type": "click", "index": int(rng.integers(-3, 60)),
                                     "x": float(rng.uniform(-10, 1200)), "text": [1, 2]})
            if '"status"' in action:
                continue
            obs, _, terminated, truncated, info = env.step(action)
            assert "env_error" not in info, (action, info["env_error"])
            accepted += "action_error" not in info
            if terminated or truncated:
                break
    assert accepted > 100
