"""The bubblewrap backend: a sandbox without any daemon, built in a few milliseconds.

Layout of one sandbox: a private mount namespace (`unshare -m`) holds an overlay whose lower
layers are the host root under the mask from `rootfs` (read-only) and whose upper layer is this
sandbox's own folder under `SandboxConfig.state_dir`; bubblewrap then makes that overlay the root
of new PID, network, IPC and UTS namespaces (so no network at all, and `ps` shows only the
sandbox), with a fresh /proc and /dev, Docker's default capability set for root, and the hard
limits of `session.bootstrap`. Processes are also put in a `pids` cgroup when the host lets us
create one, which bounds a fork bomb exactly; otherwise RLIMIT_NPROC does (see docs/shell.md).

Teardown kills bwrap's outer process; `--die-with-parent` takes the namespace's init down and
the kernel kills everything else in the PID namespace. This module must not interpret tasks.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

from coachgym.envs.shell.config import SandboxConfig
from coachgym.envs.shell.rootfs import base_layers
from coachgym.envs.shell.sandbox import Sandbox, SandboxUnavailable
from coachgym.envs.shell.session import SessionDied, ShellSession, bootstrap

# Docker's default capabilities for root in a container: enough for chown, useradd, su/sudo,
# chmod u+s; not enough to mount, load modules, trace processes or change the network.
DOCKER_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
               "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE",
               "CAP_SETFCAP", "CAP_MKNOD"]
SANDBOX_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root", "USER": "root", "LOGNAME": "root", "SHELL": "/bin/bash", "TERM": "dumb",
    "LANG": "C.UTF-8", "PAGER": "cat", "GIT_PAGER": "cat", "DEBIAN_FRONTEND": "noninteractive",
}
# Run by `sh` inside the new mount namespace: join the cgroup, mount the overlay, become bwrap.
_LAUNCH = ('if [ -n "$CG_CGROUP" ]; then echo $$ > "$CG_CGROUP/cgroup.procs" || exit 97; fi; '
           'mount -t overlay overlay -o "$CG_OVERLAY" "$CG_MERGED" || exit 98; exec "$@"')
_CGROUP_ROOTS = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"]


def check_available() -> None:
    """Raise `SandboxUnavailable` naming the fix when this machine cannot run the backend."""
    for tool, package in (("bwrap", "bubblewrap"), ("unshare", "util-linux"), ("mount", "mount")):
        if shutil.which(tool) is None:
            raise SandboxUnavailable(f"`{tool}` not found; install the Debian package `{package}` "
                                     "(scripts/setup.sh does), or use SandboxConfig(backend='docker').")
    if os.geteuid() != 0:
        raise SandboxUnavailable("The bwrap shell backend mounts an overlay root and needs to run as root; "
                                 "run coachgym as root (e.g. in its container) or use backend='docker'.")


class BwrapSandbox(Sandbox):
    def __init__(self, config: SandboxConfig, lowers: list[Path] | None = None, parent: BwrapSandbox | None = None):
        super().__init__(config)
        self.lowers = lowers
        self.parent = parent
        self.root = Path(config.state_dir) / "sandboxes" / uuid.uuid4().hex
        self.upper = self.root / "upper"
        self.process: subprocess.Popen | None = None
        self.cgroup: Path | None = None
        self._ns: str | None = None
        self._keep_pids: set[int] = set()  # the namespace's init and the session shell (host pids)
        self._limit_hits = 0

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> BwrapSandbox:
        check_available()
        if self.lowers is None:
            cfg = self.config
            try:
                self.lowers = base_layers(cfg.base, cfg.rootfs, cfg.state_dir)
            except FileNotFoundError as error:
                raise SandboxUnavailable(str(error)) from None
        _remove_stale(self.root.parent)
        for sub in ("upper/etc", "work", "merged"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "owner").write_text(str(os.getpid()))
        if self.parent is None:  # tools such as sudo insist that the host name resolves
            (self.upper / "etc" / "hosts").write_text(
                f"127.0.0.1\tlocalhost\n127.0.1.1\t{self.config.hostname}\n::1\tlocalhost ip6-localhost\n")
        self.cgroup = _make_cgroup(self.root.name, self.config.max_processes)
        try:
            self._launch()
        except BaseException:
            self.close()
            raise
        return self

    def _launch(self) -> None:
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "CG_CGROUP": str(self.cgroup or ""),
            "CG_MERGED": str(self.root / "merged"),
            "CG_OVERLAY": "lowerdir={},upperdir={},workdir={}".format(
                ":".join(map(str, self.lowers)), self.upper, self.root / "work"),
        }
        command = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", _LAUNCH, "sh",
                   *self._bwrap_args()]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=env, start_new_session=True)
        self.session = ShellSession(self.process, self._stop_new_processes)
        nproc = None if self.cgroup else self.config.max_processes + _processes_of_uid(os.geteuid())
        try:
            self.session.wait_ready(bootstrap(self.config, nproc), timeout=20)
        except SessionDied as error:
            raise SandboxUnavailable(f"bubblewrap could not start the sandbox: {error}") from None
        init = _children(self.process.pid)
        if not init:
            raise SandboxUnavailable("bubblewrap started but its namespace init is missing.")
        self._ns = os.readlink(f"/proc/{init[0]}/ns/pid")
        self._keep_pids = {init[0], *_children(init[0])}
        self._limit_hits = self._read_limit_hits()

    def _bwrap_args(self) -> list[str]:
        args = ["bwrap", "--bind", str(self.root / "merged"), "/", "--proc", "/proc", "--dev", "/dev",
                "--tmpfs", "/dev/shm", "--ro-bind", "/proc/sys", "/proc/sys",
                "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger",
                "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--hostname", self.config.hostname, "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        for cap in DOCKER_CAPS:
            args += ["--cap-add", cap]
        args.append("--clearenv")
        for key, value in SANDBOX_ENV.items():
            args += ["--setenv", key, value]
        return [*args, "--chdir", self.config.cwd, "bash", "--noprofile", "--norc"]

    def snapshot(self) -> BwrapSandbox:
        self._stop()
        return BwrapSandbox(self.config, lowers=[self.upper, *self.lowers], parent=self).start()

    def close(self) -> None:
        self._stop()
        shutil.rmtree(self.root, ignore_errors=True)
        if self.cgroup is not None:
            _remove_cgroup(self.cgroup)
            self.cgroup = None
        if self.parent is not None:
            self.parent.close()
            self.parent = None

    def _restart_session(self) -> None:
        self._stop()
        self._launch()

    def _stop(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
        if self.process is None:
            return
        # Killing the namespace's init makes the kernel kill *and reap* everything inside it;
        # then bwrap's outer process exits by itself. (Killing bwrap first would leave the
        # namespace's processes as zombies for the host's init to reap, which can take seconds.)
        for pid in self._keep_pids:
            self._signal_member(pid, signal.SIGKILL)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None
        self._keep_pids = set()
        self._ns = None

    # ----------------------------------------------------------------- processes
    def wait_settled(self, max_wait_s: float = 2.0) -> None:
        deadline = time.monotonic() + max_wait_s
        last = None
        while time.monotonic() < deadline:
            current = {pid: _cmdline(pid) for pid in self.sandbox_pids() if pid not in self._keep_pids}
            if current == last:
                return
            if not current:  # nothing running in the background: nothing to wait for
                return
            last = current
            time.sleep(0.05)

    def sandbox_pids(self) -> list[int]:
        """Host pids of every process in this sandbox's PID namespace."""
        if self._ns is None:
            return []
        pids = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    if os.readlink(f"/proc/{name}/ns/pid") == self._ns:
                        pids.append(int(name))
                except OSError:
                    continue
        return pids

    def _signal_member(self, pid: int, sig: int) -> None:
        """Signal `pid` only while it is still in this sandbox: a pid recorded earlier may have
        died and been handed to an unrelated host process since."""
        try:
            if os.readlink(f"/proc/{pid}/ns/pid") == self._ns:
                os.kill(pid, sig)
        except (OSError, ProcessLookupError):
            pass

    def _mark(self) -> int:
        return _last_pid()

    def _hit_process_limit(self, mark: int) -> bool:
        # Compared with the count after the previous command, so a limit hit between commands
        # (by a bomb lit by an earlier command that returned at once) is caught by the next one.
        if self._read_limit_hits() <= self._limit_hits:
            return False
        self._stop_new_processes(0)  # every process but the shell, not only this command's
        self._limit_hits = self._read_limit_hits()
        self.session.discard_pending_output()
        return True

    def _read_limit_hits(self) -> int:
        """How often the pids cgroup refused a fork (0 without a cgroup)."""
        if self.cgroup is None:
            return 0
        try:
            return int((self.cgroup / "pids.events").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            return 0

    def _stop_new_processes(self, last_pid: int) -> None:
        """Abandon a timed-out command: USR1 makes the shell return from it, and every process
        created since it began (host pids are handed out in increasing order) is killed,
        repeatedly, so a fork bomb cannot outrun us. Older background jobs keep running."""
        for pid in self._keep_pids:  # init ignores USR1; the shell's trap returns from the command
            self._signal_member(pid, signal.SIGUSR1)
        wrapped = _last_pid() < last_pid
        for _ in range(100):
            victims = [pid for pid in self.sandbox_pids() if pid not in self._keep_pids and (wrapped or pid > last_pid)]
            if not victims:
                return
            for pid in victims:
                self._signal_member(pid, signal.SIGKILL)
            time.sleep(0.01)


# --------------------------------------------------------------------- helpers
def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _last_pid() -> int:
    """The host's most recently allocated pid."""
    return int(Path("/proc/sys/kernel/ns_last_pid").read_text())


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _processes_of_uid(uid: int) -> int:
    count = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{name}/task"))
            except OSError:
                continue
    return count


def _remove_stale(sandboxes: Path) -> None:
    """Delete what sandboxes of dead coachgym processes left (their processes died with them:
    `--die-with-parent`), so a crashed run does not leak tmpfs memory or cgroups."""
    if not sandboxes.is_dir():
        return
    for root in sandboxes.iterdir():
        try:
            owner = int((root / "owner").read_text())
        except (OSError, ValueError):
            continue  # being created right now, or not ours
        if owner != os.getpid() and not os.path.exists(f"/proc/{owner}"):
            shutil.rmtree(root, ignore_errors=True)
            for cgroup_root in _CGROUP_ROOTS:
                _remove_cgroup(Path(cgroup_root) / "coachgym-shell" / root.name)


def _make_cgroup(name: str, max_processes: int) -> Path | None:
    """A `pids` cgroup for one sandbox, or None when this host does not let us create one."""
    for root in _CGROUP_ROOTS:
        base = Path(root) / "coachgym-shell"
        try:
            base.mkdir(exist_ok=True)
            group = base / name
            group.mkdir()
        except OSError:
            continue
        try:
            (group / "pids.max").write_text(str(max_processes))
            return group
        except OSError:
            _remove_cgroup(group)
    return None


def _remove_cgroup(group: Path) -> None:
    for _ in range(200):
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # busy: processes are still exiting
            time.sleep(0.005)
