"""End-to-end behaviour of BrowserEnv on the built-in apps: observation, actions, isolation, crashes."""

from __future__ import annotations

import os
import re
import signal

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env

import coachgym.envs.registry as registry
from coachgym.envs.browser import BrowserEnv
from coachgym.envs.browser.expert import find_element
from coachgym.envs.browser.session import shared_browser


def _reset(env, task_id):
    obs, _ = env.reset(seed=0, options={"task_id": task_id})
    return obs


def test_browser_env_gymnasium_make_and_check_env():
    registry.register_all()
    env = gym.make("coachgym/Browser-v0", task="shop-0-0", viewport_width=320, viewport_height=240)
    try:
        check_env(env.unwrapped, skip_render_check=True)
        obs, _ = env.reset(seed=1)
        assert obs["screenshot"].shape == (240, 320, 3) and obs["screenshot"].dtype == np.uint8
        assert env.observation_space.contains(obs)
    finally:
        env.close()


def test_browser_env_observation_lists_tabs_url_and_element_ids(app_env):
    obs = _reset(app_env, "shop-0-0")
    text = obs["text"]
    assert text.startswith("Tabs: [0] Welcome to the Shop - Shop (active)")
    assert re.search(r"^URL: http://127\.0\.0\.1:\d+/shop/$", text, re.MULTILINE)
    assert find_element(text, "textbox", "Search") and find_element(text, "button", "Search")
    assert obs["screenshot"].shape == (600, 800, 3) and obs["screenshot"].std() > 0


def test_browser_env_ids_are_stable_across_steps_and_invalid_ids_are_explained(app_env):
    obs = _reset(app_env, "shop-0-0")
    search = find_element(obs["text"], "textbox", "Search")
    obs, _, terminated, _, info = app_env.step(f'type("{search}", "mug")')
    assert not terminated and "action_error" not in info
    assert f"[{search}] textbox 'Search' value='mug'" in obs["text"]
    obs, _, terminated, _, info = app_env.step('click("99999")')
    assert "no element with id '99999'" in info["action_error"] and not terminated
    assert obs["text"].startswith("Invalid action:")
    obs, _, _, _, info = app_env.step("click the big button please")
    assert "No action found" in info["action_error"]


def test_browser_env_webarena_syntax_and_answer_scoring(app_env):
    obs = _reset(app_env, "shop-3-0")  # price question: Mechanical Keyboard costs 79.00
    search = find_element(obs["text"], "textbox", "Search")
    obs, *_ = app_env.step(f"type [{search}] [Mechanical Keyboard] [1]")
    link = find_element(obs["text"], "link", "Mechanical Keyboard")
    obs, *_ = app_env.step(f"click [{link}]")
    assert "$79.00" in obs["text"]
    _, reward, terminated, _, info = app_env.step("stop [It costs $79.00]")
    assert terminated and reward == 1.0 and info["outcome"] == "completed"


def test_browser_env_wrong_answer_scores_zero(app_env):
    _reset(app_env, "shop-3-0")
    _, reward, terminated, _, info = app_env.step('answer("12")')
    assert terminated and reward == 0.0 and not info["success"]


def test_browser_env_external_requests_are_blocked_and_episode_continues(app_env):
    obs = _reset(app_env, "shop-0-0")
    page = app_env.session.page
    page.evaluate("""() => {
        window.__fetched = 'pending';
        fetch('http://example.com/steal').then(() => window.__fetched = 'reached').catch(() => window.__fetched = 'blocked');
        const img = document.createElement('img'); img.src = 'https://1.1.1.1/pixel.png'; document.body.appendChild(img);
    }""")
    page.wait_for_function("() => window.__fetched !== 'pending'")
    assert page.evaluate("() => window.__fetched") == "blocked"
    search = find_element(obs["text"], "textbox", "Search")
    obs, _, terminated, _, info = app_env.step(f'type("{search}", "lamp", enter=True)')
    assert not terminated and "action_error" not in info
    assert "Blocked (only local sites are reachable): " in obs["text"] and "http://example.com/steal" in obs["text"]
    assert find_element(obs["text"], "link", "Desk Lamp")
    _, _, _, _, info = app_env.step('goto("https://example.org/")')
    assert "blocked" in info["action_error"]


def test_browser_env_iframe_elements_get_unique_prefixed_ids(app_env):
    obs = _reset(app_env, "booking-2-0")
    obs, *_ = app_env.step(f'click("{find_element(obs["text"], "link", "Create account")}")')
    iframe = find_element(obs["text"], "iframe", "Sign-up form")
    username = find_element(obs["text"], "textbox", "Username")
    assert iframe and username and username.startswith(iframe + "-")
    ids = re.findall(r"^\s*\[([^\]]+)\]", obs["text"], re.MULTILINE)
    assert len(ids) == len(set(ids))
    obs, _, _, _, info = app_env.step(f'type("{username}", "framed")')
    assert "action_error" not in info and "value='framed'" in obs["text"]


