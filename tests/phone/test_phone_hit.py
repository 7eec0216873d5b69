"""What is drawn is what is tapped: element boxes, pixels and hit-testing agree at every scale."""

from __future__ import annotations

import numpy as np
import pytest

from coachgym.envs.phone import PhoneEnv
from coachgym.envs.phone.ui import Screen
from tests.phone.conftest import element, play, tap

SCALES = [560, 777, 1120, 2400]
# Full-resolution (1080x2400) renders are ~10x the default's cost: those variants run in CI only.
FAST_AND_FULL = [560, 1120, pytest.param(2400, marks=pytest.mark.slow)]


def _screens(height: int):
    """A tour of representative screens: (name, env positioned on it)."""
    steps = {
        "home": [],
        "settings": ['open_app("Settings")'],
        "contact form + keyboard": ['open_app("Contacts")', ("tap", "Create contact"), ("tap", "Phone")],
        "shop filter": ['open_app("Shop")', ("tap", "Filter products")],
        "dialog": ['open_app("Notes")', ("long", "Groceries")],
        "shade": ['{"action_type": "swipe", "direction": "down", "x": 10, "y": 1}'],
    }
    for name, plan in steps.items():
        env = PhoneEnv(task="phone-settings-wifi-off", screenshot_height=height)
        env.reset(seed=0)
        for step in plan:
            if isinstance(step, tuple):
                tap(env, step[1], "click" if step[0] == "tap" else "long_press")
            else:
                play(env, [step])
        yield name, env


def _active(screen: Screen):
    return [n for n in screen.nodes[screen.modal_from or 0:] if n.clickable]


@pytest.mark.parametrize("height", SCALES)
def test_every_drawn_pixel_of_an_element_hits_exactly_that_element(height):
    for name, env in _screens(height):
        screen, scale = env.device.screen(), env.scale
        nodes = _active(screen)
        boxes = [scale.rect(n.bounds) for n in nodes]
        for i, node in enumerate(nodes):
            x0, y0, x1, y1 = boxes[i]
            assert x1 > x0 and y1 > y0, (name, node)
            covered = [b for b in boxes[i + 1:] if b[0] < x1 and x0 < b[2] and b[1] < y1 and y0 < b[3]]
            if node.style == "scrim":
                continue  # the dialog's backdrop lies under the dialog by design
            assert not covered, f"{name}: {node.text or node.desc} is overlapped by a later element"
            for x, y in [(x0, y0), (x1 - 1, y0), (x0, y1 - 1), (x1 - 1, y1 - 1), ((x0 + x1) // 2, (y0 + y1) // 2)]:
                assert screen.hit(scale, x, y) is node, (name, height, node.text or node.desc, x, y)
            for x, y in [(x0 - 1, (y0 + y1) // 2), (x1, (y0 + y1) // 2), ((x0 + x1) // 2, y0 - 1),
                         ((x0 + x1) // 2, y1)]:
                assert screen.hit(scale, x, y) is not node


@pytest.mark.parametrize("height", [560, 777, 1120, pytest.param(2400, marks=pytest.mark.slow)])
def test_each_element_draws_only_inside_its_box(height):
    """Removing one element from the screen changes pixels only inside its box (and some pixels)."""
    for name, env in _screens(height):
        screen, dark = env.device.screen(), env.device.state.settings.dark_mode
        full = env.renderer.render(screen, dark)
        for node in _active(screen):
            if node.style == "scrim":
                continue
            without = Screen(screen.title, [n for n in screen.nodes if n is not node], screen.modal_from)
            diff = np.any(env.renderer.render(without, dark) != full, axis=2)
            x0, y0, x1, y1 = env.scale.rect(node.bounds)
            inside = diff[y0:y1, x0:x1].sum()
            assert inside > 0, (name, node.text or node.desc)
            assert inside == diff.sum(), f"{name} @ {height}: {node.text or node.desc!r} draws outside its box"


@pytest.mark.parametrize("height", FAST_AND_FULL)
def test_tapping_an_elements_pixels_equals_clicking_its_index(height):
    """End to end through `step`: a tap anywhere inside an element's bounds does what click(index) does."""
    base = PhoneEnv(task="phone-settings-wifi-off", screenshot_height=height)
    base.reset(seed=0)
    play(base, ['open_app("Settings")'])
    for item in base.ui_elements():
        if not item["is_clickable"] or item["class_name"] == "android.widget.SeekBar":
            continue
        results = []
        x0, y0, x1, y1 = item["bounds"]
        for action in [f"click(index={item['index']})", f"click(x={x0}, y={y0})", f"click(x={x1 - 1}, y={y1 - 1})"]:
            env = PhoneEnv(task="phone-settings-wifi-off", screenshot_height=height)
            env.reset(seed=0)
            obs, _ = play(env, ['open_app("Settings")', action])
            results.append((env.device.snapshot(), obs["screenshot"]))
        assert all(r[0] == results[0][0] and np.array_equal(r[1], results[0][1]) for r in results[1:]), item


@pytest.mark.parametrize("height", [560, 1120, 2400])
def test_slider_value_follows_the_tapped_pixel(height):
    env = PhoneEnv(task="phone-settings-brightness-30", screenshot_height=height)
    env.reset(seed=0)
    play(env, ['open_app("Settings")'])
    x0, y0, x1, y1 = element(env, "Brightness")["bounds"]
    y = (y0 + y1) // 2
    for target in (0, 30, 77, 100):
        x = min(x1 - 1, x0 + round(target / 100 * (x1 - x0) - 0.5))
        play(env, [f"click(x={x}, y={y})"])
        assert abs(env.device.state.settings.brightness - target) <= 100 / (x1 - x0) + 0.5


def test_a_tap_reports_where_it_touched_as_fractions_of_the_screenshot():
    env = PhoneEnv(task="phone-settings-wifi-off", screenshot_height=560)
    obs, _ = env.reset(seed=0)
    height, width = obs["screenshot"].shape[:2]
    item = element(env, "Settings")
    x0, y0, x1, y1 = item["bounds"]
    _, _, _, _, info = env.step(f"click(index={item['index']})")
    (x, y), = info["pointer"]
    assert x0 <= x * width < x1 and y0 <= y * height < y1
    _, _, _, _, info = env.step(f"click(x={width // 4}, y={height // 2})")
    assert info["pointer"] == [[round((width // 4) / width, 4), 0.5]]
    _, _, _, _, info = env.step('{"action_type": "navigate_back"}')
    assert "pointer" not in info
