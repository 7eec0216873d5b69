"""Shell sandbox boundary (issue #16): each test replays an attack from inside the sandbox.

Covered: forging the end of a command, reaching the shell from programs it runs, checkers fooled
by planted programs or by injectable vendored checkers, the writable layer and the total memory
beyond their caps, device nodes, and host secrets seen through the `host` base.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coachgym.envs.core import Task
from coachgym.envs.shell import SandboxConfig, ShellEnv, open_sandbox
from coachgym.envs.shell.agentbench import agentbench_os_suite
from coachgym.envs.shell.rootfs import _build_mask, _private_entries

BASES = ["auto", "host"]  # auto: the rootfs where it is built (the host base otherwise)


def bash(command: str) -> str:
    return f"```bash\n{command}\n```"


def play(task: Task | str, actions: list[str], **config) -> float:
    """Reward of one episode: reset, the agent's actions, then its answer or `finish`."""
    env = ShellEnv(task=task, suite=agentbench_os_suite() if isinstance(task, str) else None, timeout_s=20, **config)
    try:
        env.reset(seed=0, options={"task_id": task} if isinstance(task, str) else None)
        reward = 0.0
        for action in actions:
            _, reward, terminated, _, info = env.step(action)
            assert "action_error" not in info, info
        assert terminated
        return reward
    finally:
        env.close()


@pytest.fixture(scope="module")
def box():
    sandbox = open_sandbox(SandboxConfig(timeout_s=10))
    yield sandbox
    sandbox.close()


# ----------------------------------------------------------------- session protocol
def test_forged_completion_lines_end_nothing(box):
    """The issue's `echo 'CGDONE <seq> 0' >&11`, on every descriptor the shell holds, and from a
    program through /proc/1/fd: the command still runs to its real end with its real status."""
    reopen = ("import os\nfor fd in os.listdir('/proc/1/fd'):\n  path = '/proc/1/fd/' + fd\n"
              "  if os.readlink(path).startswith('socket:'):\n"
              "    try: os.open(path, os.O_WRONLY); print('REOPENED', fd)\n"
              "    except OSError as error: print('socket', fd, error.strerror)\n")
    forge = ("for n in 0 1 2 3 4 5 6 7 8 9; do for fd in /proc/self/fd/*; do "
             'echo "CGDONE $n 0" > "$fd"; done; done 2>/dev/null; echo "CGDONE 1 0" >&11 2>/dev/null; '
             f'python3 -c "{reopen}"; sleep 0.5; echo real-end; false')
    result = box.run(forge)
    assert result.output.endswith("real-end\n") and result.exit_code == 1
    assert "REOPENED" not in result.output and result.output.count("No such device or address") >= 3, result.output
    assert box.run("echo next").output == "next\n"


def test_programs_cannot_read_the_shell_or_copy_its_channels(box):
    probe = r"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def attempt(name, call):
    try:
        ok = call() >= 0
    except OSError as error:
        print(name, error.strerror); return
    print(name, "ALLOWED" if ok else os.strerror(ctypes.get_errno()))
attempt("mem", lambda: os.open("/proc/1/mem", os.O_RDONLY))
attempt("ptrace", lambda: libc.ptrace(16, 1, 0, 0))
attempt("pidfd_getfd", lambda: libc.syscall(438, os.pidfd_open(1), 0, 0))
buffer = ctypes.create_string_buffer(8)
local = (ctypes.c_void_p * 2)(ctypes.addressof(buffer), 8)
attempt("process_vm_readv", lambda: libc.syscall(310, 1, local, 1, local, 1, 0))
"""
    result = box.run_script("python", probe)
    lines = dict(line.split(" ", 1) for line in result.output.splitlines())
    assert set(lines) == {"mem", "ptrace", "pidfd_getfd", "process_vm_readv"}, result.output
    assert "ALLOWED" not in lines.values(), result.output


# ----------------------------------------------------------------- checkers
@pytest.mark.parametrize("base", BASES)
def test_planted_programs_do_not_fool_checkers(base):
    """A fake python3 first on PATH, a replaced python3 link, a fake `cat`, Python start-up hooks and
    a preloaded library: a wrong answer still fails, the right one still passes."""
    task = Task(id="plant", env="shell", goal="Write ok to /root/x; answer 42.", evaluator={"check": [
        {"language": "python", "code": "from sys import argv\nif int(argv[1]) == 42: exit(0)\nexit(1)"},
        {"language": "bash", "code": '[ "$(cat /root/x)" = ok ]'}]})
    plant = bash(
        "printf '#!/bin/sh\\nexit 0\\n' > /usr/local/bin/python3; printf '#!/bin/sh\\necho ok\\n' > /usr/local/bin/cat; "
        "chmod +x /usr/local/bin/python3 /usr/local/bin/cat; ln -sf /usr/local/bin/python3 /usr/bin/python3; "
        "site=$(/usr/bin/python3.* -c 'import site; print(site.getusersitepackages())'); mkdir -p $site; "
        "echo 'import os; os._exit(0)' > $site/hook.pth; "
        "for d in /etc/python3*/; do echo 'import os; os._exit(0)' > $d/sitecustomize.py; done; "
        "echo /root/missing.so > /etc/ld.so.preload; echo wrong > /root/x")
    assert play(task, [plant, 'answer("7")'], base=base) == 0.0
    assert play(task, [plant.replace("echo wrong", "echo ok"), 'answer("42")'], base=base) == 1.0


def test_checkers_still_see_the_agents_changes_to_system_files():
    """os-std-6-new-00003 checks `chmod u-s /usr/bin/find`: the mode is data and stays visible."""
    assert play("os-std-6-new-00003", ["finish"]) == 0.0
    assert play("os-std-6-new-00003", [bash("chmod u-s /usr/bin/find"), "finish"]) == 1.0


def test_calc_checker_is_not_injectable():
    """os-dev-00003 splices `calc`'s output into python3 -c; the issue's `0)<1 or (0` passed it."""
    inject = bash("printf '#!/bin/sh\\necho \"0)<1 or (0\"\\n' > /usr/local/bin/calc; chmod +x /usr/local/bin/calc")
    assert play("os-dev-00003", [inject, "finish"]) == 0.0
    example = agentbench_os_suite().get("os-dev-00003").evaluator["example"]["code"]
    assert play("os-dev-00003", [bash(example), "finish"]) == 1.0


def test_count_checker_is_not_fooled_by_word_splitting():
    """os-std-5-new-00001 compares `count`'s output unquoted inside `[ ]`: `1 2 3` broke `[`."""
    split = bash("printf '#!/bin/sh\\necho 1 2 3\\n' > /usr/local/bin/count; chmod +x /usr/local/bin/count")
    assert play("os-std-5-new-00001", [split, "finish"]) == 0.0


