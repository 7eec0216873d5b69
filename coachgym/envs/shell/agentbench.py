"""AgentBench's OS-interaction tasks as a coachgym `TaskSuite`: the bundled v0.2 suite, and an
importer for any AgentBench checkout (or just its `data/os_interaction` folder).

The v0.2 task files are vendored unmodified under `data/agentbench_os/` (Apache-2.0; LICENSE and
NOTICE sit next to them), with every checker any v0.2 group uses, so the suite loads without the
AgentBench checkout and a newer split that names a v0.2 checker imports without one.
Conversion follows AgentBench's own loader: a script is a string (bash), or `{"file"|"code",
"language"}` with files relative to a script folder; a string `match` means exact answer after
strip; a non-list `check`/`init` is a one-element list; a task without `create` runs in the
default image. Script files are inlined, so tasks are self-contained data; the checkers in
`checker_guards.GUARDED_CHECKERS` are inlined inside their guard.
This module only converts; it must not run anything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from coachgym.envs.core import Task, TaskSuite
from coachgym.envs.shell.checker_guards import guard_for, guarded
from coachgym.envs.tasks import Split

DATA_DIR = Path(__file__).parent / "data" / "agentbench_os"
# Folders of an os_interaction folder that hold no task files of a split.
NOT_SPLITS = {"data", "scripts", "res"}
SPLIT_ALIASES: dict[str, Split] = {
    "train": "train", "training": "train",
    "dev": "dev", "development": "dev", "val": "dev", "valid": "dev", "validation": "dev",
    "test": "test", "testing": "test", "eval": "test", "evaluation": "test", "std": "test", "standard": "test",
}


class TaskFile(NamedTuple):
    """One AgentBench task file, the split its tasks go to, the script folder they name files in
    (`group`, under `scripts/`), and the prefix of their ids (AgentBench's, plus `os-`)."""

    path: Path
    split: Split
    group: str
    prefix: str


def split_name(name: str) -> Split:
    """coachgym's split for an upstream split name (`training` -> `train`, ...)."""
    split = SPLIT_ALIASES.get(name.strip().lower())
    if split is None:
        mapping = ", ".join(f"{alias}->{target}" for alias, target in SPLIT_ALIASES.items())
        raise ValueError(f"Unknown split name {name!r}: coachgym's splits are train, dev and test, reached from "
                         f"these names: {mapping}. Rename the file or folder, or pass the split "
                         "(--split / split=...).")
    return split


def os_interaction_root(path: str | Path) -> Path:
    """The `os_interaction` folder in `path`: an AgentBench checkout, its `data` folder, or itself."""
    path = Path(path).expanduser()
    for candidate in (path / "data" / "os_interaction", path / "os_interaction"):
        if candidate.is_dir():
            return candidate
    if (path / "data").is_dir() and (path / "scripts").is_dir():
        return path
    raise FileNotFoundError(f"No AgentBench OS tasks at {path}: expected an AgentBench checkout, or its "
                            "data/os_interaction folder (the one holding data/ and scripts/).")


def task_files(root: Path, split: str | None = None) -> list[TaskFile]:
    """The task files of an os_interaction folder: `data/dev.json` (dev), `data/<group>/*.json`
    (test, AgentBench's "std"), and `*.json`/`*.jsonl` in any other folder (e.g. main's
    `train_0317/training.json`), whose split comes from the file or folder name. `split`, when
    given, overrides every file's. Other files directly in `data/` (v0.2's `6-backup.json`) are
    not loaded, as AgentBench's configs do not load them."""
    forced = split_name(split) if split is not None else None
    data = root / "data"
    files = [TaskFile(data / "dev.json", "dev", "dev", "os-dev-")] if (data / "dev.json").is_file() else []
    for group in _groups(data):
        files += [TaskFile(path, "test", group.name, f"os-std-{group.name}-{path.stem}-") for path in _json_files(group)]
    for folder in sorted(d for d in root.iterdir() if d.is_dir() and d.name not in NOT_SPLITS):
        for path in _json_files(folder, recursive=True):
            files.append(TaskFile(path, forced or _split_from_name(path), folder.name, f"os-{path.stem}-"))
    if not files:
        raise FileNotFoundError(f"No AgentBench OS task files under {root}: expected data/dev.json, "
                                "data/<group>/*.json or <split folder>/*.json.")
    return [f._replace(split=forced) for f in files] if forced else files


def _json_files(folder: Path, recursive: bool = False) -> list[Path]:
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.is_file() and p.suffix in (".json", ".jsonl"))


