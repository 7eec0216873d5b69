"""Human collection: the terminal `coachgym play`, and the web page driven in real headless Chromium
as a person would (clicks on the screenshot, buttons, typing) through `coachgym play` to a stored,
successful trajectory; every control the page offers sends an action the env accepts."""

from __future__ import annotations

import re
import threading

import httpx
import pytest
from typer.testing import CliRunner

from coachgym.agents.human import button_actions, pointer_modes, typing_spec
from coachgym.cli import app
from coachgym.envs.registry import env_class, make
from coachgym.trajectories.store import TrajectoryStore
from tests.conftest import free_port


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
    assert [m["label"] for m in pointer_modes(phone)] == ["click", "long_press", "double_tap", "swipe up",
                                                          "swipe down", "swipe left", "swipe right"]
    assert [m["label"] for m in pointer_modes(browser)] == ["click_xy", "mouse_move", "mouse_down", "mouse_up"]
    assert typing_spec(phone).name == "input_text" and typing_spec(browser) is None
    labels = {b["label"] for b in button_actions(phone)}
    assert {"status complete", "navigate_back", "scroll down"} <= labels
    assert not labels & {"click", "long_press", "double_tap", "swipe down"}  # those need a point: the screenshot


# env -> (task, an action that leaves a page to go back from, if one is needed)
CONTROL_CASES = {"phone": ("phone-notes-add-meeting", None), "browser": ("shop-3-0", 'click("48")')}


@pytest.mark.parametrize("env_name", sorted(CONTROL_CASES))
def test_agents_human_every_control_sends_an_action_the_env_accepts(env_name):
    task, first = CONTROL_CASES[env_name]
    actions = env_class(env_name).actions
    env = make(env_name)
    try:
        env.reset(seed=0, options={"task_id": task})
        sent = [first] if first else []
        sent += [button["action"] for button in button_actions(actions)]  # in vocabulary order: back, forward, ...
        for action in sent:
            _, _, terminated, _, info = env.step(action)
            assert info.get("action_error") is None, (action, info["action_error"])
            if terminated:
                env.reset(seed=0, options={"task_id": task})
        for mode in pointer_modes(actions):
            env.reset(seed=0, options={"task_id": task})
            action = actions.format(mode["name"], **mode["args"], x=200, y=300)
            assert env.step(action)[4].get("action_error") is None, action
    finally:
        env.close()


# --------------------------------------------------------------------------- a person on the page
class Person:
    """Drives the play page in its own Chromium the way a person does: looks, clicks, types."""

    def __init__(self, page):
        self.page, self.turn = page, 0

    def wait_turn(self) -> str:
        """Wait for the env to ask for the next action; return the observation the page shows."""
        self.turn += 1
        self.page.wait_for_function(f"document.body.dataset.version === '{self.turn}' && "
                                    "document.body.dataset.waiting === 'yes'", timeout=60_000)
        self.page.wait_for_function("screen.complete && screen.naturalWidth > 0")
        return self.page.locator("#observation").text_content()

    def click_screen(self, x: float, y: float, mode: str | None = None) -> None:
        """Click the screenshot where pixel (x, y) of the env's screen is drawn."""
        if mode:
            self.page.get_by_label(mode, exact=True).check()
        box = self.page.locator("#screen").bounding_box()
        natural = self.page.evaluate("[screen.naturalWidth, screen.naturalHeight]")
        self.page.locator("#screen").click(position={"x": (x + 0.5) * box["width"] / natural[0],
                                                     "y": (y + 0.5) * box["height"] / natural[1]})

    def click_element(self, label: str) -> None:
        """Click the centre of the phone element whose line in the observation names `label`."""
        line = next(l for l in self.page.locator("#observation").text_content().splitlines() if label in l)
        x0, y0, x1, y1 = map(int, re.search(r"bounds=\[(\d+),(\d+)\]\[(\d+),(\d+)\]", line).groups())
        self.click_screen((x0 + x1) // 2, (y0 + y1) // 2)

    def layout(self) -> dict:
        """Where the screenshot and the side panel are drawn, and the screenshot's own size."""
        return self.page.evaluate("""() => {
            const s = screen.getBoundingClientRect(), side = document.getElementById('side').getBoundingClientRect();
            return {shown: [s.width, s.height], natural: [screen.naturalWidth, screen.naturalHeight],
                    side_right: side.right, side_width: side.width, bottom: Math.max(s.bottom, side.bottom)};
        }""")


def play_on_the_page(url: str, moves, seen: dict) -> None:
    """A person on the page at 1500x900: play `moves(person)`, then read the result the page shows."""
    from playwright.sync_api import sync_playwright

    from coachgym.envs.browser.chromium import launch_chromium

    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1500, "height": 900})
            page.goto(url)
            person = Person(page)
            person.wait_turn()
            seen["layout"] = person.layout()
            moves(person)
            page.wait_for_selector("body[data-done=yes]", timeout=60_000)
            seen["result"] = page.locator("#result").text_content()
            seen["status"] = page.locator("#status").text_content()
            seen["buttons_disabled"] = page.locator("#buttons button").evaluate_all("bs => bs.every(b => b.disabled)")
            browser.close()
    except Exception as error:  # noqa: BLE001 - reported by the test; end the episode so `play` returns
        seen["error"] = error
        httpx.post(url + "action", json={"text": "answer()\nstatus(goal_status=\"infeasible\")"}, timeout=5)


