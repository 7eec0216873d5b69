"""The optional adb adapter's pure parts (no device here): action -> adb commands, XML -> UI tree."""

from __future__ import annotations

import shlex

import pytest

from coachgym.envs.actions import ActionError
from coachgym.envs.phone.actions import PHONE_ACTIONS
from coachgym.envs.phone.adb import AdbPhone, Geometry, commands, parse_uiautomator
from coachgym.envs.phone.expert import parse_elements
from coachgym.envs.phone.ui import format_elements

# A 1080x2400 device shown as a 540x1200 screenshot: every screenshot pixel is 2x2 device pixels.
GEO = Geometry(device_w=1080, device_h=2400, shot_w=540, shot_h=1200)
DUMP = """<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation="0">
<node index="0" text="" class="android.widget.FrameLayout" content-desc="" checkable="false" checked="false"
 clickable="false" focused="false" bounds="[0,0][1080,2400]">
 <node index="0" text="Wi-Fi" class="android.widget.Switch" content-desc="" checkable="true" checked="true"
  clickable="true" focused="false" bounds="[0,300][1080,468]" />
 <node index="1" text="" class="android.widget.EditText" content-desc="Search" checkable="false" checked="false"
  clickable="true" focused="true" bounds="[40,500][1040,640]" />
 <node index="2" text="" class="android.view.View" content-desc="" clickable="false" bounds="[0,700][10,710]" />
</node></hierarchy>"""


def _cmds(text: str, elements=()):
    return commands(PHONE_ACTIONS.parse(text), list(elements), GEO)


def test_uiautomator_xml_becomes_phone_env_elements():
    elements = parse_uiautomator(DUMP, GEO)
    assert [e["text"] or e["content_description"] for e in elements] == ["Wi-Fi", "Search"]
    wifi, search = elements
    assert wifi["bounds"] == [0, 150, 540, 234] and wifi["is_checked"] is True and wifi["is_clickable"]
    assert search["is_editable"] and search["is_focused"] and not search["is_checkable"] and search["text"] is None
    assert wifi["bbox_pixels"] == {"x_min": 0, "y_min": 300, "x_max": 1080, "y_max": 468}
    assert wifi["bbox"]["y_max"] == 468 / 2400  # normalized by the device screen, as AndroidWorld does
    # the same text format as the simulated phone, so the same prompts and expert parser apply
    assert [e.text or e.desc for e in parse_elements(format_elements(elements))] == ["Wi-Fi", "Search"]


def test_taps_land_on_the_device_pixel_under_the_screenshot_pixel():
    elements = parse_uiautomator(DUMP, GEO)
    assert _cmds('{"action_type": "click", "x": 100, "y": 200}') == [["shell", "input", "tap", "201", "401"]]
    assert _cmds('{"action_type": "click", "index": 0}', elements) == [["shell", "input", "tap", "539", "383"]]
    assert len(_cmds('{"action_type": "double_tap", "x": 1, "y": 1}')) == 2
    assert _cmds('{"action_type": "long_press", "x": 1, "y": 1}')[0][3:] == ["3", "3", "3", "3", "800"]
    with pytest.raises(ActionError, match="no element 5"):
        _cmds('{"action_type": "click", "index": 5}', elements)


def test_text_is_quoted_for_the_device_shell_and_keys_map_to_keycodes():
    elements = parse_uiautomator(DUMP, GEO)
    typed = _cmds('{"action_type": "input_text", "text": "it\'s $HOME; rm -rf /", "index": 1}', elements)
    assert typed[0][:3] == ["shell", "input", "tap"]
    assert shlex.split(typed[-1][-1]) == ["it's%s$HOME;%srm%s-rf%s/"]  # one inert word on the device
    assert _cmds("navigate_back()") == [["shell", "input", "keyevent", "4"]]
    assert _cmds("keyboard_enter()") == [["shell", "input", "keyevent", "66"]]
    assert _cmds('answer("x")') == [] and _cmds("wait()") == []


def test_scroll_moves_the_finger_against_the_direction_and_open_app_needs_a_known_package():
    (down,) = _cmds('{"action_type": "scroll", "direction": "down"}')
    assert int(down[6]) < int(down[4])  # finger moves up to reveal what is below
    (swipe,) = _cmds('{"action_type": "swipe", "direction": "down", "x": 270, "y": 0}')
    assert swipe[3:7] == ["541", "1", "541", "801"]
    assert _cmds('open_app("Settings")')[0][3] == "com.android.settings"
    with pytest.raises(ActionError, match="Unknown app"):
        _cmds('open_app("Frobnicator")')


def test_missing_adb_binary_is_one_clear_error():
    with pytest.raises(RuntimeError, match="platform-tools"):
        AdbPhone(adb="/nonexistent/adb")
