"""MiniWoB++ on coachgym: the suite, the adapter, and reward parity with the reference env.

The reference is the `miniwob` package's own gymnasium env (Selenium + Debian chromedriver). Both
envs get the same seed, so both pages must generate the same problem (same utterance); the same
scripted steps, right and wrong, must then give the same done flag after every step and the same
reward sign at the end. One reference driver is shared and pointed at each task page in turn.
"""

from __future__ import annotations

import os
import re
import urllib.parse

import numpy as np
import pytest

from coachgym.envs.browser.expert import find_element
from coachgym.envs.browser.miniwob import HTML_DIR, miniwob_suite

_NAME = re.compile(r"^\s*\[([^\]]+)\] (\S+)(?: '((?:[^'\\]|\\.)*)')?", re.MULTILINE)
ORDINALS = {"1st": 0, "2nd": 1, "3rd": 2, "4th": 3, "5th": 4}


def _quoted(utterance: str) -> list[str]:
    return re.findall(r'"([^"]*)"', utterance)


def _selected(utterance: str) -> list[str]:
    match = re.match(r"Select (.*) and click Submit", utterance)
    return [w.strip() for w in match.group(1).split(",")] if match and match.group(1) != "nothing" else []


def _other(names: list[str], target: str) -> tuple:
    """Click something other than the target (or empty space when there is nothing else)."""
    others = [name for name in names if name != target]
    return ("click", others[0]) if others else ("xy", 150.0, 200.0)


def _after_button(utterance: str) -> str:
    return re.search(r"button (\w+)", utterance).group(1)


# (task, plan(utterance, names on the page) -> steps). Steps: ("click", text), ("type", nth_textbox, text),
# ("focus", nth_textbox), ("xy", x, y). Wrong plans must give a negative reward or leave the task unfinished.
CASES = [
    ("click-test", lambda u, n: [("click", "Click Me!")]),
    ("click-test", lambda u, n: [("xy", 150.0, 200.0)]),
    ("click-test-2", lambda u, n: [("click", _after_button(u))]),
    ("click-test-2", lambda u, n: [("click", "TWO" if _after_button(u) == "ONE" else "ONE")]),
    ("click-test-transfer", lambda u, n: [("click", _after_button(u))]),
    ("click-button", lambda u, n: [("click", _quoted(u)[0])]),
    ("click-button", lambda u, n: [_other(n["button"], _quoted(u)[0])]),
    ("click-link", lambda u, n: [("click", _quoted(u)[0])]),
    ("click-option", lambda u, n: [("click", _selected(u)[0]), ("click", "Submit")]),
    ("click-option", lambda u, n: [_other(n["radio"], _selected(u)[0]), ("click", "Submit")]),
    ("click-checkboxes", lambda u, n: [*[("click", w) for w in _selected(u)], ("click", "Submit")]),
    ("click-checkboxes", lambda u, n: [("click", "Submit")] if _selected(u) else [("click", n["checkbox"][0]), ("click", "Submit")]),
    ("click-checkboxes-large", lambda u, n: [*[("click", w) for w in _selected(u)], ("click", "Submit")]),
    ("click-checkboxes-transfer", lambda u, n: [*[("click", w) for w in _selected(u)], ("click", "Submit")]),
    ("click-button-sequence", lambda u, n: [("click", "ONE"), ("click", "TWO")]),
    ("click-button-sequence", lambda u, n: [("click", "TWO"), ("click", "ONE")]),
    ("click-collapsible", lambda u, n: [("click", n["tab"][0]), ("click", "Submit")]),
    ("click-dialog", lambda u, n: [("click", "Close")]),
    ("click-tab", lambda u, n: [("click", re.search(r"(Tab #\d+)", u).group(1))]),
    ("unicode-test", lambda u, n: [("click", _quoted(u)[0])]),
    ("enter-text", lambda u, n: [("type", 0, _quoted(u)[0]), ("click", "Submit")]),
    ("enter-text", lambda u, n: [("type", 0, _quoted(u)[0] + "x"), ("click", "Submit")]),
    ("enter-text", lambda u, n: [("type", 0, _quoted(u)[0])]),  # never submitted: not done
    ("enter-text-dynamic", lambda u, n: [("type", 0, _quoted(u)[0]), ("click", "Submit")]),
    ("enter-text-2", lambda u, n: [("type", 0, _quoted(u)[0].upper() if "upper" in u else _quoted(u)[0].lower()),
                                   ("click", "Submit")]),
    ("enter-password", lambda u, n: [("type", 0, _quoted(u)[0]), ("type", 1, _quoted(u)[0]), ("click", "Submit")]),
    ("enter-password", lambda u, n: [("type", 0, _quoted(u)[0]), ("type", 1, "nope"), ("click", "Submit")]),
    ("login-user", lambda u, n: [("type", 0, _quoted(u)[0]), ("type", 1, _quoted(u)[1]), ("click", "Login")]),
    ("login-user", lambda u, n: [("type", 0, _quoted(u)[1]), ("type", 1, _quoted(u)[0]), ("click", "Login")]),
    ("focus-text", lambda u, n: [("focus", 0)]),
    ("focus-text-2", lambda u, n: [("focus", ORDINALS[re.search(r"(\d\w\w) input", u).group(1)])]),
    ("focus-text-2", lambda u, n: [("focus", (ORDINALS[re.search(r"(\d\w\w) input", u).group(1)] + 1) % 3)]),
]


