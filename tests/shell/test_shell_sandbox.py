"""The bwrap sandbox and its persistent session, driven directly."""

from __future__ import annotations

import subprocess
from pathlib import Path

from coachgym.envs.shell import SandboxConfig, open_sandbox
from coachgym.envs.shell.session import KEEP_OUTPUT_BYTES


def test_session_state_survives_between_commands(sandbox):
    sandbox.run("cd /tmp && export GREETING=hello && mkdir -p work && f() { echo fn-$1; }")
    result = sandbox.run('echo "$PWD $GREETING $(f ok)"')
    assert result.output == "/tmp hello fn-ok\n"
    assert result.exit_code == 0


def test_background_jobs_survive_and_stdin_is_empty(sandbox):
    sandbox.run("sleep 30 & echo $! > /tmp/bg.pid")
    result = sandbox.run("kill -0 $(cat /tmp/bg.pid) && echo running; jobs | wc -l; cat; echo after-cat")
    assert result.output.splitlines() == ["running", "1", "after-cat"]


def test_exit_status_and_stderr_are_reported(sandbox):
    result = sandbox.run("echo out; echo err >&2; exit_code_test() { return 7; }; exit_code_test")
    assert result.output == "out\nerr\n"
    assert result.exit_code == 7


def test_hanging_command_times_out_and_shell_keeps_state(sandbox):
    sandbox.run("cd /var && KEEP=yes")
    result = sandbox.run("echo before; sleep 60; echo never")
    assert result.timed_out and result.output == "before\n"
    after = sandbox.run("echo $PWD $KEEP; pgrep -fc 'sleep 60' || true")
    assert after.output.splitlines() == ["/var yes", "0"]


def test_shell_builtin_loop_is_interrupted(sandbox):
    result = sandbox.run("while true; do :; done")
    assert result.timed_out
    assert sandbox.run("echo ok").output == "ok\n"


def test_exit_starts_a_new_shell_in_the_same_system(sandbox):
    sandbox.run("echo kept > /root/note.txt")
    result = sandbox.run("exit 3")
    assert result.session_ended
    assert sandbox.run("cat /root/note.txt").output == "kept\n"


def test_scripts_get_arguments_as_data(sandbox):
    evil = "$(touch /tmp/pwned); `touch /tmp/pwned2` 'quote\" \\ \n second line"
    result = sandbox.run_script("python", "import sys; print(repr(sys.argv[1:]))", [evil, ""])
    assert result.output.strip() == repr([evil, ""])
    result = sandbox.run_script("bash", 'printf "%s|" "$@"', ["a b", evil])
    assert result.output == f"a b|{evil}|"
    assert sandbox.run("ls /tmp/pwned /tmp/pwned2 2>&1 | grep -c 'No such'").output.strip() == "2"


def test_sandbox_sees_its_own_processes_only(sandbox):
    result = sandbox.run("ps -eo comm= | sort | uniq | tr '\\n' ' '")
    names = result.output.split()
    assert "bash" in names and "ps" in names
    assert "pytest" not in names and "python3" not in names


def test_snapshot_keeps_files_and_drops_processes():
    box = open_sandbox(SandboxConfig(timeout_s=5))
    try:
        box.run("echo state > /root/s.txt; sleep 300 &")
        snap = box.snapshot()
        try:
            result = snap.run("cat /root/s.txt; pgrep -c sleep || true; echo scratch > /root/s.txt")
            assert result.output.splitlines() == ["state", "0"]
        finally:
            snap.close()
    finally:
        box.close()


def _alive(pid: int) -> bool:
    """Running or stopped; a zombie only waits for the host's init to collect its exit status."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_close_leaves_no_processes_or_files():
    box = open_sandbox(SandboxConfig(timeout_s=5))
    box.run("sleep 300 & (sleep 301 &) ; nohup sleep 302 >/dev/null 2>&1 &")
    pids = box.sandbox_pids()
    assert len(pids) >= 4  # the shell (the namespace's init), three sleeps
    root = box.root
    box.close()
    assert not [pid for pid in pids if _alive(pid)]
    assert not root.exists()
    assert box.sandbox_pids() == []


def test_leftovers_of_a_crashed_run_are_removed(fast_config):
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = Path(fast_config.state_dir) / "sandboxes" / "stale-test"
    (stale / "upper").mkdir(parents=True, exist_ok=True)
    (stale / "owner").write_text(str(dead.pid))
    with open_sandbox(fast_config):
        assert not stale.exists()


def test_flood_of_output_is_bounded(sandbox):
    result = sandbox.run("yes 0123456789 | head -c 50000000; echo; echo end")
    assert len(result.output) == KEEP_OUTPUT_BYTES and result.exit_code == 0
    assert sandbox.run("echo next").output == "next\n"


def test_without_a_cgroup_rlimit_nproc_bounds_processes(monkeypatch, fast_config):
    from coachgym.envs.shell import bwrap

    monkeypatch.setattr(bwrap, "make_cgroup", lambda name, limit: None)
    with open_sandbox(fast_config) as box:
        assert box.cgroup is None
        limit = int(box.run("ulimit -u").output)
        assert limit > fast_config.max_processes  # plus what the host's root runs (it shares the uid)
        assert box.run("ulimit -u 1000000 2>/dev/null || echo refused").output == "refused\n"
