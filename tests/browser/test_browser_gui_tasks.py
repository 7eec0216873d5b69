"""The MiniWoB++ GUI families: screen-only tasks on fixed, held-out seeds, solved by clicking 0-999 points."""

from __future__ import annotations

import numpy as np
import pytest

from coachgym.agents.scripted import ScriptedAgent
from coachgym.envs.browser import BrowserEnv
from coachgym.envs.browser.gui_tasks import FAMILIES, TEST_SEED_BASE, miniwob_gui_suite
from coachgym.envs.browser.miniwob import VIEWPORT
from coachgym.envs.core import TaskSuite
from coachgym.trajectories.rollout import run_episode
from coachgym.vision.coordinates import to_model_coords


@pytest.fixture(scope="module")
def suite() -> TaskSuite:
    return miniwob_gui_suite(train_seeds=4, test_seeds=2, progress=False)


@pytest.fixture(scope="module")
def env(suite):
    env = BrowserEnv(suite=suite)
    yield env
    env.close()


def test_families_hold_out_seeds_and_move_their_targets(suite):
    assert {t.tags[1] for t in suite.tasks} == set(FAMILIES) and len(FAMILIES) >= 3
    seeds = {split: {t.setup["seed"] for t in suite.split(split).tasks} for split in ("train", "test")}
    assert seeds["train"].isdisjoint(seeds["test"]) and min(seeds["test"]) >= TEST_SEED_BASE
    for family in FAMILIES:
        points = {(t.setup["plan"][0]["x"], t.setup["plan"][0]["y"]) for t in suite.tasks if family in t.tags}
        assert len(points) >= 3, (family, points)  # no fixed point solves a family


def test_the_expert_solves_every_task_from_the_screen_alone(env, suite):
    for task in suite.tasks:
        obs, _ = env.reset(options={"task_id": task.id})
        assert obs["screenshot"].shape == (210, 160, 3)
        assert "0-999 normalized" in obs["text"] and "[" not in obs["text"].split("Page:")[1]  # no outline ids
        result = run_episode(env, ScriptedAgent(), task.id, seed=5)
        assert result.success and len(result.steps) == 1, (task.id, result.metadata)


def test_a_seeded_task_shows_the_same_problem_whatever_the_episode_seed(env, suite):
    task = suite.split("test").tasks[0]
    first, _ = env.reset(seed=1, options={"task_id": task.id})
    again, _ = env.reset(seed=2, options={"task_id": task.id})
    assert first["goal"] == again["goal"] == task.goal
    assert np.array_equal(first["screenshot"], again["screenshot"])


def test_element_ids_and_off_screen_points_are_refused_and_counted(env, suite):
    task = next(t for t in suite.tasks if "click-test-2" in t.tags)
    env.reset(options={"task_id": task.id})
    obs, reward, terminated, _, info = env.step('click("5")')
    assert "shows only the screenshot" in obs["text"] and not terminated and info["invalid_actions"] == 1
    obs, _, terminated, _, info = env.step("click_xy(1000, 500)")
    assert "must be in 0..999" in obs["text"] and not terminated and info["invalid_actions"] == 2


def test_keys_cannot_reach_the_button_without_the_screen(env, suite):
    """ONE comes before TWO in the page, so Tab and Enter would solve click-test-2 blind."""
    for task in (t for t in suite.tasks if "click-test-2" in t.tags):
        env.reset(options={"task_id": task.id})
        tabs = 1 if "ONE" in task.goal else 2
        obs, reward, terminated, _, info = env.step("\n".join(['press("Tab")'] * tabs + ['press("Enter")']))
        assert "Keys are refused" in obs["text"] and reward == 0 and not terminated and info["invalid_actions"] == 1


def test_clicking_the_other_button_fails(env, suite):
    task = next(t for t in suite.tasks if "click-test-2" in t.tags)
    env.reset(options={"task_id": task.id})
    plan = task.setup["plan"][0]
    boxes = [b.bounding_box() for b in env.session.page.locator("#area button").all()]
    middles = [to_model_coords(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, *VIEWPORT) for b in boxes]
    x, y = next((x, y) for x, y in middles if abs(x - plan["x"]) > 20 or abs(y - plan["y"]) > 20)
    _, reward, terminated, _, info = env.step(f"click_xy({x}, {y})")
    assert terminated and reward < 0 and not info["success"]


def test_unknown_family_is_refused():
    with pytest.raises(ValueError, match="Unknown MiniWoB"):
        miniwob_gui_suite(1, 1, families=["click-nothing"])