def _split_from_name(path: Path) -> Split:
    """The first of the file's stem, its leading word, or its folder's leading word that names a split."""
    names = [path.stem, *re.findall(r"^[A-Za-z]+", path.stem), *re.findall(r"^[A-Za-z]+", path.parent.name)]
    for name in names:
        if name.lower() in SPLIT_ALIASES:
            return SPLIT_ALIASES[name.lower()]
    try:
        return split_name(path.stem)
    except ValueError as error:
        raise ValueError(f"{path}: the split is not in the file or folder name. {error}") from None


class ScriptFiles:
    """Reads a script file a task names: from its group's folder in the checkout, then any other
    group's folder there, then coachgym's bundled copies; a missing file names task and file."""

    def __init__(self, root: Path):
        self.scripts = root / "scripts"
        self.folders = _groups(self.scripts) + _groups(DATA_DIR / "scripts")

    def read(self, relative: str, group: str, task_id: str) -> str:
        for folder in [self.scripts / group, *self.folders]:
            if (folder / relative).is_file():
                return (folder / relative).read_text(encoding="utf-8")
        raise FileNotFoundError(
            f"AgentBench OS task {task_id} names the script file {relative!r}, found neither in "
            f"{self.scripts}/<group>/ nor among coachgym's bundled AgentBench scripts ({DATA_DIR / 'scripts'}). "
            f"Put the file at {self.scripts / group / relative} (from the AgentBench checkout it came with).")


def _groups(scripts: Path) -> list[Path]:
    return sorted(d for d in scripts.iterdir() if d.is_dir()) if scripts.is_dir() else []


def _script(obj: Any, read: Callable[[str], str]) -> dict[str, str] | None:
    if obj is None:
        return None
    if isinstance(obj, str):
        return {"language": "bash", "code": obj}
    if "file" in obj:
        code = read(obj["file"])
    elif "code" in obj:
        code = obj["code"]
    else:
        raise ValueError(f"Invalid AgentBench script object: {obj!r}")
    guard = guard_for(code)
    return {"language": obj.get("language", "bash"), "code": guarded(code, guard) if guard else code}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def convert(item: dict[str, Any], task_id: str, split: Split, read: Callable[[str], str]) -> Task:
    """One AgentBench OS config item -> `Task`; `read` returns a named script file's text."""
    create = item.get("create") if isinstance(item.get("create"), dict) else {}
    init = [_script(s, read) for s in _as_list(create.get("init", []))]
    setup: dict[str, Any] = {"init": [s for s in init if s is not None]}
    if item.get("start"):
        setup["start"] = _script(item["start"], read)["code"]
    evaluation = item["evaluation"]
    evaluator: dict[str, Any] = {}
    if "match" in evaluation:
        match = evaluation["match"]
        evaluator["match"] = {"answer": match, "strip": True} if isinstance(match, str) else match
    elif "check" in evaluation:
        evaluator["check"] = [_script(s, read) for s in _as_list(evaluation["check"])]
    else:
        raise ValueError(f"AgentBench task {task_id} has neither match nor check.")
    if evaluation.get("example") is not None:
        evaluator["example"] = _script(evaluation["example"], read)
    return Task(id=task_id, env="shell", goal=item["description"], setup=setup, evaluator=evaluator, split=split,
                tags=["agentbench-os", *item.get("labels", [])])


def _load(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


def import_agentbench_os(path: str | Path, split: str | None = None, name: str = "agentbench-os",
                         description: str = "") -> TaskSuite:
    """Every task of an AgentBench checkout (or its data/os_interaction folder), any version:
    files and splits as `task_files` finds them, script files as `ScriptFiles` resolves them."""
    root = os_interaction_root(path)
    scripts = ScriptFiles(root)
    tasks = []
    for file in task_files(root, split):
        for index, item in enumerate(_load(file.path)):
            task_id = f"{file.prefix}{index:05d}"
            tasks.append(convert(item, task_id, file.split,
                                 lambda relative, g=file.group, t=task_id: scripts.read(relative, g, t)))
    return TaskSuite(name=name, env="shell", tasks=tasks,
                     description=description or f"AgentBench OS interaction, imported from {root}.")


@lru_cache(maxsize=1)
def agentbench_os_suite() -> TaskSuite:
    """dev: data/dev.json (26 tasks); test: data/1..7/*.json (144 tasks), ids like AgentBench's."""
    return import_agentbench_os(DATA_DIR, description="AgentBench OS interaction (THUDM/AgentBench v0.2, "
                                "Apache-2.0): dev 26, test 144.")
