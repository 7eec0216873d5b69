"""Attacks on `coachgym serve-env` (issue #16), each refused without touching the host: uploads
read before the token was checked, constructor options that reach into the host, bad task ids."""

from __future__ import annotations

import json
import time

import httpx
import pytest

TOKEN = "security-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def env_server(serve):
    return serve("serve-env", "--token", TOKEN, "--envs", "guess,shell,database", ready="/v1/envs")


def sessions(url: str) -> int:
    return httpx.get(url + "/v1/envs", headers=AUTH).json()["sessions"]


def test_security_env_server_large_uploads_are_refused_before_they_are_read(env_server, upload):
    before = env_server.peak_rss_mb()
    start = time.monotonic()
    refused = httpx.post(env_server.url + "/v1/sessions", content=upload(50), timeout=60)
    assert refused.status_code == 401 and "token" in refused.json()["detail"]
    assert env_server.peak_rss_mb() - before < 20, "the server buffered an upload before checking the token"
    too_large = httpx.post(env_server.url + "/v1/sessions", content=upload(50), headers=AUTH, timeout=60)
    assert too_large.status_code == 413 and "--max-body-mb" in too_large.json()["detail"]
    declared = httpx.post(env_server.url + "/v1/sessions", content=b"{" * 50 * 2**20, headers=AUTH, timeout=60)
    assert declared.status_code == 413
    assert env_server.peak_rss_mb() - before < 20, "the server buffered an upload over its limit"
    assert time.monotonic() - start < 30
    assert sessions(env_server.url) == 0


@pytest.mark.parametrize("env, kwargs, named", [
    ("shell", {"rootfs": "/", "base": "rootfs"}, "base, rootfs"),  # the host's / as the sandbox's root
    ("shell", {"sandbox": {"base": "host"}}, "sandbox"),
    ("database", {"server_url": "mysql://attacker.example:3306/x"}, "server_url"),
    ("database", {"limits": {"timeout_s": 1e9}}, "limits"),
])
def test_security_env_server_refuses_options_that_reach_into_the_host(env_server, env, kwargs, named):
    refused = httpx.post(env_server.url + "/v1/sessions", json={"env": env, "kwargs": kwargs}, headers=AUTH)
    assert refused.status_code == 400, refused.text
    assert f"may not set {named}" in refused.json()["detail"] and "max_steps" in refused.json()["detail"]
    assert sessions(env_server.url) == 0


def test_security_env_server_reads_no_suite_file(env_server, tmp_path):
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps({"name": "planted", "env": "guess", "tasks": [
        {"id": "planted-1", "env": "guess", "instruction": "x", "setup": {"low": 1, "high": 2, "secret": 1}}]}))
    before = planted.stat().st_atime_ns
    refused = httpx.post(env_server.url + "/v1/sessions", json={"env": "guess", "kwargs": {"suite": str(planted)}},
                         headers=AUTH)
    assert refused.status_code == 400 and "Unknown suite" in refused.json()["detail"]
    assert planted.stat().st_atime_ns == before and sessions(env_server.url) == 0


def test_security_env_server_documented_options_still_work(env_server):
    created = httpx.post(env_server.url + "/v1/sessions", json={"env": "guess", "kwargs": {
        "suite": "guess", "task": "guess-003", "max_steps": 2, "screen": 32}}, headers=AUTH)
    assert created.status_code == 200, created.text
    session = created.json()["session"]
    try:
        reset = httpx.post(f"{env_server.url}/v1/sessions/{session}/reset", json={"seed": 1}, headers=AUTH).json()
        assert reset["task"]["id"] == "guess-003" and created.json()["screenshot_shape"] == [32, 32]
    finally:
        httpx.delete(f"{env_server.url}/v1/sessions/{session}", headers=AUTH)


def test_security_env_server_unknown_task_ids_and_bad_resets_are_4xx(env_server):
    unknown = httpx.post(env_server.url + "/v1/sessions", json={"env": "guess", "kwargs": {"task": "nope"}},
                         headers=AUTH)
    assert unknown.status_code == 400 and "nope" in unknown.json()["detail"]
    session = httpx.post(env_server.url + "/v1/sessions", json={"env": "guess"}, headers=AUTH).json()["session"]
    reset = f"{env_server.url}/v1/sessions/{session}/reset"
    try:
        missing = httpx.post(reset, json={"options": {"task_id": "nope"}}, headers=AUTH)
        assert missing.status_code == 404 and "nope" in missing.json()["detail"]
        for body in ({"options": {"rootfs": "/"}}, {"seed": -1}, {"seed": "x"}):
            assert httpx.post(reset, json=body, headers=AUTH).status_code == 422, body
        assert httpx.post(reset, json={"options": {"task_id": "guess-001"}}, headers=AUTH).status_code == 200
    finally:
        httpx.delete(f"{env_server.url}/v1/sessions/{session}", headers=AUTH)
