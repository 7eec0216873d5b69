"""The built-in suite: shape, and the scripted expert solving it through the env."""

from __future__ import annotations

import collections

import pytest

from coachgym.envs.registry import expert_class, load_suite
from coachgym.envs.shell import ShellEnv
from coachgym.envs.shell.expert import ShellExpert
from coachgym.envs.shell.tasks import builtin_suite


def test_suite_shape():
    suite = builtin_suite()
    assert len(suite.tasks) >= 60 and len(set(suite.ids())) == len(suite.tasks)
    categories = collections.Counter(task.tags[0] for task in suite.tasks)
    assert set(categories) == {"files", "processes", "text", "permissions", "archives", "git"}
    assert min(categories.values()) >= 10
    splits = collections.Counter(task.split for task in suite.tasks)
    assert splits == {"train": 36, "dev": 12, "test": 12}
    assert load_suite("shell") is suite and expert_class("shell") is ShellExpert


@pytest.fixture(scope="module")
def env():
    shell = ShellEnv(suite="shell")
    yield shell
    shell.close()


def play(env: ShellEnv, task_id: str) -> dict:
    observation, _ = env.reset(seed=3, options={"task_id": task_id})
    expert = ShellExpert(env.task)
    while True:
        observation, _, terminated, truncated, info = env.step(expert.act(observation))
        if terminated or truncated:
            return info


def test_expert_solves_the_built_in_suite(env):
    results = {task_id: play(env, task_id) for task_id in builtin_suite().ids()}
    failures = {task_id: info["evaluation"] for task_id, info in results.items() if not info["success"]}
    assert len(failures) <= 0.05 * len(results), failures


def test_checkers_reject_an_agent_that_does_nothing(env):
    """Every change task starts unsolved and every question needs the right answer."""
    for task in builtin_suite().tasks:
        env.reset(seed=3, options={"task_id": task.id})
        action = "Act: finish" if "check" in task.evaluator else "Act: answer(not it)"
        _, reward, _, _, info = env.step(action)
        assert reward == 0.0 and not info["success"], task.id
