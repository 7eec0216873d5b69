"""Human collection: the terminal `coachgym play`, and the web page driven in real headless
Chromium (click on the screenshot -> recorded action in the env's vocabulary -> env state changed)."""

from __future__ import annotations

import re
import threading

import pytest
from typer.testing import CliRunner

from coachgym.agents.human import WebHumanAgent, button_actions, pointer_spec, typing_spec
from coachgym.cli import app
from coachgym.envs.registry import env_class, make
from coachgym.trajectories.rollout import run_episode
from coachgym.trajectories.store import TrajectoryStore


TERMINAL_SESSIONS = {
    "guess": ("guess-004", ["guess(50)", "Thought: lower, so halve it\nAction: guess(25)", "give_up()"], "50 is wrong"),
    "shell": ("shell-files-count-txt", ["Think: look first.\n\nAct: bash\n\n```bash\necho played-by-hand\n```",
                                        "Act: answer(3)"], "played-by-hand"),
    "database": ("database-bookstore-00-0", ["Action: Operation\n```sql\nSELECT COUNT(*) FROM books;\n```",
                                             'Action: Answer\nFinal Answer: ["1"]'], "COUNT(*)"),
}


@pytest.mark.parametrize("env", sorted(TERMINAL_SESSIONS))
def test_agents_human_terminal_play_records_a_trajectory(env, tmp_path):
    task, actions, echoed = TERMINAL_SESSIONS[env]
    typed = "".join(action + "\n\n" for action in actions)
    result = CliRunner().invoke(app, ["play", "--env", env, "--task", task, "--out", str(tmp_path)], input=typed)
    assert result.exit_code == 0, result.output
    assert "An empty line sends the action" in result.output and echoed in result.output
    (trajectory,) = TrajectoryStore(tmp_path).load()[0]
    assert trajectory.agent == "human" and [s.action for s in trajectory.steps] == actions
    assert not any(s.action_error for s in trajectory.steps)  # typed in the env's own syntax, all accepted
    assert trajectory.outcome.value == "completed"


def test_agents_human_page_controls_derive_from_the_vocabulary():
    phone, browser = env_class("phone").actions, env_class("browser").actions
    assert pointer_spec(phone).name == "click" and pointer_spec(browser).name == "click_xy"
    assert typing_spec(phone).name == "input_text" and typing_spec(browser) is None
    labels = {b["label"]: b["action"] for b in button_actions(phone)}
    assert "status complete" in labels and "navigate_back" in labels and "scroll down" in labels
    for action in labels.values():
        phone.parse(action)  # every button sends an action the env accepts


def test_agents_human_web_page_in_headless_chromium(tmp_path):
    from playwright import sync_api

    from coachgym.envs.browser.chromium import launch_chromium

    env = make("phone")
    agent = WebHumanAgent(timeout_s=120)
    agent.name = "human-web"
    store = TrajectoryStore(tmp_path)
    result: dict = {}
    episode = threading.Thread(target=lambda: result.update(
        trajectory=run_episode(env, agent, "phone-settings-wifi-off", seed=0, store=store)))
    episode.start()
    try:
        with sync_api.sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1200, "height": 1400})
            page.goto(agent.url)
            page.wait_for_selector("body[data-waiting=yes]")
            page.wait_for_function("document.getElementById('screen').naturalWidth > 0")
            observation = page.inner_text("#observation")
            x0, y0, x1, y1 = map(int, re.search(r'"Settings" desc="Open Settings" bounds=\[(\d+),(\d+)\]\[(\d+),(\d+)\]',
                                                observation).groups())
            box = page.locator("#screen").bounding_box()
            natural = page.evaluate("[screen.naturalWidth, screen.naturalHeight]")
            target = ((x0 + x1) // 2, (y0 + y1) // 2)
            page.locator("#screen").click(position={"x": (target[0] + 0.5) * box["width"] / natural[0],
                                                    "y": (target[1] + 0.5) * box["height"] / natural[1]})
            page.wait_for_function("document.body.dataset.version === '2' && document.body.dataset.waiting === 'yes'")
            assert "Settings" in page.inner_text("#observation").split("UI elements")[0]
            page.get_by_role("button", name="status complete").click()
            episode.join(timeout=60)
            browser.close()
    finally:
        agent.close()
        env.close()
    trajectory = result["trajectory"]
    assert trajectory.agent == "human-web" and len(trajectory.steps) == 2
    assert trajectory.steps[0].action == f"click(x={target[0]}, y={target[1]})"
    assert "Screen: Settings" in trajectory.steps[1].observation  # the click changed the env's state
    assert trajectory.steps[1].action == 'status(goal_status="complete")'
    assert all((store.folder / s.image).is_file() for s in trajectory.steps)
    assert trajectory.outcome.value == "completed" and not trajectory.success  # Wi-Fi is still on
