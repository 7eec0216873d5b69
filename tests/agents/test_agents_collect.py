"""The collection engine end to end: worker processes, a shared batching model, Ray actors,
remote envs, resume."""

from __future__ import annotations

import pytest

from coachgym.envs.server import EnvServer, ThreadedServer
from coachgym.trajectories.collect import CollectConfig, collect
from coachgym.trajectories.store import TrajectoryStore

TASKS = ["guess-000", "guess-001", "guess-002", "guess-003"]


def stored(out) -> list:
    trajectories, report = TrajectoryStore(out).load()
    assert not report.problems
    return trajectories


def test_agents_collect_two_workers_scripted_then_resume(tmp_path):
    config = CollectConfig(env="guess", agent="scripted", out=tmp_path, tasks=TASKS, seeds=[0, 1], workers=2)
    summary = collect(config, progress=False)
    assert summary.collected == 8 and summary.successes == 8
    trajectories = stored(tmp_path)
    assert sorted(t.key for t in trajectories) == sorted((t, s, "scripted") for t in TASKS for s in (0, 1))
    again = collect(config, progress=False)
    assert again.collected == 0 and again.skipped == 8 and len(stored(tmp_path)) == 8


def test_agents_collect_hf_model_shared_by_two_workers(tmp_path, tiny_model_path):
    spec = f"hf:{tiny_model_path}?max_new_tokens=5&temperature=0.8"
    config = CollectConfig(env="guess", agent=spec, out=tmp_path, tasks=TASKS[:3], workers=2,
                           env_kwargs={"max_steps": 2})
    assert collect(config, progress=False).collected == 3
    trajectories = stored(tmp_path)
    assert {t.agent for t in trajectories} == {spec} and {t.model for t in trajectories} == {tiny_model_path}
    for trajectory in trajectories:
        assert trajectory.steps and all(s.token_ids and len(s.token_ids) == len(s.logprobs) <= 5
                                        for s in trajectory.steps)


def test_agents_collect_envs_on_an_env_server(tmp_path, monkeypatch):
    server = EnvServer("collect-token", lease_s=5)
    http = ThreadedServer(server.app)
    monkeypatch.setenv("COACHGYM_ENV_TOKEN", "collect-token")
    try:
        config = CollectConfig(env="guess", agent="scripted", out=tmp_path, tasks=TASKS[:2], env_server=http.url)
        assert collect(config, progress=False).successes == 2
        assert not server.sessions and server.closed == 1
    finally:
        http.stop()
        server.shutdown()


@pytest.mark.slow
def test_agents_collect_on_ray_actors(tmp_path):
    import ray  # the optional `coachgym[ray]` extra (part of the dev extra, so CI has it)

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        config = CollectConfig(env="guess", agent="random", out=tmp_path, tasks=TASKS, workers=2, backend="ray",
                               env_kwargs={"max_steps": 3})
        assert collect(config, progress=False).collected == 4
        trajectories = stored(tmp_path)
        assert sorted(t.task_id for t in trajectories) == TASKS and all(t.steps for t in trajectories)
    finally:
        ray.shutdown()
