"""The built-in suite: size and splits, and the scripted expert solving it on every backend."""

from __future__ import annotations

import pytest

from coachgym.envs.database.expert import DatabaseExpert
from coachgym.envs.database.tasks import builtin_suite
from coachgym.envs.registry import expert_class, load_suite


def play(env, task) -> dict:
    obs, _ = env.reset(seed=0, options={"task_id": task.id})
    expert = expert_class("database")(task)
    while True:
        obs, _, terminated, truncated, info = env.step(expert.act(obs))
        if terminated or truncated:
            return info


def test_suite_shape():
    suite = load_suite("database")
    assert len(suite.tasks) >= 80 and len(set(suite.ids())) == len(suite.tasks)
    assert {t.split for t in suite.tasks} == {"train", "dev", "test"}
    assert {t.setup["world"] for t in suite.tasks} == {"bookstore", "clinic", "company"}
    kinds = [t.evaluator["kind"] for t in suite.tasks]
    assert kinds.count("answer") >= 60 and kinds.count("table") >= 30
    assert expert_class("database") is DatabaseExpert


def _tasks(full: bool):
    """Every task, or one instance per template (enough to prove each template's SQL is portable)."""
    tasks = builtin_suite().tasks
    return tasks if full else [t for t in tasks if t.id.endswith("-0")]


def test_expert_solves_builtin_tasks(make_env, backend):
    env = make_env()
    tasks = _tasks(full=backend[0] == "sqlite")
    failures = [(t.id, info["evaluation"]["detail"]) for t in tasks if not (info := play(env, t))["success"]]
    assert not failures


@pytest.mark.slow
def test_expert_solves_every_builtin_task_on_servers(make_env, backend):
    if backend[0] == "sqlite":
        pytest.skip("covered by the default test")
    env = make_env()
    failures = [(t.id, info["evaluation"]["detail"]) for t in _tasks(True) if not (info := play(env, t))["success"]]
    assert not failures
