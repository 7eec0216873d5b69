"""`coachgym eval`: run an agent over a benchmark, resumably, and record one result per episode.

A run is a folder: `run.json` (what was asked and which components could run), one trajectory
store per component (`<component>/trajectories.jsonl`, the append-only store collection uses),
and `results.json` (one `EpisodeResult` per planned episode plus the metrics), which is derived
from the stores and so can always be rebuilt from them.

Every episode has a fixed seed that depends only on its task id and the run's base seed, and the
agent is reseeded with it, so results do not depend on worker count, order, or interruptions:
after a SIGKILL, `resume` skips the stored episodes and plays the rest to the same final results.
This module must not contain a rollout loop (that is `run_episode`, used by the workers).
"""

from __future__ import annotations

import time
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from coachgym.agents.prompts import agentbench_v02_builders

from coachgym.benchmarks.metrics import RunMetrics, compute_metrics
from coachgym.benchmarks.records import ComponentStatus, EpisodeResult
from coachgym.benchmarks.suites import DEFAULT_BENCH, BenchSuite, LoadedComponent, load_bench, resolve_bench
from coachgym.benchmarks.workers import Episode, play
from coachgym.strict import StrictModel
from coachgym.trajectories.store import TrajectoryStore

MANIFEST = "run.json"
RESULTS = "results.json"


class EvalConfig(StrictModel):
    suite: str = Field(default=DEFAULT_BENCH, description="Benchmark name or file, or a single env suite.")
    agent: str = Field(default="scripted", description="Agent spec: scripted, random, hf:PATH, openai:MODEL@URL.")
    agent_factory: str | None = Field(
        default=None, description="`module:callable` returning an Agent, for agents outside the registry; "
        "`agent` is then only the name results are recorded under.")
    out: Path = Field(description="Run folder.")
    workers: int = Field(default=1, ge=1, description="Worker processes, each with its own agent and envs.")
    timeout_s: float = Field(default=600.0, gt=0, description="Wall-clock limit per episode.")
    repeats: int = Field(default=1, ge=1, description="Episodes per task, each with its own fixed seed.")
    base_seed: int = Field(default=0, description="Mixed into every task's seed; change it for an independent run.")
    limit: int | None = Field(default=None, ge=1, description="At most N tasks per component (overrides the suite).")
    components: list[str] | None = Field(default=None, description="Only these components of the benchmark.")
    resume: bool = Field(default=False, description="Continue a run folder, skipping finished episodes.")
    protocol: Literal["coachgym", "agentbench-v0.2"] = Field(
        default="coachgym", description="Episode protocol for the components whose env offers one (shell): "
        "`agentbench-v0.2` follows AgentBench v0.2 where coachgym's default differs (docs/benchmarks.md).")
    agentbench_src: Path | None = Field(
        default=None, description="An AgentBench v0.2 checkout whose own instruction prompts (and OS one-shot "
        "example) the shell and database agents then see, laid out as v0.2 does; read with `ast`, never run. "
        "Only with protocol `agentbench-v0.2`; without it that protocol keeps coachgym's prompts.")

    @model_validator(mode="after")
    def _source_needs_protocol(self) -> EvalConfig:
        if self.agentbench_src is not None and self.protocol != "agentbench-v0.2":
            raise ValueError("--agentbench-src reproduces AgentBench v0.2's prompts; use it with "
                             "--protocol agentbench-v0.2.")
        return self


class RunManifest(BaseModel):
    config: EvalConfig
    bench: BenchSuite
    components: list[ComponentStatus]
    plan: list[tuple[str, str, int]] = Field(default=[], description="(component, task id, seed) in report order.")
    started_at: float = Field(default_factory=time.time)


class RunResults(BaseModel):
    manifest: RunManifest
    episodes: list[EpisodeResult]
    metrics: RunMetrics


def task_seed(task_id: str, repeat: int, base_seed: int) -> int:
    """A seed fixed by the task (not by its position in the run), so reruns and resumes match."""
    return zlib.crc32(f"{base_seed}:{repeat}:{task_id}".encode()) & 0x7FFFFFFF


def plan(config: EvalConfig, loaded: list[LoadedComponent]) -> list[Episode]:
    return [(c.name, task.id, task_seed(task.id, repeat, config.base_seed))
            for c in loaded if c.unavailable is None for task in c.tasks for repeat in range(config.repeats)]


