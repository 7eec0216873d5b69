"""Collecting trajectories at scale: worker processes, one append-only store, resumable.

Each worker process owns its env and agent (Playwright's sync API and many model runtimes are
not thread-safe) and plays episodes from a shared queue. Only the parent writes the store, one
fsynced line per finished episode, so SIGKILL at any point loses at most the episodes in flight,
and `resume` skips every (task, seed, agent) already stored.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import queue
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from tqdm import tqdm

from coachgym.trajectories.records import Trajectory
from coachgym.trajectories.store import TrajectoryStore


class CollectConfig(BaseModel):
    env: str = Field(description="Env name, e.g. 'shell'.")
    agent: str = Field(default="scripted", description="Agent spec, e.g. 'scripted', 'random', 'hf:PATH'.")
    out: Path = Field(description="Store folder (trajectories.jsonl and images/ go there).")
    suite: str | None = Field(default=None, description="Suite name or file; defaults to the env's built-in suite.")
    tasks: list[str] | None = Field(default=None, description="Task ids; default: every task of the selected splits.")
    splits: list[str] = Field(default=["train"], description="Splits to collect from when `tasks` is not given.")
    seeds: list[int] = Field(default=[0], description="One episode per task per seed.")
    workers: int = Field(default=1, ge=1)
    resume: bool = True
    env_kwargs: dict[str, Any] = {}


class CollectSummary(BaseModel):
    planned: int
    skipped: int
    collected: int
    successes: int
    out: Path


def plan_episodes(config: CollectConfig) -> list[tuple[str, int]]:
    from coachgym.envs.registry import load_suite

    if config.tasks:
        task_ids = list(config.tasks)
    else:
        suite = load_suite(config.suite or config.env)
        task_ids = [t.id for t in suite.tasks if t.split in config.splits]
    return [(task_id, seed) for task_id in task_ids for seed in config.seeds]


def collect(config: CollectConfig, progress: bool = True) -> CollectSummary:
    store = TrajectoryStore(config.out)
    episodes = plan_episodes(config)
    done = store.finished_keys() if config.resume else set()
    todo = [(t, s) for t, s in episodes if (t, s, config.agent) not in done]
    bar = tqdm(total=len(episodes), initial=len(episodes) - len(todo), disable=not progress, desc=f"collect {config.env}",
               unit="ep", dynamic_ncols=True)
    successes = 0
    for count, trajectory in enumerate(_play(config, todo, store), start=1):
        store.append(trajectory)
        successes += trajectory.success
        bar.update(1)
        bar.set_postfix(success=f"{successes / count:.0%}")
    bar.close()
    return CollectSummary(planned=len(episodes), skipped=len(episodes) - len(todo), collected=len(todo),
                          successes=successes, out=store.folder)


def _play(config: CollectConfig, todo: list[tuple[str, int]], store: TrajectoryStore):
    if not todo:
        return
    if config.workers == 1:
        yield from _episodes(config, todo, store)
        return
    context = mp.get_context("spawn")
    tasks: Any = context.Queue()
    results: Any = context.Queue()
    for item in todo:
        tasks.put(item)
    workers = [context.Process(target=_worker, args=(config, tasks, results, os.getpid()), daemon=True)
               for _ in range(min(config.workers, len(todo)))]
    for worker in workers:
        tasks.put(None)
        worker.start()
    try:
        for _ in range(len(todo)):
            message = _next_result(results, workers)
            if isinstance(message, str):
                raise RuntimeError(f"A collection worker failed: {message}")
            yield Trajectory.model_validate_json(message[1])
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()


def _next_result(results: Any, workers: list) -> Any:
    while True:
        try:
            return results.get(timeout=2)
        except queue.Empty:
            if not any(w.is_alive() for w in workers):
                raise RuntimeError("All collection workers exited before the run finished.") from None


def _episodes(config: CollectConfig, todo: Iterable[tuple[str, int]], store: TrajectoryStore):
    from coachgym.agents.registry import make_agent
    from coachgym.envs.registry import make
    from coachgym.trajectories.rollout import run_episode

    env = make(config.env, **({"suite": config.suite} if config.suite else {}), **config.env_kwargs)
    agent = make_agent(config.agent)
    try:
        for task_id, seed in todo:
            yield run_episode(env, agent, task_id, seed, store=store)
    finally:
        agent.close()
        env.close()


def _worker(config: CollectConfig, tasks: Any, results: Any, parent_pid: int) -> None:
    _die_with_parent(parent_pid)
    store = TrajectoryStore(config.out)

    def items():
        while (item := tasks.get()) is not None:
            yield item

    try:
        for trajectory in _episodes(config, items(), store):
            results.put(("ok", trajectory.model_dump_json()))
    except Exception as error:  # noqa: BLE001 - reported to the parent with the reason
        results.put(f"{type(error).__name__}: {error}")


def _die_with_parent(parent_pid: int) -> None:
    """Workers must not outlive a SIGKILLed parent (they would keep writing images)."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    if os.getppid() != parent_pid:
        os._exit(1)
