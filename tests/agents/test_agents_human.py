"""Human collection: the terminal `coachgym play`, and the web page driven in real headless
Chromium (click on the screenshot -> recorded action in the env's vocabulary -> env state changed)."""

from __future__ import annotations

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


def phone_target(base) -> tuple[int, int]:
    index = next(e["index"] for e in base.ui_elements() if e["text"] == "Settings")
    return base.element_center(index)


def browser_target(base) -> tuple[int, int]:
    box = base.session.page.get_by_role("link", name="Cart").bounding_box()
    return int(box["x"] + box["width"] / 2), int(box["y"] + box["height"] / 2)


# env -> (task, where to click, what the next observation shows, button that ends the episode, expected actions)
WEB_CASES = {
    "phone": ("phone-settings-wifi-off", phone_target, "Screen: Settings", "status complete",
              ["click(x={}, y={})", 'status(goal_status="complete")']),
    "browser": ("shop-0-0", browser_target, "/shop/cart", "answer", ["click_xy(x={}, y={})", "answer()"]),
}


def drive_page(url: str, target: tuple[int, int], end_button: str, errors: list) -> None:
    """A person on the page: click the target on the screenshot, wait for the new screen, end."""
    from playwright.sync_api import sync_playwright

    from coachgym.envs.browser.chromium import launch_chromium

    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1600, "height": 1400})
            page.goto(url)
            page.wait_for_selector("body[data-waiting=yes]")
            page.wait_for_function("document.getElementById('screen').naturalWidth > 0")
            box = page.locator("#screen").bounding_box()
            natural = page.evaluate("[screen.naturalWidth, screen.naturalHeight]")
            page.locator("#screen").click(position={"x": (target[0] + 0.5) * box["width"] / natural[0],
                                                    "y": (target[1] + 0.5) * box["height"] / natural[1]})
            page.wait_for_function("document.body.dataset.version === '2' && document.body.dataset.waiting === 'yes'")
            page.get_by_role("button", name=end_button, exact=True).click()
            page.wait_for_function("document.body.dataset.waiting === 'no'")
            browser.close()
    except Exception as error:  # noqa: BLE001 - re-raised by the test thread
        errors.append(error)


@pytest.mark.parametrize("env_name", sorted(WEB_CASES))
def test_agents_human_web_page_in_headless_chromium(env_name, tmp_path):
    task, locate, changed, end_button, expected = WEB_CASES[env_name]
    env = make(env_name)
    env.reset(seed=0, options={"task_id": task})
    target = locate(env.unwrapped)  # where the element is drawn on the first screenshot
    agent = WebHumanAgent(timeout_s=120)
    agent.name = "human-web"
    store = TrajectoryStore(tmp_path)
    errors: list = []
    person = threading.Thread(target=drive_page, args=(agent.url, target, end_button, errors))
    person.start()
    try:
        trajectory = run_episode(env, agent, task, seed=0, store=store)
    finally:
        person.join(timeout=60)
        agent.close()
        env.close()
    assert not errors, errors
    assert trajectory.agent == "human-web"
    assert [s.action for s in trajectory.steps] == [expected[0].format(*target), expected[1]]
    assert not trajectory.steps[0].action_error and changed in trajectory.steps[1].observation  # the click acted
    assert all((store.folder / s.image).is_file() for s in trajectory.steps)
    assert trajectory.outcome.value == "completed"