def prepare(config: EvalConfig) -> tuple[RunManifest, list[LoadedComponent]]:
    """Resolve the benchmark and check the run folder: a new run, or a resume of the same run."""
    bench = resolve_bench(config.suite)
    if config.components:
        bench = bench.model_copy(update={"components": [bench.component(name) for name in config.components]})
    if config.limit is not None:
        bench = bench.model_copy(update={"components": [c.model_copy(update={"limit": config.limit})
                                                        for c in bench.components]})
    loaded = load_bench(bench)
    manifest = RunManifest(config=config, bench=bench, components=[
        ComponentStatus(name=c.name, suite=c.component.suite, env=c.env, split=c.component.split or bench.split,
                        tasks=len(c.tasks), reference=c.reference, unavailable=c.unavailable) for c in loaded],
        plan=plan(config, loaded))
    path = config.out / MANIFEST
    previous = read_manifest(config.out) if path.exists() else None
    # A run that stored no episode (its agent failed to start, say) holds nothing to keep: replace it.
    if previous is not None and any(TrajectoryStore(config.out / c.name).path.exists() for c in previous.components):
        if not config.resume:
            raise FileExistsError(f"{config.out} already holds a run; pass --resume to continue it or choose another --out.")
        same = ("suite", "agent", "repeats", "base_seed", "limit", "components")
        changed = [k for k in same if getattr(previous.config, k) != getattr(config, k)]
        if changed:
            raise ValueError(f"Cannot resume {config.out}: it was run with different {', '.join(changed)}; "
                             "use the same options or another --out.")
        manifest = manifest.model_copy(update={"started_at": previous.started_at})
    config.out.mkdir(parents=True, exist_ok=True)
    path.write_text(manifest.model_dump_json(indent=1), encoding="utf-8")
    return manifest, loaded


def run_eval(config: EvalConfig, on_episode: Callable[[EpisodeResult], None] | None = None) -> RunResults:
    """Play every planned episode not yet stored, then write and return `results.json`.

    An episode stored as `agent_error` or `env_error` counts as not played: a resume plays it again
    (after the cause is fixed), and its newer record replaces the failed one in the results.
    """
    manifest, loaded = prepare(config)
    stores = {c.name: TrajectoryStore(config.out / c.name) for c in loaded}
    for store in stores.values():
        store.remove_orphan_images()
    finished = {name: store.finished_keys() for name, store in stores.items()}
    todo = [e for e in manifest.plan if (e[1], e[2], config.agent) not in finished[e[0]]]
    suites = {c.name: c.task_suite() for c in loaded if c.unavailable is None}
    prompts = (agentbench_v02_builders(config.agentbench_src, {s.env for s in suites.values()})
               if config.agentbench_src is not None else None)
    for component, trajectory in play(todo, suites, config.agent, config.workers, config.timeout_s, config.out,
                                    agent_factory=config.agent_factory, protocol=config.protocol,
                                    prompts=prompts):
        stores[component].append(trajectory)
        if on_episode is not None:
            on_episode(EpisodeResult.from_trajectory(component, trajectory))
    return write_results(config.out)


def load_episodes(run_dir: Path, manifest: RunManifest) -> list[EpisodeResult]:
    """The newest stored result of every planned episode, in plan order (episodes not yet played are left out)."""
    by_key: dict[tuple, EpisodeResult] = {}
    for status in manifest.components:
        for trajectory in TrajectoryStore(run_dir / status.name).read():
            if trajectory.agent == manifest.config.agent:
                by_key[(status.name, trajectory.task_id, trajectory.seed)] = EpisodeResult.from_trajectory(
                    status.name, trajectory)
    return [by_key[tuple(key)] for key in manifest.plan if tuple(key) in by_key]


def write_results(run_dir: Path) -> RunResults:
    """(Re)build `results.json` from the run's stores."""
    manifest = read_manifest(run_dir)
    episodes = load_episodes(run_dir, manifest)
    results = RunResults(manifest=manifest, episodes=episodes, metrics=compute_metrics(
        manifest.components, episodes, planned=dict(Counter(key[0] for key in manifest.plan))))
    tmp = run_dir / (RESULTS + ".tmp")
    tmp.write_text(results.model_dump_json(indent=1), encoding="utf-8")
    tmp.replace(run_dir / RESULTS)
    return results


def read_manifest(run_dir: Path) -> RunManifest:
    path = Path(run_dir) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"No benchmark run at {run_dir} (missing {MANIFEST}); run `coachgym eval` first.")
    return RunManifest.model_validate_json(path.read_text(encoding="utf-8"))


def read_results(run_dir: Path) -> RunResults:
    """A run's results, rebuilt from its stores when `results.json` is missing (e.g. after a kill)."""
    path = Path(run_dir) / RESULTS
    if path.exists():
        try:
            return RunResults.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError:
            pass
    return write_results(Path(run_dir))

