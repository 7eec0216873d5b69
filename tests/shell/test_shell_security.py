"""Isolation and limits, attacked from inside the sandbox through the env's own actions."""

from __future__ import annotations

import http.server
import os
import threading
import uuid
from pathlib import Path

import pytest

from coachgym.envs.core import Task
from coachgym.envs.shell import ShellEnv

REPO = Path(__file__).resolve().parents[2]
OPEN_TASK = Task(id="open", env="shell", goal="Do as you like.", evaluator={"match": {"answer": "x"}})


@pytest.fixture(scope="module")
def env():
    shell = ShellEnv(task=OPEN_TASK, max_steps=1000, timeout_s=2, max_processes=128)
    shell.reset(seed=0)
    yield shell
    shell.close()


def bash(env: ShellEnv, command: str) -> str:
    observation, _, terminated, _, info = env.step(f"```bash\n{command}\n```")
    assert not terminated and "action_error" not in info
    return observation["text"]


@pytest.fixture()
def loopback_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"host-secret")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_no_network_to_the_host(env, loopback_server):
    import urllib.request

    assert urllib.request.urlopen(f"http://127.0.0.1:{loopback_server}/").read() == b"host-secret"
    text = bash(env, f"curl -sS -m 3 http://127.0.0.1:{loopback_server}/; echo rc=$?")
    assert "host-secret" not in text
    assert "rc=7" in text  # could not connect
    assert "rc=0" not in bash(env, "curl -sS -m 3 http://deb.debian.org/ >/dev/null; echo rc=$?")


def test_writes_to_host_paths_have_no_effect(env):
    name = f"coachgym-escape-{uuid.uuid4().hex}"
    targets = [REPO / name, Path("/root") / name, Path("/tmp") / name]
    command = "; ".join(f"mkdir -p {t.parent}; echo pwned > {t}" for t in targets)
    bash(env, command + "; rm -rf /etc/hostname-not-there; echo x >> /etc/hosts")
    for target in targets:
        assert not target.exists(), target
    assert "pwned" not in Path("/etc/hosts").read_text()
    # The host's private folders are not even visible.
    text = bash(env, f"ls {REPO} /root/.pyenv 2>&1 | head -n 3; ls /root")
    assert "No such file or directory" in text


def test_kernel_settings_and_mounts_are_off_limits(env):
    text = bash(env, "echo 1 > /proc/sys/kernel/sysrq; echo rc=$?; mount -t tmpfs x /mnt; echo rc=$?")
    assert text.count("rc=0") == 0


def test_fork_bomb_is_contained_and_env_still_answers(env):
    text = bash(env, ":(){ :|:& };:")
    text += bash(env, "sleep 1; echo survivor")
    # The limit is noticed after the bomb's own command or the next one, and every process but
    # the shell is stopped; or bash itself is stuck retrying fork past the timeout and the whole
    # system's processes are replaced.
    limit_note = "[the sandbox reached its limit of 128 processes; every process except the shell was stopped]"
    assert limit_note in text or ("timed out" in text and "a new shell was started" in text), text[-300:]
    assert "still-here" in bash(env, "echo still-here")
    count = bash(env, "ps -e --no-headers | wc -l").strip().rsplit("\n", 1)[-1]
    assert int(count) < 20


def test_cpu_hog_times_out_and_env_still_answers(env):
    text = bash(env, "yes > /dev/null")
    assert "timed out after 2 s" in text
    assert "alive" in bash(env, "echo alive")
    assert bash(env, "pgrep -c yes || true").strip().endswith("\n0")


def test_background_cpu_hog_is_bounded_by_cpu_limit():
    env = ShellEnv(task=OPEN_TASK, max_steps=1000, timeout_s=30, max_cpu_s=1)
    try:
        env.reset(seed=0)
        bash(env, "(yes > /dev/null &)")
        # 1 s of CPU takes longer than 1 s of wall time on a busy machine: poll.
        text = bash(env, "for i in $(seq 100); do pgrep -x yes >/dev/null || break; sleep 0.2; done; "
                         "pgrep -c yes || echo none")
        assert text.rstrip().endswith("none")
    finally:
        env.close()


def test_memory_limit_stops_a_hog(env):
    text = bash(env, "python3 -c 'x = bytearray(4 << 30)' 2>&1 | tail -n 1")
    assert "MemoryError" in text
    assert os.path.exists("/proc/self")  # the host process is unharmed


def test_hanging_command_returns_timeout_observation(env):
    text = bash(env, "echo start; cat /dev/zero > /dev/null")
    assert text.startswith("The output of the OS:\n\nstart")
    assert "[the command timed out after 2 s and was stopped]" in text
