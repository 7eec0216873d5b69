"""Backend and base-filesystem choices: host base fallback, docker availability message."""

from __future__ import annotations

from pathlib import Path

import pytest

from coachgym.envs.core import Task
from coachgym.envs.shell import SandboxConfig, SandboxUnavailable, ShellEnv, open_sandbox
from coachgym.envs.shell.docker import check_available

REPO = Path(__file__).resolve().parents[2]


def test_host_base_hides_private_folders_and_keeps_tools():
    with open_sandbox(SandboxConfig(base="host", timeout_s=10)) as box:
        result = box.run(f"ls -A /root | wc -l; ls {REPO} 2>&1; python3 -c 'print(6*7)'; git --version | cut -c1-11")
        lines = result.output.splitlines()
        assert lines[0] != "" and "No such file or directory" in lines[1]
        assert lines[2:] == ["42", "git version"]
        box.run("echo mine > /tmp/host-base-probe")
        assert not Path("/tmp/host-base-probe").exists()


def test_missing_rootfs_is_one_clear_error(tmp_path):
    with pytest.raises(SandboxUnavailable, match="python -m coachgym.envs.shell.rootfs build"):
        open_sandbox(SandboxConfig(base="rootfs", rootfs=str(tmp_path / "none")))


def test_docker_backend_reports_missing_engine_clearly(monkeypatch, tmp_path):
    """No engine runs here: the env must fail at reset with one message naming the fix."""
    try:
        check_available()
    except SandboxUnavailable:
        pass
    else:
        pytest.skip("a Docker engine is reachable here")
    env = ShellEnv(task=Task(id="t", env="shell", goal="g", evaluator={"match": {"answer": "x"}}), backend="docker")
    with pytest.raises(SandboxUnavailable) as caught:
        env.reset(seed=0)
    message = str(caught.value)
    assert message.startswith("Docker backend unavailable:")
    assert "backend='bwrap'" in message and "\n" not in message
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker CLI at all
    with pytest.raises(SandboxUnavailable, match="the `docker` command is not installed"):
        check_available()