def phone_moves(person: Person) -> None:
    person.click_element('desc="Open Notes"')
    person.wait_turn()
    person.click_element('desc="New note"')
    person.wait_turn()
    person.click_element('hint="Title"')
    person.wait_turn()
    person.page.locator("#typed").fill("Meeting notes")
    person.page.get_by_role("button", name="Type").click()
    person.wait_turn()
    person.click_element('hint="Note"')
    person.wait_turn()
    person.page.locator("#typed").fill("discuss Q4 budget")
    person.page.get_by_role("button", name="Type").click()
    assert "Meeting notes" in person.wait_turn()
    person.click_element('Button "Save"')
    person.wait_turn()
    person.page.get_by_role("button", name="status complete").click()


def browser_moves(link: tuple[int, int]):
    def moves(person: Person) -> None:
        person.click_screen(*link)
        assert "Mechanical Keyboard - Shop (active)" in person.wait_turn()  # the click followed the link
        person.page.locator("#free").fill('answer("79.00")')
        person.page.get_by_role("button", name="Send action").click()
    return moves


def keyboard_link() -> tuple[int, int]:
    """Where the shop's home page draws the 'Mechanical Keyboard' link, as the person would see it."""
    env = make("browser")
    try:
        env.reset(seed=0, options={"task_id": "shop-3-0"})
        box = env.unwrapped.session.page.get_by_role("link", name="Mechanical Keyboard").first.bounding_box()
        return int(box["x"] + box["width"] / 2), int(box["y"] + box["height"] / 2)
    finally:
        env.close()


@pytest.mark.parametrize("env_name", ["phone", "browser"])
def test_agents_human_plays_to_success_through_the_page(env_name, tmp_path):
    task = {"phone": "phone-notes-add-meeting", "browser": "shop-3-0"}[env_name]
    moves = phone_moves if env_name == "phone" else browser_moves(keyboard_link())
    port = free_port()
    seen: dict = {}
    person = threading.Thread(target=play_on_the_page, args=(f"http://127.0.0.1:{port}/", moves, seen))
    person.start()
    try:
        result = CliRunner().invoke(app, ["play", "--env", env_name, "--task", task, "--out", str(tmp_path),
                                          "--port", str(port), "--no-open-browser"])
    finally:
        person.join(timeout=60)
    assert "error" not in seen, seen.get("error")
    assert result.exit_code == 0, result.output
    assert seen["result"].startswith("Success: completed") and "Episode over" in seen["status"]
    assert seen["buttons_disabled"]
    shown, natural = seen["layout"]["shown"], seen["layout"]["natural"]
    assert abs(shown[0] / shown[1] - natural[0] / natural[1]) < 0.01  # scaled, aspect ratio kept
    assert seen["layout"]["side_right"] <= 1500 and seen["layout"]["side_width"] >= 320  # the panel stays on screen
    assert seen["layout"]["bottom"] <= 900
    (trajectory,), _ = TrajectoryStore(tmp_path).load()
    assert trajectory.agent == "human-web" and trajectory.success and trajectory.outcome.value == "completed"
    assert not any(s.action_error for s in trajectory.steps)
    assert all((tmp_path / s.image).is_file() for s in trajectory.steps)
    if env_name == "phone":
        assert [s.action.split("(")[0] for s in trajectory.steps] == [
            "click", "click", "click", "input_text", "click", "input_text", "click", "status"]
        assert trajectory.steps[3].action == 'input_text(text="Meeting notes")'
    else:
        clicked, answered = (s.action for s in trajectory.steps)
        point = map(int, re.fullmatch(r"click_xy\(x=(\d+), y=(\d+)\)", clicked).groups())
        assert all(abs(a - b) <= 1 for a, b in zip(point, keyboard_link()))  # a drawn pixel is ~1.1 screen pixels
        assert answered == 'answer("79.00")'
