"""Benchmark suites: named collections of env task suites, each evaluated on one split.

A benchmark (`BenchSuite`) lists components; each names an env task suite (a registered suite
such as `shell` or `dbbench`, or a suite file) and the split to evaluate, plus the reference score
that AgentBench-style normalisation divides by. Built-in benchmarks are YAML files beside this
module, so their reference values live in the suite file and are reviewed like code.

This module only resolves and loads suites. A component whose env cannot load on this machine
is returned as unavailable with the reason, never silently dropped: the runner and the report
must show it. It must not run episodes.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from coachgym.envs.core import Task, TaskSuite
from coachgym.strict import StrictModel

BUILTIN_DIR = Path(__file__).parent / "suites"
DEFAULT_BENCH = "coachgym-bench"
EVAL_SPLITS = ("test",)


class Component(StrictModel):
    """One env suite inside a benchmark."""

    name: str = Field(description="Unique id inside the benchmark; also the results folder name.")
    suite: str = Field(description="Registered suite name (see `coachgym envs list`) or a suite file path.")
    split: str | None = Field(default=None, description="Split to evaluate; default: the benchmark's split.")
    reference: float | None = Field(
        default=None, description="Reference score (average success of reference agents); default: the suite's.")
    limit: int | None = Field(default=None, ge=1, description="Evaluate only the first N tasks of the split.")


class BenchSuite(StrictModel):
    """A benchmark: components evaluated together and combined into one overall score."""

    name: str
    description: str = ""
    split: str = Field(default="test", description="Default split for components that name none.")
    components: list[Component]

    def component(self, name: str) -> Component:
        for component in self.components:
            if component.name == name:
                return component
        raise KeyError(f"No component {name!r} in benchmark {self.name!r}.")


class LoadedComponent(BaseModel):
    """A component resolved on this machine: its tasks, or why it cannot run."""

    component: Component
    env: str | None = None
    tasks: list[Task] = []
    reference: float | None = None
    unavailable: str | None = Field(default=None, description="Why this component cannot run here (None if it can).")

    @property
    def name(self) -> str:
        return self.component.name

    def task_suite(self) -> TaskSuite:
        """The tasks to run, as a suite an env can be constructed with."""
        return TaskSuite(name=self.name, env=self.env or "", tasks=self.tasks, reference_score=self.reference)


def builtin_benches() -> list[str]:
    return sorted(path.stem for path in BUILTIN_DIR.glob("*.yaml"))


def resolve_bench(name_or_path: str) -> BenchSuite:
    """A benchmark by built-in name, from a benchmark YAML/JSON file, or a single env suite (name or file)."""
    builtin = BUILTIN_DIR / f"{name_or_path}.yaml"
    path = builtin if builtin.exists() else Path(name_or_path)
    if path.suffix in (".yaml", ".yml", ".json") and path.exists():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise ValueError(f"{path} is not valid YAML/JSON: {error}") from None
        if isinstance(data, dict) and "components" in data:
            return BenchSuite.model_validate(data)
    from coachgym.envs.registry import suite_names

    if path.exists() or name_or_path in suite_names():
        component = Component(name=path.stem if path.exists() else name_or_path, suite=name_or_path)
        return BenchSuite(name=component.name, components=[component])
    known = ", ".join(builtin_benches() + sorted(suite_names()))
    raise KeyError(f"Unknown benchmark or suite {name_or_path!r}; use a file path or one of: {known}.")


def load_component(bench: BenchSuite, component: Component) -> LoadedComponent:
    """Load a component's tasks; failures become `unavailable` with the reason."""
    from coachgym.envs.registry import availability, load_suite, suite_names

    try:
        suite = load_suite(component.suite)
        env = suite.env or suite_names().get(component.suite)
        problem = availability(env) if env else f"suite {component.suite!r} names no env"
    except Exception as error:  # noqa: BLE001 - any load failure makes the component unavailable, with why
        return LoadedComponent(component=component, unavailable=f"suite did not load: {type(error).__name__}: {error}")
    if problem is not None:
        return LoadedComponent(component=component, env=env, unavailable=f"env {env!r} cannot run here: {problem}")
    split = component.split or bench.split
    tasks = [task for task in suite.tasks if task.split == split][: component.limit]
    reference = component.reference if component.reference is not None else suite.reference_score
    if not tasks:
        return LoadedComponent(component=component, env=env, reference=reference,
                               unavailable=f"suite {component.suite!r} has no tasks in split {split!r}")
    return LoadedComponent(component=component, env=env, tasks=tasks, reference=reference)


def load_bench(bench: BenchSuite) -> list[LoadedComponent]:
    names = [c.name for c in bench.components]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ValueError(f"Benchmark {bench.name!r} repeats component names: {', '.join(sorted(duplicated))}.")
    return [load_component(bench, component) for component in bench.components]


def evaluation_overlap(trajectories: Iterable, bench: str | BenchSuite = DEFAULT_BENCH) -> list[str]:
    """Training episodes whose (env, task) is also in an evaluation split of `bench`.

    Training on evaluation tasks inflates every score the report shows, so training commands
    should call `warn_evaluation_overlap` on the data they are about to read.
    """
    bench = resolve_bench(bench) if isinstance(bench, str) else bench
    held_out = {(loaded.env, task.id) for loaded in load_bench(bench) for task in loaded.tasks}
    return sorted({f"{t.env}/{t.task_id}" for t in trajectories if (t.env, t.task_id) in held_out})


def warn_evaluation_overlap(trajectories: Iterable, bench: str | BenchSuite = DEFAULT_BENCH) -> list[str]:
    overlap = evaluation_overlap(trajectories, bench)
    if overlap:
        shown = ", ".join(overlap[:5]) + (" ..." if len(overlap) > 5 else "")
        warnings.warn(f"{len(overlap)} training tasks are in an evaluation split ({shown}); scores on them "
                      "are not held-out. Collect training data from the 'train' split.", stacklevel=2)
    return overlap
