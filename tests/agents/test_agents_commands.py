"""`coachgym serve-env` and `coachgym serve-model` as real processes, used by their clients."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager

import httpx

from coachgym.agents.registry import make_agent
from coachgym.envs.registry import make
from coachgym.envs.server import RemoteEnv
from coachgym.trajectories.rollout import run_episode
from tests.conftest import free_port, stop, wait_until_answers


@contextmanager
def running(args: list[str], ready_url: str, headers: dict | None = None):
    """Start `coachgym ARGS`, wait until `ready_url` answers, stop it (SIGINT) afterwards."""
    process = subprocess.Popen([sys.executable, "-m", "coachgym.cli", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=os.environ | {"PYTHONUNBUFFERED": "1"})
    try:
        wait_until_answers(process, ready_url, ready=lambda status: status == 200, headers=headers)
        yield process
    finally:
        stop(process)


def test_agents_commands_serve_env_process(monkeypatch):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running(["serve-env", "--port", str(port), "--token", "cli-token", "--envs", "guess"], url + "/v1/envs",
                 {"Authorization": "Bearer cli-token"}):
        assert httpx.get(url + "/v1/envs").status_code == 401
        monkeypatch.setenv("COACHGYM_ENV_TOKEN", "cli-token")
        env = RemoteEnv(url, "guess")
        try:
            trajectory = run_episode(env, make_agent("scripted"), "guess-007", seed=0)
        finally:
            env.close()
        assert trajectory.success


def test_agents_commands_serve_model_process(tiny_model_path, monkeypatch):
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    with running(["serve-model", tiny_model_path, "--port", str(port), "--name", "tiny", "--api-key", "cli-key"],
                 url + "/models", {"Authorization": "Bearer cli-key"}):
        assert httpx.get(url + "/models").status_code == 401
        monkeypatch.setenv("OPENAI_API_KEY", "cli-key")
        agent = make_agent(f"openai:tiny@{url}?max_new_tokens=3")
        trajectory = run_episode(make("guess", max_steps=2), agent, "guess-001", seed=0)
        assert trajectory.steps and all(s.token_ids and len(s.logprobs) == len(s.token_ids) for s in trajectory.steps)
