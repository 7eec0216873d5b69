"""Median BrowserEnv step time vs. the same operations done with raw Playwright, in one process.

A step is: one click + waiting for the page to settle + the element-id outline + a screenshot.
The baseline does the same click (same locator), the same outline script (without the settle
wait) and the same PNG screenshot (left as bytes) with direct Playwright calls on a second page
of the same Chromium. Rounds alternate env / raw so machine noise hits both equally.

Usage: python perf/browser_step.py [--rounds 40]
Goal: env / raw <= 1.3 on each scenario. BrowserGym is not compared: see docs/browser.md.
"""

from __future__ import annotations

import argparse
import statistics
import time

from coachgym.envs.browser import BrowserEnv
from coachgym.envs.browser.expert import find_element
from coachgym.envs.browser.miniwob import NO_TIME_LIMIT_MS, START_JS
from coachgym.envs.browser.observe import ID_ATTR, MAX_NAME_CHARS, SNAPSHOT_JS
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
        # The raw baseline: a second page on the same browser, same document, same element.
        url = env.session.page.url
        raw = env.session.context.new_page()
        raw.goto(url, wait_until="load")
        if suite == "miniwob":  # same seed, so the raw page shows the same problem
            raw.evaluate(START_JS, {"seed": env.episode_seed, "mode": "train", "maxTime": NO_TIME_LIMIT_MS})
        raw.evaluate(SNAPSHOT_JS, {"prefix": "", "attr": ID_ATTR, "quietMs": 0, "maxWaitMs": 0, "maxName": MAX_NAME_CHARS})
        env.session.switch(0)
        args = {"prefix": "", "attr": ID_ATTR, "quietMs": 0, "maxWaitMs": 0, "maxName": MAX_NAME_CHARS}
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
        return statistics.median(env_times), statistics.median(raw_times)
    finally:
        env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    rounds = parser.parse_args().rounds
    print(f"{'scenario':40s} {'env ms':>8s} {'raw ms':>8s} {'ratio':>6s}")
    for label, (suite, task, role, name) in SCENARIOS.items():
        env_median, raw_median = measure(suite, task, role, name, rounds)
        print(f"{label:40s} {env_median * 1000:8.1f} {raw_median * 1000:8.1f} {env_median / raw_median:6.2f}")
    shared_browser.shutdown()


if __name__ == "__main__":
    main()
