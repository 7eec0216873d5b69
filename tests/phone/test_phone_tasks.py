"""The built-in suite: structure, not trivially satisfiable, solved by experts, not by random play."""

from __future__ import annotations

import re

import pytest

from coachgym.agents.scripted import RandomAgent, ScriptedAgent
from coachgym.envs.core import TaskSuite
from coachgym.envs.phone import PhoneEnv
from coachgym.envs.phone.evaluate import evaluate
from coachgym.envs.phone.expert import PhoneExpert
from coachgym.envs.phone.world import build_state
from coachgym.envs.registry import load_suite
from coachgym.trajectories.rollout import run_episode


def test_suite_shape(suite):
    assert suite is load_suite("phone") or suite.ids() == load_suite("phone").ids()
    assert len(suite.tasks) >= 100 and len(set(suite.ids())) == len(suite.tasks)
    assert {t.split for t in suite.tasks} == {"train", "dev", "test"}
    assert sum(t.evaluator.get("infeasible", False) for t in suite.tasks) >= 15
    tags = [tag for t in suite.tasks for tag in t.tags]
    assert {"contacts", "messages", "calendar", "settings", "notes", "shop"} <= set(tags)
    assert tags.count("cross-app") >= 20 and tags.count("long-press") >= 6 and tags.count("scroll") >= 8
    assert all(t.env == "phone" and t.goal for t in suite.tasks)


def test_no_task_is_satisfied_by_the_starting_state(suite):
    for task in suite.tasks:
        start = build_state(task.setup.get("world", {}), seed=0)
        result = evaluate(task.evaluator, start, start)
        assert not result.success, task.id


def test_scripted_expert_solves_the_suite_through_the_rollout_loop(suite):
    env = PhoneEnv(screenshot_height=560)
    results = [run_episode(env, ScriptedAgent(), task.id, seed=3) for task in suite.tasks]
    solved = [r.task_id for r in results if r.success]
    assert len(solved) == len(results), sorted(set(suite.ids()) - set(solved))
    assert all(step.action_error is None for r in results for step in r.steps)
    # stored in the format the system prompt asks for, so the demonstrations teach that format
    assert "Thought: <reasoning>\nAction: <action>" in results[0].system_prompt
    assert all(re.fullmatch(r"Thought: [^\n]+\nAction: \{.+\}", step.action) for r in results for step in r.steps)


@pytest.mark.parametrize("mode, dialect", [("xy", "native"), ("mixed", "native"), ("mixed", "androidworld")])
def test_expert_tapping_pixels_solves_the_suite(suite, mode, dialect):
    """The same plans, with every tap addressed by the element's pixel centre: hit-testing at scale
    (in the androidworld dialect, device pixels, and input_text presses Enter)."""
    env = PhoneEnv(screenshot_height=1120 if mode == "xy" else 777, action_dialect=dialect)
    solved = 0
    for task in suite.tasks:
        obs, _ = env.reset(seed=5, options={"task_id": task.id})
        expert = PhoneExpert(task, mode=mode)
        while True:
            obs, _, terminated, truncated, info = env.step(expert.act(obs))
            assert "action_error" not in info, (task.id, info["action_error"])
            if terminated or truncated:
                break
        solved += bool(info["success"])
    assert solved == len(suite.tasks)


def test_random_agent_solves_almost_no_multi_step_task(suite):
    env = PhoneEnv()  # the random sampler's pixel range is the default 504x1120 screen
    multi = [t for t in suite.tasks if "multi-step" in t.tags]
    assert len(multi) >= 40
    results = [run_episode(env, RandomAgent(seed=i), task.id, seed=i) for i, task in enumerate(multi)]
    assert all(r.outcome.value != "env_error" for r in results)
    assert sum(r.success for r in results) / len(multi) <= 0.05


