"""AgentBench's OS-interaction tasks (dev 26 + test 144) as a coachgym `TaskSuite`.

The task files are vendored unmodified under `data/agentbench_os/` (Apache-2.0; LICENSE and
NOTICE sit next to them), so the suite loads on a machine without the AgentBench checkout.
Conversion follows AgentBench's own loader: a script is a string (bash), or `{"file"|"code",
"language"}` with files relative to that group's script folder; a string `match` means exact
answer after strip; a non-list `check`/`init` is a one-element list; a task without `create`
runs in the default image. Script files are inlined, so tasks are self-contained data; the
checkers in `checker_guards.GUARDED_CHECKERS` are inlined inside their guard.
This module only converts; it must not run anything.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from coachgym.envs.core import Task, TaskSuite
from coachgym.envs.shell.checker_guards import GUARDED_CHECKERS, guarded

DATA_DIR = Path(__file__).parent / "data" / "agentbench_os"
TEST_GROUPS = ["1", "2", "3", "4", "5", "6", "7"]


def _script(obj: Any, script_dir: Path) -> dict[str, str] | None:
    if obj is None:
        return None
    if isinstance(obj, str):
        return {"language": "bash", "code": obj}
    language = obj.get("language", "bash")
    if "file" in obj:
        code = (script_dir / obj["file"]).read_text(encoding="utf-8")
        guard = GUARDED_CHECKERS.get(f"{script_dir.name}/{obj['file']}")
        return {"language": language, "code": guarded(code, guard) if guard else code}
    if "code" in obj:
        return {"language": language, "code": obj["code"]}
    raise ValueError(f"Invalid AgentBench script object: {obj!r}")


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def convert(item: dict[str, Any], task_id: str, split: str, script_dir: Path) -> Task:
    """One AgentBench OS config item -> `Task` (see the module docstring for the rules)."""
    create = item.get("create") if isinstance(item.get("create"), dict) else {}
    init = [_script(s, script_dir) for s in _as_list(create.get("init", []))]
    setup: dict[str, Any] = {"init": [s for s in init if s is not None]}
    if item.get("start"):
        setup["start"] = _script(item["start"], script_dir)["code"]
    evaluation = item["evaluation"]
    evaluator: dict[str, Any] = {}
    if "match" in evaluation:
        match = evaluation["match"]
        evaluator["match"] = {"answer": match, "strip": True} if isinstance(match, str) else match
    elif "check" in evaluation:
        evaluator["check"] = [_script(s, script_dir) for s in _as_list(evaluation["check"])]
    else:
        raise ValueError(f"AgentBench task {task_id} has neither match nor check.")
    if evaluation.get("example") is not None:
        evaluator["example"] = _script(evaluation["example"], script_dir)
    return Task(id=task_id, env="shell", goal=item["description"], setup=setup, evaluator=evaluator, split=split,
                tags=["agentbench-os", *item.get("labels", [])])


def _load(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, list) else [data]


@lru_cache(maxsize=1)
def agentbench_os_suite() -> TaskSuite:
    """dev: data/dev.json (26 tasks); test: data/1..7/*.json (144 tasks), ids like AgentBench's."""
    tasks = [convert(item, f"os-dev-{i:05d}", "dev", DATA_DIR / "scripts" / "dev")
             for i, item in enumerate(_load(DATA_DIR / "data" / "dev.json"))]
    for group in TEST_GROUPS:
        for path in sorted((DATA_DIR / "data" / group).glob("*.json")):
            tasks += [convert(item, f"os-std-{group}-{path.stem}-{i:05d}", "test", DATA_DIR / "scripts" / group)
                      for i, item in enumerate(_load(path))]
    return TaskSuite(name="agentbench-os", env="shell", tasks=tasks,
                     description="AgentBench OS interaction (THUDM/AgentBench v0.2, Apache-2.0): dev 26, test 144.")
