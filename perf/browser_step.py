"""Median BrowserEnv step time vs. the same operations done with raw Playwright, in one process.

A step is: one click + waiting for the page to settle + the element-id outline + a screenshot.
The baseline does the same click (same locator), the same outline script (without the settle
wait) and the same PNG screenshot (left as bytes) with direct Playwright calls on a page in a
second context of the same Chromium. Rounds alternate env / raw so machine noise hits both equally.

BrowserGym (optional, `--browsergym-python`): `browsergym-miniwob` pins playwright 1.44, so it
lives in its own virtualenv and runs the same MiniWoB task in a subprocess of this run; its
launches are pointed at the system Chromium (it has no option for that in its chat window).

Usage: python perf/browser_step.py [--rounds 40] [--browsergym-python /tmp/bgvenv/bin/python]
Goal: env / raw <= 1.3 on each scenario; BrowserGym / env >= 3.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

from coachgym.envs.browser import BrowserEnv
from coachgym.envs.browser.expert import find_element
from coachgym.envs.browser.miniwob import HTML_DIR, NO_TIME_LIMIT_MS, START_JS
from coachgym.envs.browser.observe import ID_ATTR, SNAPSHOT_JS, snapshot_args
from coachgym.envs.browser.session import shared_browser

SCENARIOS = {
    # name: (suite, task, role, element name; None = first element of that role)
    "miniwob click-checkboxes (160x210)": ("miniwob", "miniwob.click-checkboxes", "checkbox", None),
    "built-in shop search box (1280x720)": ("browser", "shop-0-0", "textbox", "Search"),
}


def _element(text: str, role: str, name: str | None) -> str:
    if name is not None:
        found = find_element(text, role, name)
    else:
        found = next(line.split("]")[0].strip(" [") for line in text.splitlines() if f"] {role}" in line)
    assert found, f"no {role} {name!r} in the observation"
    return found


def measure(suite: str, task: str, role: str, name: str | None, rounds: int) -> tuple[float, float]:
    env = BrowserEnv(suite=suite)
    try:
        obs, _ = env.reset(seed=0, options={"task_id": task})
        element = _element(obs["text"], role, name)
        # The raw baseline: a page in its own context on the same browser, same document, same element.
        config = env.config
        raw_context = shared_browser.get().new_context(
            viewport={"width": config.viewport_width, "height": config.viewport_height},
            device_scale_factor=config.device_scale_factor)
        raw = raw_context.new_page()
        raw.goto(env.session.page.url, wait_until="load")
        if suite == "miniwob":  # same seed, so the raw page shows the same problem
            raw.evaluate(START_JS, {"seed": env.episode_seed, "mode": "train", "maxTime": NO_TIME_LIMIT_MS})
        args = snapshot_args("", config, wait=False)
        raw.evaluate(SNAPSHOT_JS, args)
        env_times, raw_times = [], []
        for index in range(rounds + 3):
            started = time.perf_counter()
            env.step(f'click("{element}")')
            env_time = time.perf_counter() - started
            started = time.perf_counter()
            raw.locator(f'[{ID_ATTR}="{element}"]').click()
            raw.evaluate(SNAPSHOT_JS, args)
            raw.screenshot(type="png", scale="device")
            raw_time = time.perf_counter() - started
            if index >= 3:  # warm-up rounds are dropped
                env_times.append(env_time)
                raw_times.append(raw_time)
            env.steps = 0  # keep the episode open past the step budget
        raw_context.close()
        return statistics.median(env_times), statistics.median(raw_times)
    finally:
        env.close()


BROWSERGYM_SCRIPT = """
import os, re, statistics, sys, time
os.environ["MINIWOB_URL"] = sys.argv[1]
from playwright.sync_api._generated import BrowserType
_launch = BrowserType.launch
def _system_chromium(self, **kw):
    kw.setdefault("executable_path", sys.argv[2])
    kw["args"] = [*(kw.get("args") or []), "--no-sandbox"]
    return _launch(self, **kw)
BrowserType.launch = _system_chromium
import gymnasium as gym
import browsergym.miniwob
from browsergym.utils.obs import flatten_axtree_to_str
env = gym.make("browsergym/miniwob.click-checkboxes", headless=True)
obs, _ = env.reset(seed=0)
bid = re.search(r"\\[(\\w+)\\] checkbox", flatten_axtree_to_str(obs["axtree_object"])).group(1)
times = []
for i in range(int(sys.argv[3]) + 3):
    t = time.perf_counter()
    obs, *_ = env.step(f'click("{bid}")')
    flatten_axtree_to_str(obs["axtree_object"])
    if i >= 3:
        times.append(time.perf_counter() - t)
env.close()
print(statistics.median(times))
"""


def measure_browsergym(python: str, rounds: int) -> float:
    """Median BrowserGym step (click + its screenshot, DOM and AXTree observation) in seconds."""
    from coachgym.envs.browser.chromium import chromium_path

    result = subprocess.run([python, "-c", BROWSERGYM_SCRIPT, HTML_DIR.as_uri() + "/miniwob/", chromium_path(),
                             str(rounds)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError("BrowserGym run failed: " + result.stderr.strip().splitlines()[-1])
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--browsergym-python", default=None, help="python of a virtualenv with browsergym-miniwob")
    options = parser.parse_args()
    print(f"{'scenario':40s} {'env ms':>8s} {'raw ms':>8s} {'ratio':>6s}")
    medians = {}
    for label, (suite, task, role, name) in SCENARIOS.items():
        env_median, raw_median = measure(suite, task, role, name, options.rounds)
        medians[task] = env_median
        print(f"{label:40s} {env_median * 1000:8.1f} {raw_median * 1000:8.1f} {env_median / raw_median:6.2f}")
    shared_browser.shutdown()
    if options.browsergym_python:
        browsergym = measure_browsergym(options.browsergym_python, options.rounds)
        ours = medians["miniwob.click-checkboxes"]
        print(f"BrowserGym miniwob.click-checkboxes step {browsergym * 1000:.1f} ms; coachgym {ours * 1000:.1f} ms; "
              f"coachgym is {browsergym / ours:.1f}x faster")


if __name__ == "__main__":
    main()