def test_browser_env_tabs(app_env):
    obs = _reset(app_env, "mail-0-0")
    url = re.search(r"^URL: (\S+)", obs["text"], re.MULTILINE).group(1)
    obs, *_ = app_env.step(f'new_tab("{url}compose")')
    assert "[1] New message - Webmail (active)" in obs["text"]
    obs, *_ = app_env.step("switch_tab(0)")
    assert "[0] Inbox - Webmail (active)" in obs["text"]
    _, _, _, _, info = app_env.step("switch_tab(5)")
    assert "There is no tab 5" in info["action_error"]
    obs, *_ = app_env.step("close_tab()")
    assert obs["text"].startswith("Tabs: [0] New message - Webmail (active)")


def test_browser_env_set_of_marks_draws_on_the_screenshot():
    plain = BrowserEnv(task="shop-0-0", viewport_width=400, viewport_height=300)
    marked = BrowserEnv(task="shop-0-0", viewport_width=400, viewport_height=300, set_of_marks=True)
    try:
        a, _ = plain.reset(seed=0)
        b, _ = marked.reset(seed=0)
        diff = np.abs(a["screenshot"].astype(int) - b["screenshot"].astype(int)).sum(axis=2) > 0
        assert 0.005 < diff.mean() < 0.5
    finally:
        plain.close()
        marked.close()


def test_browser_env_chromium_crash_is_env_error_and_next_reset_works(app_env):
    obs = _reset(app_env, "shop-0-0")
    pid = shared_browser.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    _, reward, terminated, _, info = app_env.step(f'click("{find_element(obs["text"], "button", "Search")}")')
    assert terminated and info["outcome"] == "env_error" and reward == 0.0
    assert "env_error" in info
    obs = _reset(app_env, "shop-0-0")
    assert find_element(obs["text"], "textbox", "Search")
    assert shared_browser.pid() not in (None, pid)


def test_browser_env_select_history_keys_scroll_and_hover(app_env):
    obs = _reset(app_env, "shop-2-0")
    home_url = re.search(r"^URL: (\S+)", obs["text"], re.MULTILINE).group(1)
    category = find_element(obs["text"], "combobox", "Category")
    _, _, _, _, info = app_env.step(f'select("{find_element(obs["text"], "textbox", "Search")}", "Sports")')
    assert "not a drop-down" in info["action_error"]
    obs, _, _, _, info = app_env.step(f'select("{category}", "Sports")')
    assert "action_error" not in info and f"[{category}] combobox 'Category' value='Sports'" in obs["text"]
    obs, *_ = app_env.step(f'click("{find_element(obs["text"], "button", "Search")}")')
    assert "category=Sports" in obs["text"] and find_element(obs["text"], "link", "Yoga Mat")
    assert not find_element(obs["text"], "link", "Chef Knife")
    obs, *_ = app_env.step("go_back()")
    assert f"URL: {home_url}\n" in obs["text"]
    obs, *_ = app_env.step("go_forward()")
    assert "category=Sports" in obs["text"]
    obs, _, _, _, info = app_env.step(f'hover("{find_element(obs["text"], "link", "Yoga Mat")}")')
    assert "action_error" not in info
    obs, _, _, _, info = app_env.step("scroll(0, 300)")
    assert "action_error" not in info
    search = find_element(obs["text"], "textbox", "Search")
    app_env.step(f'click("{search}")')
    obs, _, _, _, info = app_env.step('press("x")')
    assert "action_error" not in info and f"[{search}] textbox 'Search' value='x' focused" in obs["text"]


def test_pointer_actions_report_where_they_touched_as_fractions_of_the_screenshot(app_env):
    obs, _ = app_env.reset(seed=0, options={"task_id": "shop-0-0"})
    search = find_element(obs["text"], "textbox", "Search")
    x, y, w, h = app_env.snap.boxes[search]
    _, _, _, _, info = app_env.step(f'click("{search}")')
    assert info["pointer"] == [[round((x + w / 2) / 800, 4), round((y + h / 2) / 600, 4)]]
    _, _, _, _, info = app_env.step("click_xy(200, 150)")
    assert info["pointer"] == [[0.25, 0.25]]
    _, _, _, _, info = app_env.step("drag_xy(80, 60, 400, 300)")
    assert info["pointer"] == [[0.1, 0.1], [0.5, 0.5]]
    _, _, _, _, info = app_env.step("click_xy(900, 150)")  # outside the viewport: refused, nothing touched
    assert "action_error" in info and "pointer" not in info
