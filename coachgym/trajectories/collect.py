"""Collecting trajectories at scale: worker processes (or Ray actors), one store, resumable.

Each worker (a process of `pool.play_on_processes`, or a Ray actor) owns its env and agent
(Playwright's sync API and many model runtimes are not thread-safe) and plays the episodes it is
given. Only the parent writes the store, one fsynced line per finished episode, so SIGKILL at any
point loses at most the episodes in flight, and `resume` skips every (task, seed, agent) already
stored. Episodes whose agent or env failed, or whose worker died, are stored as `agent_error` /
`env_error` and summarised in `CollectSummary.errors`.

A local model (`hf:PATH`) is not copied into every worker: with more than one worker the parent
serves it once through the OpenAI-compatible batching server (`coachgym.agents.serve`) and the
workers talk to it, so their requests are batched into shared `generate` calls. Trajectories
still record the `hf:` spec. Envs can run on another machine (`env_server`, see
`coachgym.envs.server`), and workers can be Ray actors (`backend="ray"`, the `coachgym[ray]`
extra; see `collect_ray`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, Field
from tqdm import tqdm

from coachgym.strict import StrictModel
from coachgym.trajectories.pool import EpisodeFailure, failed_trajectory, play_on_processes
from coachgym.trajectories.records import Trajectory
from coachgym.trajectories.stats import ERROR_OUTCOMES, error_lines
from coachgym.trajectories.store import TrajectoryStore

# HFAgent options that configure the shared server's model rather than each worker's requests.
_SERVER_OPTIONS = {"device", "logprobs"}


class CollectConfig(StrictModel):
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
    backend: Literal["process", "ray"] = Field(default="process", description="Worker processes or Ray actors.")
    share_model: bool = Field(default=True, description="With several workers, serve an `hf:` model once and batch "
                                                        "all workers' requests (else each worker loads its own copy).")
    env_server: str | None = Field(default=None, description="URL of a `coachgym serve-env` server to run envs on "
                                                             "(token from $COACHGYM_ENV_TOKEN).")
    worker_agent: str | None = Field(default=None, description="Internal: the spec workers build (set when the "
                                                               "model is shared); `agent` stays the recorded name.")


class CollectSummary(BaseModel):
    planned: int
    skipped: int
    collected: int
    successes: int
    out: Path
    failed: int = Field(default=0, description="Episodes of this run that ended in agent_error or env_error.")
    errors: list[str] = Field(default=[], description="Those episodes, one line per outcome with the commonest error.")


def plan_episodes(config: CollectConfig) -> list[tuple[str, int]]:
    from coachgym.envs.registry import load_suite

    if config.tasks:
        task_ids = list(config.tasks)
    else:
        suite = load_suite(config.suite or config.env)
        task_ids = [t.id for t in suite.tasks if t.split in config.splits]
    return [(task_id, seed) for task_id in task_ids for seed in config.seeds]


def collect(config: CollectConfig, progress: bool = True) -> CollectSummary:
    from coachgym.envs.registry import env_entry

    env_entry(config.env)  # an unknown env fails here, naming the known ones
    store = TrajectoryStore(config.out)
    episodes = plan_episodes(config)
    store.remove_orphan_images()
    done = store.finished_keys() if config.resume else set()
    todo = [(t, s) for t, s in episodes if (t, s, config.agent) not in done]
    bar = tqdm(total=len(episodes), initial=len(episodes) - len(todo), disable=not progress, desc=f"collect {config.env}",
               unit="ep", dynamic_ncols=True)
    successes, outcomes = 0, []
    with _shared_model(config, len(todo)) as config:
        for count, trajectory in enumerate(_play(config, todo), start=1):
            store.append(trajectory)
            successes += trajectory.success
            outcomes.append((trajectory.outcome, trajectory.metadata.get("error")))
            bar.update(1)
            bar.set_postfix(success=f"{successes / count:.0%}")
    bar.close()
    return CollectSummary(planned=len(episodes), skipped=len(episodes) - len(todo), collected=len(todo),
                          successes=successes, out=store.folder,
                          failed=sum(outcome in ERROR_OUTCOMES for outcome, _ in outcomes),
                          errors=error_lines(outcomes, config.agent))


@contextmanager
def _shared_model(config: CollectConfig, episodes: int) -> Iterator[CollectConfig]:
    """Serve an `hf:` model once for all workers; yields the config the workers should use."""
    from coachgym.agents.registry import parse_spec

    kind, path, options = parse_spec(config.agent)
    if kind != "hf" or not config.share_model or min(config.workers, episodes) < 2:
        yield config
        return
    from coachgym.agents.hf import HFModel
    from coachgym.agents.serve import ModelServer
    from coachgym.envs.server import ThreadedServer

    server = ModelServer(HFModel(path, **{k: v for k, v in options.items() if k in _SERVER_OPTIONS}), path,
                         max_batch=config.workers)
    http = ThreadedServer(server.app)
    query = {k: v for k, v in options.items() if k not in _SERVER_OPTIONS}
    if "context_limit" in query:  # workers then count prompt tokens with the model's own tokenizer
        query["tokenizer"] = path
    try:
        yield config.model_copy(update={"worker_agent": f"openai:{path}@{http.url}/v1?{urlencode(query)}"})
    finally:
        http.stop()
        server.stop()


def _play(config: CollectConfig, todo: list[tuple[str, int]]) -> Iterator[Trajectory]:
    if not todo:
        return
    factory = partial(EpisodeWorker, config)
    if config.backend == "ray":
        from coachgym.trajectories.collect_ray import play_on_ray

        yield from play_on_ray(factory, todo, config.workers)
        return
    if config.workers == 1:
        yield from play_episodes(config, todo)
        return
    for (task_id, seed), result in play_on_processes(factory, todo, config.workers):
        if isinstance(result, EpisodeFailure):
            result = failed_trajectory(task_id, seed, config.env, config.agent, result)
        yield result


def make_env(config: CollectConfig) -> Any:
    """The env a worker plays in: local by name, or a session on `config.env_server`."""
    kwargs = ({"suite": config.suite} if config.suite else {}) | config.env_kwargs
    if config.env_server:
        from coachgym.envs.server import RemoteEnv

        return RemoteEnv(config.env_server, config.env, **kwargs)
    from coachgym.envs.registry import make

    return make(config.env, **kwargs)


class EpisodeWorker:
    """One env and one agent that play episodes one after another (the body of every worker,
    process or Ray actor)."""

    def __init__(self, config: CollectConfig):
        from coachgym.agents.registry import make_agent

        self.store = TrajectoryStore(config.out)
        self.env = make_env(config)
        self.agent = make_agent(config.worker_agent or config.agent)
        self.agent.name = config.agent
        if config.worker_agent:
            self.agent.model = config.agent.partition(":")[2].partition("?")[0]

    def play(self, task_id: str, seed: int) -> Trajectory:
        from coachgym.trajectories.rollout import run_episode

        return run_episode(self.env, self.agent, task_id, seed, store=self.store)

    def close(self) -> None:
        self.agent.close()
        self.env.close()


def play_episodes(config: CollectConfig, todo: Iterable[tuple[str, int]]) -> Iterator[Trajectory]:
    worker = EpisodeWorker(config)
    try:
        for task_id, seed in todo:
            yield worker.play(task_id, seed)
    finally:
        worker.close()
