"""The benchmark's worker processes: each plays episodes with its own agent and one env per component.

The processes, the per-episode wall-clock limit and crash handling are `coachgym.trajectories.pool`'s:
an episode that overruns its limit is recorded as `task_limit_reached`, one whose worker died as
`env_error`, and an agent that cannot be created stops the run (`AgentStartError`), since no
episode could be played.

Episodes are played only through `coachgym.trajectories.rollout.run_episode`; this module must
not write the store (the parent does, one line per finished episode).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from coachgym.agents.prompts import PromptBuilder
from coachgym.agents.registry import make_agent
from coachgym.envs.core import Outcome, TaskSuite
from coachgym.envs.registry import env_class, make
from coachgym.trajectories.pool import EpisodeFailure, failed_trajectory, play_on_processes
from coachgym.trajectories.records import Trajectory
from coachgym.trajectories.rollout import run_episode
from coachgym.trajectories.store import TrajectoryStore

# (component name, task id, seed)
Episode = tuple[str, str, int]


class AgentStartError(RuntimeError):
    """The agent could not be created in a worker: a configuration error, so the run stops."""


def play(
    episodes: list[Episode],
    suites: dict[str, TaskSuite],
    agent: str,
    workers: int,
    timeout_s: float,
    store_root: Path,
    agent_factory: str | None = None,
    protocol: str = "coachgym",
    prompts: dict[str, PromptBuilder] | None = None,
) -> Iterator[tuple[str, Trajectory]]:
    """Play `episodes` on `workers` processes; yield (component, trajectory) as each finishes.

    An episode that runs past `timeout_s` yields a `task_limit_reached` record and one whose
    worker dies yields an `env_error` record, so every planned episode yields exactly once.
    `prompts` (env -> builder) replaces the agent's own prompt format for those envs.
    """
    factory = partial(BenchPlayer, suites, agent, agent_factory, Path(store_root), protocol, prompts or {})
    for (component, task_id, seed), result in play_on_processes(factory, episodes, workers, timeout_s):
        if isinstance(result, EpisodeFailure):
            result = failed_trajectory(task_id, seed, suites[component].env, agent, result)
        yield component, result


class BenchPlayer:
    """One worker's agent, and its envs (one per component, built on first use and kept)."""

    def __init__(self, suites: dict[str, TaskSuite], agent_spec: str, agent_factory: str | None, store_root: Path,
                 protocol: str, prompts: dict[str, PromptBuilder]):
        try:
            self.agent = _make_agent(agent_spec, agent_factory)
        except Exception as error:  # noqa: BLE001 - the parent stops the run with this message
            raise AgentStartError(f"Agent {agent_spec!r} could not be created: {type(error).__name__}: {error}") \
                from None
        self.suites, self.store_root, self.protocol, self.prompts = suites, store_root, protocol, prompts
        self.own_prompts = getattr(self.agent, "fixed_prompts", None)
        self.envs: dict[str, Any] = {}

    def play(self, component: str, task_id: str, seed: int) -> Trajectory:
        """One episode. `run_episode` records agent faults as `agent_error`; an env that cannot be
        built (or any other fault outside the agent) becomes an `env_error` record, not a crash."""
        suite = self.suites[component]
        try:
            if component not in self.envs:
                self.envs[component] = make(suite.env, suite=suite, **env_options(suite.env, self.protocol))
            if self.prompts and hasattr(self.agent, "fixed_prompts"):  # agents that build prompts take these
                self.agent.fixed_prompts = self.prompts.get(suite.env, self.own_prompts)
            return run_episode(self.envs[component], self.agent, task_id, seed,
                               store=TrajectoryStore(self.store_root / component))
        except Exception as error:  # noqa: BLE001 - recorded so the report shows it and the run goes on
            failure = EpisodeFailure(Outcome.ENV_ERROR, f"{type(error).__name__}: {error}")
            return failed_trajectory(task_id, seed, suite.env, self.agent.name, failure)

    def close(self) -> None:
        self.agent.close()
        for env in self.envs.values():
            env.close()


def _make_agent(spec: str, factory: str | None) -> Any:
    if factory is None:
        return make_agent(spec)
    module, _, attr = factory.partition(":")
    agent = getattr(importlib.import_module(module), attr)()
    agent.name = spec
    return agent


def env_options(env: str, protocol: str) -> dict[str, str]:
    """`protocol` as a keyword for an env whose constructor takes one; other envs have only their own."""
    if protocol == "coachgym":
        return {}
    return {"protocol": protocol} if "protocol" in inspect.signature(env_class(env)).parameters else {}