def test_declaring_a_feasible_task_infeasible_fails_and_vice_versa():
    for task_id, status, expected in [("phone-settings-wifi-off", "infeasible", False),
                                      ("phone-infeasible-5g", "infeasible", True),
                                      ("phone-infeasible-5g", "complete", False)]:
        env = PhoneEnv(task=task_id, screenshot_height=320)
        env.reset(seed=0)
        if task_id == "phone-settings-wifi-off":
            env.device.state.settings.wifi = False  # goal state reached, but the agent gives up anyway
        info = env.step(f'{{"action_type": "status", "goal_status": "{status}"}}')[4]
        assert info["success"] is expected, (task_id, status)


def test_answers_are_checked_against_the_world_not_trusted():
    env = PhoneEnv(task="phone-contacts-ask-nina", screenshot_height=320)
    env.reset(seed=0)
    env.step('{"action_type": "answer", "text": "+1 415 555 0101"}')
    assert env.step('{"action_type": "status", "goal_status": "complete"}')[4]["success"] is False
    env.reset(seed=0)
    env.step('{"action_type": "answer", "text": "It is 415-555-0114."}')
    assert env.step('{"action_type": "status", "goal_status": "complete"}')[4]["success"] is True


def test_gui_families_need_the_screenshot_and_hold_out_layouts():
    from coachgym.envs.phone.gui_tasks import FAMILIES, TEST_LAYOUT_BASE, gui_suite

    suite = gui_suite(train_layouts=6, test_layouts=3)
    assert {t.tags[1] for t in suite.tasks} == set(FAMILIES) and len(FAMILIES) >= 3
    layouts = {split: {t.setup["world"]["layout_seed"] for t in suite.split(split).tasks}
               for split in ("train", "test")}
    assert layouts["train"].isdisjoint(layouts["test"]) and min(layouts["test"]) >= TEST_LAYOUT_BASE
    points: dict[str, set] = {}
    for task in suite.tasks:  # the same target sits at different points on different layouts
        points.setdefault(task.goal, set()).add(tuple(task.setup["plan"][0][2:]))
    assert sum(len(p) > 1 for p in points.values()) >= len(points) // 2

    env = PhoneEnv(suite=suite, screenshot_height=560)
    for task in suite.tasks:
        obs, _ = env.reset(seed=1, options={"task_id": task.id})
        assert "UI elements" not in obs["text"] and "0-999" in obs["text"]  # nothing but the screen to go by
        result = run_episode(env, ScriptedAgent(), task.id, seed=1)
        assert result.success and len(result.steps) == 2, (task.id, result.metadata)


def test_no_fixed_point_opens_an_app_across_gui_layouts():
    """The dock would be such a point if it kept its favourites: an agent could tap it blind."""
    from coachgym.envs.phone.gui_tasks import gui_task

    opened: dict[tuple[int, int], set[str]] = {}
    for layout in range(12):
        task = gui_task("open-app", layout_seed=layout, target=0, split="train")
        env = PhoneEnv(suite=TaskSuite(name="one", env="phone", tasks=[task]), screenshot_height=560)
        for x in (130, 350, 570, 780):  # the four dock icons
            env.reset(seed=0, options={"task_id": task.id})
            env.step(f'{{"action_type": "click", "x": {x}, "y": 870}}')
            opened.setdefault((x, 870), set()).add(env.unwrapped.device.state.opened[-1])
        env.close()
    assert all(len(apps) >= 3 for apps in opened.values()), opened


def test_gui_task_fails_when_another_target_is_opened_first():
    from coachgym.envs.phone.gui_tasks import gui_task

    task = gui_task("open-note", layout_seed=3, target=0, split="test")
    env = PhoneEnv(suite=TaskSuite(name="one", env="phone", tasks=[task]), screenshot_height=560)
    _, y = task.setup["plan"][0][2:]
    env.reset(seed=0, options={"task_id": task.id})
    other_row = y + 90 if y < 500 else y - 90  # the neighbouring note
    env.step(f'{{"action_type": "click", "x": 500, "y": {other_row}}}')
    info = env.step('{"action_type": "status", "goal_status": "complete"}')[4]
    assert not info["success"] and "was not opened" in info["evaluation"]["detail"]
