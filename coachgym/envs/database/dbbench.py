"""Import AgentBench DBBench tasks (dev: 60, standard: 300) as a coachgym `TaskSuite`.

The task files ship inside this package (`data/dbbench/`, Apache-2.0, see LICENSE and NOTICE
there), so a fresh install needs nothing else; `load_dbbench(path)` reads other copies. Each
task's table becomes a `Table` whose columns are all text, as DBBench builds them on MySQL, and
the task is marked `dialect: mysql` so the env adapts its SQL on other backends. Questions are
scored against `label`; INSERT/UPDATE tasks against `answer_md5` by the Python port of DBBench's
table checksum. Two repairs keep every task buildable on every backend, and nothing else is
changed: duplicate or empty column names get a suffix/placeholder, and rows with a missing cell
are padded with NULL (extra cells are dropped).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from coachgym.envs.core import Task, TaskSuite
from coachgym.envs.database.schema import Column, Table

MUTATION_TYPES = ("INSERT", "UPDATE", "DELETE")
SPLIT_OF_FILE = {"dev": "dev", "standard": "test"}


def data_dir() -> Path:
    return Path(str(resources.files("coachgym.envs.database") / "data" / "dbbench"))


def _column_names(raw: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for index, column in enumerate(raw):
        base = str(column.get("name") or "").strip() or f"column_{index + 1}"
        name, suffix = base, 2
        while name.lower() in seen:  # MySQL names are case-insensitive, so compare lower-cased
            name, suffix = f"{base}_{suffix}", suffix + 1
        seen.add(name.lower())
        names.append(name)
    return names


def _table(raw: dict[str, Any]) -> Table:
    info = raw["table_info"]
    names = _column_names(info["columns"])
    rows = []
    for row in info["rows"]:
        cells = [None if v is None else str(v) for v in row][: len(names)]
        rows.append(cells + [None] * (len(names) - len(cells)))
    return Table(name=raw["table_name"], columns=[Column(name=n, type="text") for n in names], rows=rows)


def dbbench_task(entry: dict[str, Any], task_id: str, split: str) -> Task:
    """One DBBench record as a `Task` (the record's fields are kept under `setup["dbbench"]`)."""
    kind = entry["type"][0]
    table = _table(entry["table"])
    if kind in MUTATION_TYPES:
        solution = list(entry["label"])
        evaluator = {"kind": "md5", "table": table.name, "columns": table.column_names(),
                     "answer_md5": entry["answer_md5"]}
    else:
        solution = [entry["sql"]["query"]] if entry.get("sql") else []
        evaluator = {"kind": "answer", "expected": list(entry["label"])}
    goal = entry["description"]
    if entry.get("add_description"):
        goal += "\n" + entry["add_description"]
    return Task(
        id=task_id,
        env="database",
        goal=goal,
        setup={"tables": [table.model_dump()], "dialect": "mysql", "solution_sql": solution,
               "dbbench": {"type": kind, "source": entry.get("source", "")}},
        evaluator=evaluator,
        split=split,
        tags=["dbbench", kind, str(entry.get("source", ""))],
    )


def load_dbbench(path: str | Path, split: str = "test", prefix: str | None = None) -> list[Task]:
    """Tasks from one DBBench .jsonl file (one JSON record per line)."""
    path = Path(path)
    prefix = prefix or f"dbbench-{path.stem}"
    tasks = []
    with path.open(encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            if line.strip():
                tasks.append(dbbench_task(json.loads(line), f"{prefix}-{index:03d}", split))
    return tasks


@lru_cache(maxsize=1)
def dbbench_suite() -> TaskSuite:
    """DBBench dev (split `dev`) and standard (split `test`), 360 tasks."""
    tasks = [t for stem, split in SPLIT_OF_FILE.items() for t in load_dbbench(data_dir() / f"{stem}.jsonl", split)]
    return TaskSuite(
        name="dbbench",
        env="database",
        description="AgentBench DBBench (v0.2 data): questions and INSERT/UPDATE tasks over one table each.",
        tasks=tasks,
    )