def test_browser_miniwob_suite_has_all_125_tasks_with_pages():
    suite = miniwob_suite()
    assert len(suite.tasks) == 125
    assert all((HTML_DIR / "miniwob" / f"{t.setup['page']}.html").is_file() for t in suite.tasks)
    assert {"miniwob.click-test", "miniwob.book-flight", "miniwob.use-autocomplete"} <= set(suite.ids())


def test_browser_miniwob_reads_the_pages_own_reward(miniwob_env):
    obs, _ = miniwob_env.reset(seed=3, options={"task_id": "miniwob.enter-text"})
    target = _quoted(obs["goal"])[0]
    assert obs["screenshot"].shape == (210, 160, 3)
    obs, reward, terminated, _, _ = miniwob_env.step(f'type("{find_element(obs["text"], "textbox", "")}", "{target}")')
    assert not terminated and reward == 0.0
    _, reward, terminated, _, info = miniwob_env.step(f'click("{find_element(obs["text"], "button", "Submit")}")')
    assert terminated and reward == 1.0 and info["success"]


# ----------------------------------------------------------------------------------- parity
@pytest.fixture(scope="module")
def reference():
    os.environ.setdefault("MINIWOB_CHROME_BINARY", "/usr/bin/chromium")
    os.environ.setdefault("MINIWOB_CHROMEDRIVER", "/usr/bin/chromedriver")
    import gymnasium as gym
    import miniwob  # noqa: F401 - registers the reference envs

    env = gym.make("miniwob/click-test-v1")
    yield env
    env.close()


def _point_reference_at(env, task: str) -> None:
    """Reuse the one Selenium driver for another task page (what a fresh reference env would load)."""
    from miniwob.fields import get_field_extractor

    instance = env.unwrapped.instance
    url = urllib.parse.urljoin(instance.url, f"{task}.html")
    if instance.url != url:
        instance.url, instance.field_extractor = url, get_field_extractor(task)
        instance.driver.get(url)


def _names(text: str) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for _, role, name in _NAME.findall(text):
        names.setdefault(role, []).append(name)
    return names


def _ours(env, text: str, step: tuple) -> str:
    if step[0] == "click":
        element = next(m.group(1) for m in _NAME.finditer(text) if (m.group(3) or "") == step[1])
        return f'click("{element}")'
    if step[0] == "xy":
        return f"click_xy({step[1]}, {step[2]})"
    textbox = [m.group(1) for m in _NAME.finditer(text) if m.group(2) == "textbox"][step[1]]
    return f'click("{textbox}")' if step[0] == "focus" else f'type("{textbox}", "{step[2]}")'


def _reference_action(env, obs: dict, step: tuple) -> dict:
    elements = obs["dom_elements"]
    if step[0] == "click":
        element = next(e for e in elements if e["text"] == step[1])
        ref = element["ref"] if element["ref"] > 0 else element["parent"]
        return env.unwrapped.create_action("CLICK_ELEMENT", ref=ref)
    if step[0] == "xy":
        return env.unwrapped.create_action("CLICK_COORDS", coords=np.array([step[1], step[2]], dtype=np.float32))
    inputs = [e for e in elements if e["tag"] in ("input_text", "input_password", "textarea")]
    if step[0] == "focus":
        return env.unwrapped.create_action("CLICK_ELEMENT", ref=inputs[step[1]]["ref"])
    return env.unwrapped.create_action("FOCUS_ELEMENT_AND_TYPE_TEXT", ref=inputs[step[1]]["ref"], text=step[2])


@pytest.mark.slow
def test_browser_miniwob_reward_parity_with_reference_env(miniwob_env, reference):
    tasks = {task for task, _ in CASES}
    assert len(tasks) >= 20
    mismatches, outcomes = [], []
    for case_index, (task, plan) in enumerate(CASES):
        obs, _ = miniwob_env.reset(seed=100 + case_index, options={"task_id": f"miniwob.{task}"})
        _point_reference_at(reference, task)
        ref_obs, _ = reference.reset(seed=miniwob_env.unwrapped.episode_seed)
        if ref_obs["utterance"] != obs["goal"]:
            mismatches.append((task, "utterance", obs["goal"], ref_obs["utterance"]))
            continue
        reward = ref_reward = 0.0
        done = ref_done = False
        for step in plan(obs["goal"], _names(obs["text"])):
            ref_obs, ref_reward, ref_done, _, _ = reference.step(_reference_action(reference, ref_obs, step))
            obs, reward, done, _, _ = miniwob_env.step(_ours(miniwob_env, obs["text"], step))
            if done != ref_done:
                mismatches.append((task, case_index, step, "done", done, ref_done))
            if done or ref_done:
                break
        outcomes.append((task, np.sign(reward), done))
        if np.sign(reward) != np.sign(ref_reward):
            mismatches.append((task, case_index, "reward", reward, ref_reward))
    assert not mismatches
    signs = {sign for _, sign, _ in outcomes}
    assert signs == {-1.0, 0.0, 1.0}, outcomes  # the cases really cover success, failure and unfinished
