"""The phone's built-in suite: the first tasks (`tasks.py`) then the rest (`tasks_more.py`), with splits.

Its own module so both task lists can build on `tasks.py`'s plan helpers without importing each other in a circle.
"""

from __future__ import annotations

from coachgym.envs.core import Task, TaskSuite
from coachgym.envs.phone.tasks import _TASKS
from coachgym.envs.phone.tasks_more import MORE_TASKS

SPLITS = ("train", "train", "train", "dev", "test")


def builtin_suite() -> TaskSuite:
    """All built-in tasks (these, then `tasks_more`); every fifth-but-one is dev and every fifth is test."""
    tasks = []
    for index, (suffix, goal, plan, checks, tags, world) in enumerate([(*t, {}) for t in _TASKS] + MORE_TASKS):
        evaluator = {"infeasible": True} if checks is None else {"checks": checks}
        multi = checks is not None and sum(step[0] not in ("answer", "status") for step in plan) > 1
        setup = {"plan": plan, **({"world": world} if world else {})}
        tasks.append(Task(id=f"phone-{suffix}", env="phone", goal=goal, setup=setup, evaluator=evaluator,
                          split=SPLITS[index % len(SPLITS)], tags=[*tags, "multi-step" if multi else "single-step"]))
    return TaskSuite(name="phone", env="phone", description="Touch-driven tasks on a simulated Android-like phone.",
                     tasks=tasks, reference_score=1.0)
