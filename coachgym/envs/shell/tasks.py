"""coachgym's built-in shell suite: 60 original tasks in six categories, with checkers.

The tasks live as data in `data/builtin_tasks.yaml` (files, processes, text, permissions,
archives, git; ten each). Questions are scored by exact answer match; changes by a bash checker
run on a snapshot of the agent's final files. This module only turns that file into `Task`s in
the shared format of `evaluation`; it must not run anything.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from coachgym.envs.core import Task, TaskSuite

TASKS_FILE = Path(__file__).parent / "data" / "builtin_tasks.yaml"


def _split(index: int) -> str:
    return "train" if index < 6 else ("dev" if index < 8 else "test")


def _task(category: str, index: int, item: dict[str, Any]) -> Task:
    setup: dict[str, Any] = {"init": [{"language": "bash", "code": item["init"]}] if item.get("init") else [],
                             "solution": item["solution"]}
    if item.get("start"):
        setup["start"] = item["start"]
    if "answer" in item:
        evaluator: dict[str, Any] = {"match": {"answer": str(item["answer"]), "strip": True}}
        setup["answer_from"] = "output"
    else:
        evaluator = {"check": [{"language": "bash", "code": item["check"]}]}
    return Task(id=f"shell-{category}-{item['id']}", env="shell", goal=item["goal"], setup=setup,
                evaluator=evaluator, split=_split(index), tags=[category])


@lru_cache(maxsize=1)
def builtin_suite() -> TaskSuite:
    """The 60 built-in tasks (36 train, 12 dev, 12 test)."""
    data = yaml.safe_load(TASKS_FILE.read_text(encoding="utf-8"))
    tasks = [_task(category, index, item) for category, items in data.items() for index, item in enumerate(items)]
    return TaskSuite(name="shell", env="shell", tasks=tasks, reference_score=1.0,
                     description="Original shell tasks: files, processes, text, permissions, archives, git.")