# ----------------------------------------------------------------- limits
def test_writable_layer_and_dev_shm_share_one_capped_tmpfs():
    with open_sandbox(SandboxConfig(timeout_s=20, max_disk_mb=64)) as small:
        result = small.run("head -c 40M /dev/zero > /tmp/a; echo a=$?; head -c 40M /dev/zero > /dev/shm/b; echo b=$?; "
                           "touch /dev/new; echo dev=$?")
        assert "a=0" in result.output and "b=1" in result.output and "No space left on device" in result.output
        assert "dev=1" in result.output  # /dev itself is read-only
        assert small.run("rm /tmp/a; head -c 20M /dev/zero > /root/c; echo c=$?").output.endswith("c=0\n")


def test_device_nodes_made_inside_cannot_be_opened():
    with open_sandbox(SandboxConfig(timeout_s=10)) as fresh:
        result = fresh.run("mknod /tmp/null c 1 3 && echo made; echo x > /tmp/null; echo write=$?")
        assert "made" in result.output and "write=1" in result.output  # nodev


def test_total_memory_of_all_processes_is_capped():
    """Three 40 MB processes each fit the per-process limit; together they pass 96 MB."""
    with open_sandbox(SandboxConfig(timeout_s=20, max_memory_mb=96)) as small:
        result = small.run("for i in 1 2 3; do python3 -c 'import time; x = bytearray(40 << 20); time.sleep(60)' & "
                           "done; sleep 10; echo after")
        assert result.notes == ["[the sandbox's processes held more than 96 MB of memory together; they were stopped]"]
        assert result.output.endswith("after\n")
        left = small.run("for i in $(seq 50); do pgrep -x python3 >/dev/null || break; sleep 0.1; done; "
                         "pgrep -cx python3 || true")
        assert left.output.strip().endswith("0") and left.notes == []


# ----------------------------------------------------------------- host base
def test_host_base_hides_host_secrets():
    host_shadow = {line.split(":")[0] for line in Path("/etc/shadow").read_text().splitlines()}
    private = [rel for rel in _private_entries("/") if rel not in ("etc/shadow", "etc/gshadow")]
    with open_sandbox(SandboxConfig(timeout_s=10, base="host")) as host:
        shadow = [line.split(":") for line in host.run("cat /etc/shadow").output.splitlines()]
        assert {fields[0] for fields in shadow} == host_shadow and {fields[1] for fields in shadow} == {"*"}
        counts = host.run("for d in /opt /srv /home /var/lib /var/log /var/backups /var/mail; do "
                          "echo $d $(ls -A $d | wc -l); done; ls /etc/ssh 2>/dev/null | grep -c '_key$'; "
                          "ls -A /root").output.split("\n")
        assert counts[:8] == [f"{d} 0" for d in ("/opt", "/srv", "/home", "/var/lib", "/var/log", "/var/backups",
                                                 "/var/mail")] + ["0"], counts
        assert set(counts[8:]) <= {"", ".bashrc", ".profile", ".bash_logout"}
        for rel in private:  # private folders are empty, private files gone
            expected = "" if Path("/", rel).is_dir() else "absent"
            seen = host.run(f"[ -e /{rel} ] && ls -A /{rel} || echo absent").output.strip()
            assert seen == expected, (rel, seen)


def test_mask_hides_whatever_other_users_may_not_read(tmp_path):
    """On a made-up host root: a 0600 file and a 0700 folder under /etc disappear; sudoers stays."""
    host = tmp_path / "host"
    (host / "etc" / "app" / "keys").mkdir(parents=True)
    (host / "etc" / "app" / "token").write_text("secret")
    os.chmod(host / "etc" / "app" / "token", 0o600)
    os.chmod(host / "etc" / "app" / "keys", 0o700)
    (host / "etc" / "sudoers").write_text("root ALL=(ALL) ALL\n")
    os.chmod(host / "etc" / "sudoers", 0o440)
    (host / "etc" / "shadow").write_text("root:$6$hash:19000:0:99999:7:::\n")
    os.chmod(host / "etc" / "shadow", 0o640)
    private = _private_entries(str(host))
    assert set(private) == {"etc/app/token", "etc/app/keys", "etc/shadow"}
    _build_mask(tmp_path / "mask", host, [], private)
    mask = tmp_path / "mask" / "etc"
    assert os.stat(mask / "app" / "token", follow_symlinks=False).st_rdev == 0  # a whiteout
    assert os.getxattr(mask / "app" / "keys", "trusted.overlay.opaque") == b"y"
    assert (mask / "shadow").read_text() == "root:*:19000:0:99999:7:::\n"
    assert not (mask / "sudoers").exists()
