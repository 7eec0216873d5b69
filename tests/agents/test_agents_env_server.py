"""The HTTP env server and RemoteEnv, over real sockets: identical episodes, auth, leases."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import httpx
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from coachgym.agents.registry import make_agent
from coachgym.envs.registry import make
from coachgym.envs.server import EnvServer, RemoteEnv, ThreadedServer
from coachgym.trajectories.rollout import run_episode

TOKEN = "test-token"


@pytest.fixture(scope="module")
def env_server():
    server = EnvServer(TOKEN, lease_s=1.0)
    http = ThreadedServer(server.app)
    yield server, http.url
    http.stop()
    server.shutdown()


def assert_same_observation(local: dict, remote: dict) -> None:
    assert local.keys() == remote.keys()
    for key, value in local.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, remote[key])
        else:
            assert value == remote[key]


def compare_local_and_remote(url: str, env_name: str, task_id: str, actions: list[str], **kwargs) -> None:
    local, remote = make(env_name, **kwargs), RemoteEnv(url, env_name, token=TOKEN, **kwargs)
    try:
        for env in (local, remote):
            env.reset(seed=11, options={"task_id": task_id})
        local_first, remote_first = local.reset(seed=7), remote.reset(seed=7)
        assert_same_observation(local_first[0], remote_first[0])
        assert local_first[1] == remote_first[1]
        for action in actions:
            a, b = local.step(action), remote.step(action)
            assert_same_observation(a[0], b[0])
            assert a[1:] == b[1:]
            if a[2] or a[3]:
                break
    finally:
        local.close()
        remote.close()


def test_agents_env_server_remote_equals_local(env_server):
    _, url = env_server
    compare_local_and_remote(url, "guess", "guess-005", ["guess(50)", "nonsense", "guess(5000)", "guess(25)", "give_up()"])


def test_agents_env_server_scripted_episode_and_check_env(env_server):
    server, url = env_server
    remote = RemoteEnv(url, "guess", token=TOKEN)
    try:
        check_env(remote, skip_render_check=True)
        remote_run = run_episode(remote, make_agent("scripted"), "guess-010", seed=3)
        local_run = run_episode(make("guess"), make_agent("scripted"), "guess-010", seed=3)
        assert remote_run.success and remote_run.env == "guess"
        assert [s.action for s in remote_run.steps] == [s.action for s in local_run.steps]
        assert [s.observation for s in remote_run.steps] == [s.observation for s in local_run.steps]
    finally:
        remote.close()
    assert remote.session not in server.sessions


def test_agents_env_server_refuses_requests_without_the_token(env_server):
    _, url = env_server
    assert httpx.get(url + "/v1/envs").status_code == 401
    assert httpx.get(url + "/v1/envs", headers={"Authorization": "Bearer wrong"}).status_code == 401
    refused = httpx.post(url + "/v1/sessions", json={"env": "guess"})
    assert refused.status_code == 401 and "token" in refused.json()["detail"]
    assert httpx.get(url + "/v1/envs", headers={"Authorization": f"Bearer {TOKEN}"}).json()["envs"]
    with pytest.raises(RuntimeError, match="401"):
        RemoteEnv(url, "guess", token="wrong")


def test_agents_env_server_frees_env_of_a_client_killed_mid_episode(env_server):
    server, url = env_server
    closed_before = server.closed
    script = textwrap.dedent(f"""
        import os, signal
        from coachgym.envs.server import RemoteEnv
        env = RemoteEnv({url!r}, "guess", token={TOKEN!r})
        env.reset(seed=0)
        env.step("guess(1)")
        print(env.session, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == -9, result.stderr
    session = result.stdout.strip()
    deadline = time.monotonic() + 10
    while (session in server.sessions or server.closed == closed_before) and time.monotonic() < deadline:
        time.sleep(0.1)  # the session leaves the table before its env has finished closing
    assert session not in server.sessions and server.closed > closed_before


def test_agents_env_server_heartbeat_keeps_a_slow_client_alive(env_server):
    server, url = env_server
    remote = RemoteEnv(url, "guess", token=TOKEN)
    try:
        remote.reset(seed=0)
        time.sleep(2.5)  # longer than the lease: only the heartbeat keeps the session
        assert remote.session in server.sessions
        remote.step("guess(3)")
    finally:
        remote.close()


def test_agents_env_server_bad_requests_are_explained(env_server):
    _, url = env_server
    with pytest.raises(RuntimeError, match="Unknown env 'nope'"):
        RemoteEnv(url, "nope", token=TOKEN)
    remote = RemoteEnv(url, "guess", token=TOKEN)
    try:
        with pytest.raises(RuntimeError, match="409.*reset"):
            remote.step("guess(1)")
    finally:
        remote.close()
    with pytest.raises(ConnectionError, match="coachgym serve-env"):
        RemoteEnv("http://127.0.0.1:9", "guess", token=TOKEN)
