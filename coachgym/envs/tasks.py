"""What an env is asked to do: `Task` (one goal in one env) and `TaskSuite` (a named set of them).

These are data, read from files or built by each env's suite function, so the registry can name
suites without importing any env. This module must not know about envs or how tasks are run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

Split = Literal["train", "dev", "test"]


class Task(BaseModel):
    """One thing to do in one env. `setup` and `evaluator` are interpreted by that env."""

    id: str
    env: str
    goal: str
    setup: dict[str, Any] = {}
    evaluator: dict[str, Any] = {}
    split: Split = "train"
    tags: list[str] = []
    max_steps: int | None = Field(default=None, description="Overrides the env's default step budget.")


class TaskSuite(BaseModel):
    """A named collection of tasks, with the reference score AgentBench-style normalisation uses."""

    name: str
    env: str
    description: str = ""
    tasks: list[Task]
    reference_score: float | None = Field(default=None, description="Average score of reference agents.")

    def get(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(f"No task {task_id!r} in suite {self.name!r} ({len(self.tasks)} tasks).")

    def split(self, *splits: str) -> TaskSuite:
        return self.model_copy(update={"tasks": [t for t in self.tasks if t.split in splits]})

    def ids(self) -> list[str]:
        return [t.id for t in self.tasks]

    @classmethod
    def load(cls, path: str | Path) -> TaskSuite:
        """Read a suite from a .json, .yaml or .yml file."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
        except (json.JSONDecodeError, yaml.YAMLError) as error:
            raise ValueError(f"{path} is not a valid task-suite file: {error}") from None
        return cls.model_validate(data)

    def save(self, path: str | Path) -> None:
        path = Path(path)
        data = self.model_dump(mode="json", exclude_defaults=True)
        if path.suffix in (".yaml", ".yml"):
            path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        else:
            path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
