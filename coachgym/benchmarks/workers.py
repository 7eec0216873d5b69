"""Worker processes that play benchmark episodes, with a wall-clock limit per episode.

Each worker owns one agent and one env per component (Playwright's sync API and many model
runtimes are not thread-safe) and talks to the parent over its own pipe, so the parent always
knows which episode each worker is playing: an episode that overruns its time limit is ended by
killing that worker (the only way to stop a hung browser or model call) and a fresh worker takes
its place. Killing one worker cannot corrupt another's channel, unlike a shared queue.

Episodes are played only through `coachgym.trajectories.rollout.run_episode`; this module must
not write the store (the parent does, one line per finished episode).
"""

from __future__ import annotations

import importlib
import inspect
import multiprocessing as mp
import os
import time
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from coachgym.envs.core import Outcome, TaskSuite
from coachgym.trajectories.collect import _die_with_parent
from coachgym.trajectories.records import Trajectory

# (component name, task id, seed)
Episode = tuple[str, str, int]


class AgentStartError(RuntimeError):
    """The agent could not be created in a worker: a configuration error, so the run stops."""


def failed_trajectory(env: str, agent: str, episode: Episode, outcome: Outcome, error: str) -> Trajectory:
    """The record of an episode that produced no trajectory of its own (timeout, crash)."""
    _, task_id, seed = episode
    return Trajectory(task_id=task_id, env=env, agent=agent, seed=seed, outcome=outcome, started_at=time.time(),
                      metadata={"error": error})


class _Worker:
    def __init__(self, context: Any, args: tuple):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, *args), daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.episode: Episode | None = None
        self.started = 0.0

    def assign(self, episode: Episode) -> None:
        self.episode, self.started = episode, time.monotonic()
        self.conn.send(episode)

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def play(
    episodes: list[Episode],
    suites: dict[str, TaskSuite],
    agent: str,
    workers: int,
    timeout_s: float,
    store_root: Path,
    agent_factory: str | None = None,
    protocol: str = "coachgym",
) -> Iterator[tuple[str, Trajectory]]:
    """Play `episodes` on `workers` processes; yield (component, trajectory) as each finishes.

    An episode that runs past `timeout_s` yields a `task_limit_reached` record and one whose
    worker dies yields an `env_error` record, so every planned episode yields exactly once.
    """
    if not episodes:
        return
    context = mp.get_context("spawn")
    args = ({name: suite.model_dump_json() for name, suite in suites.items()}, agent, agent_factory, str(store_root),
            os.getpid(), protocol)
    pending = deque(episodes)
    pool = [_Worker(context, args) for _ in range(min(workers, len(episodes)))]
    try:
        while pending or any(w.episode for w in pool):
            for worker in pool:
                if worker.ready and worker.episode is None and pending:
                    worker.assign(pending.popleft())
            busy = [w for w in pool if w.episode]
            deadline = min((w.started + timeout_s for w in busy), default=time.monotonic() + 5)
            ready = wait([w.conn for w in pool], timeout=max(0.0, deadline - time.monotonic()))
            for index, worker in enumerate(pool):
                if worker.conn in ready:
                    result = _receive(worker, suites, agent)
                elif worker.episode and time.monotonic() - worker.started > timeout_s:
                    result = _abandon(worker, suites, agent, Outcome.TASK_LIMIT_REACHED,
                                      f"timed out after {timeout_s:g} s (per-task limit)")
                else:
                    continue
                if result is not None:
                    yield result
                if not worker.process.is_alive() or worker.conn.closed:
                    pool[index] = _Worker(context, args)
    finally:
        for worker in pool:
            worker.stop()


def _receive(worker: _Worker, suites: dict[str, TaskSuite], agent: str) -> tuple[str, Trajectory] | None:
    try:
        kind, payload = worker.conn.recv()
    except (EOFError, OSError):
        if worker.episode is None:
            raise AgentStartError("A benchmark worker exited while starting; see the error above.") from None
        return _abandon(worker, suites, agent, Outcome.ENV_ERROR, "the worker process died during the episode")
    if kind == "fatal":
        raise AgentStartError(payload)
    if kind == "ready":
        worker.ready = True
        return None
    component = worker.episode[0]
    worker.episode = None
    return component, Trajectory.model_validate_json(payload)


def _abandon(worker: _Worker, suites: dict[str, TaskSuite], agent: str, outcome: Outcome,
             error: str) -> tuple[str, Trajectory]:
    """Record the worker's episode as failed and end the worker (killing it if it still runs)."""
    episode = worker.episode
    assert episode is not None
    worker.stop(kill=True)
    return episode[0], failed_trajectory(suites[episode[0]].env, agent, episode, outcome, error)


def _make_agent(spec: str, factory: str | None) -> Any:
    from coachgym.agents.registry import make_agent

    if factory is None:
        return make_agent(spec)
    module, _, attr = factory.partition(":")
    agent = getattr(importlib.import_module(module), attr)()
    agent.name = spec
    return agent


def _serve(conn: Connection, suites_json: dict[str, str], agent_spec: str, agent_factory: str | None, store_root: str,
           parent_pid: int, protocol: str) -> None:
    """Worker main loop: create the agent, then play each episode the parent sends until None."""
    _die_with_parent(parent_pid)
    from coachgym.trajectories.store import TrajectoryStore

    try:
        agent = _make_agent(agent_spec, agent_factory)
    except Exception as error:  # noqa: BLE001 - reported to the parent, which stops the run
        conn.send(("fatal", f"Agent {agent_spec!r} could not be created: {type(error).__name__}: {error}"))
        return
    conn.send(("ready", None))
    envs: dict[str, Any] = {}
    try:
        while (episode := conn.recv()) is not None:
            component = episode[0]
            suite = TaskSuite.model_validate_json(suites_json[component])
            store = TrajectoryStore(Path(store_root) / component)
            trajectory = _play_one(envs, suite, agent, episode, store, protocol)
            conn.send(("done", trajectory.model_dump_json()))
    finally:
        agent.close()
        for env in envs.values():
            env.close()


def env_options(env: str, protocol: str) -> dict[str, str]:
    """`protocol` as a keyword for an env whose constructor takes one; other envs have only their own."""
    from coachgym.envs.registry import env_entry

    if protocol == "coachgym":
        return {}
    module, _, name = env_entry(env).entry_point.partition(":")
    env_class = getattr(importlib.import_module(module), name)
    return {"protocol": protocol} if "protocol" in inspect.signature(env_class).parameters else {}


def _play_one(envs: dict[str, Any], suite: TaskSuite, agent: Any, episode: Episode, store: Any,
              protocol: str = "coachgym") -> Trajectory:
    """One episode. `run_episode` records agent faults as `agent_error`; an env that cannot be
    built (or any other fault outside the agent) becomes an `env_error` record, not a crash."""
    from coachgym.envs.registry import make
    from coachgym.trajectories.rollout import run_episode

    component, task_id, seed = episode
    try:
        if component not in envs:
            envs[component] = make(suite.env, suite=suite, **env_options(suite.env, protocol))
        return run_episode(envs[component], agent, task_id, seed, store=store)
    except Exception as error:  # noqa: BLE001 - recorded so the report shows it and the run goes on
        return failed_trajectory(suite.env, agent.name, episode, Outcome.ENV_ERROR, f"{type(error).__name__}: {error}")
