"""The bubblewrap backend: a sandbox without any daemon, built in a few milliseconds.

Layout of one sandbox: its writable layer is a tmpfs of `max_disk_mb` mounted on the host for
the sandbox's lifetime (so every file the agent writes, /tmp and /dev/shm included, counts against
one cap); a private mount and IPC namespace (`unshare -m -i`, SysV shared memory capped at
`max_memory_mb`) holds an overlay whose lower layers are the base (`rootfs`) and whose upper layer
is that tmpfs; bubblewrap then makes the overlay (mounted `nodev`) the root of new PID, network
and UTS namespaces (so no network at all, and `ps` shows only the sandbox), with a fresh /proc, a
read-only /dev, Docker's default capability set for root, the seccomp filter of `seccomp`, and
the hard limits of `session.bootstrap`. The session shell is the namespace's PID 1; its channels
are sockets (which no process can reopen through /proc) and its /proc/1/mem is covered, so
programs an agent runs can neither reach its channels nor read the per-command nonce of the
session protocol. Processes are put in a `pids` cgroup when the host lets us create one, which
bounds a fork bomb exactly (else RLIMIT_NPROC does), and a `MemoryWatchdog` bounds their total
memory.

A snapshot (what evaluators get) stacks the agent's layer under the `pristine` restore layer, so
checkers see the agent's files but run the base's programs.

Teardown kills the shell; as the namespace's init it takes every process inside with it. This
module must not interpret tasks.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

from coachgym.envs.shell.config import SandboxConfig
from coachgym.envs.shell.host_resources import (cgroup_members, make_cgroup, mount_tmpfs, remove_cgroup,
                                                remove_stale, unmount)
from coachgym.envs.shell.memory import MemoryWatchdog, held_bytes
from coachgym.envs.shell.pristine import build_restore_layer
from coachgym.envs.shell.rootfs import base_layers
from coachgym.envs.shell.sandbox import Sandbox, SandboxUnavailable
from coachgym.envs.shell.seccomp import filter_program
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
# Added for checkers: no module from the working directory or ~/.local in any Python they start,
# and no program git would run from the repository's own config.
EVALUATOR_ENV = {
    "PYTHONSAFEPATH": "1", "PYTHONNOUSERSITE": "1",
    "GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_0": "core.fsmonitor", "GIT_CONFIG_VALUE_0": "false",
    "GIT_CONFIG_KEY_1": "core.hooksPath", "GIT_CONFIG_VALUE_1": "/dev/null",
}
# Run by `sh` inside the new mount and IPC namespaces: join the cgroup, cap SysV shared memory,
# mount the overlay (and the base's own view for a snapshot's binds), become bwrap.
_LAUNCH = (
    'if [ -n "$CG_CGROUP" ]; then echo $$ > "$CG_CGROUP/cgroup.procs" || exit 97; fi; '
    'echo "$CG_SHM_PAGES" > /proc/sys/kernel/shmall && echo "$CG_SHM_BYTES" > /proc/sys/kernel/shmmax || exit 96; '
    'mount -t overlay overlay -o "nodev,$CG_OVERLAY" "$CG_MERGED" || exit 98; '
    'if [ -n "$CG_BASE_LOWERS" ]; then mount -t overlay overlay -o "ro,lowerdir=$CG_BASE_LOWERS" "$CG_BASE_VIEW" '
    '|| exit 95; fi; exec "$@"'
)


def check_available() -> None:
    """Raise `SandboxUnavailable` naming the fix when this machine cannot run the backend."""
    for tool, package in (("bwrap", "bubblewrap"), ("unshare", "util-linux"), ("mount", "mount")):
        if shutil.which(tool) is None:
            raise SandboxUnavailable(f"`{tool}` not found; install the Debian package `{package}` "
                                     "(scripts/setup.sh does), or use SandboxConfig(backend='docker').")
    if os.geteuid() != 0:
        raise SandboxUnavailable("The bwrap shell backend mounts an overlay root and needs to run as root; "
                                 "run coachgym as root (e.g. in its container) or use backend='docker'.")
    try:
        filter_program()
    except ValueError as error:  # a machine whose syscall numbers the filter does not know
        raise SandboxUnavailable(str(error)) from None


class BwrapSandbox(Sandbox):
    def __init__(self, config: SandboxConfig, parent: BwrapSandbox | None = None):
        super().__init__(config)
        self.parent = parent
        self.base: list[Path] = parent.base if parent else []
        # Layers the agent wrote, top first: none for a fresh sandbox, the parent's for a snapshot.
        self.agent_layers: list[Path] = [parent.upper, *parent.agent_layers] if parent else []
        self.root = Path(config.state_dir) / "sandboxes" / uuid.uuid4().hex
        self.writable = self.root / "rw"  # the size-capped tmpfs
        self.upper = self.writable / "upper"
        self.process: subprocess.Popen | None = None
        self.cgroup: Path | None = None
        self._binds: list[str] = []  # a snapshot's paths bound from the base's view
        self._ns: str | None = None
        self._shell: int | None = None  # host pid of the session shell, the namespace's init
        self._limit_hits = 0
        self._watchdog: MemoryWatchdog | None = None
        self._memory_hits_seen = 0
        self._memory_hits = 0

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> BwrapSandbox:
        check_available()
        if not self.base:
            cfg = self.config
            try:
                self.base = base_layers(cfg.base, cfg.rootfs, cfg.state_dir)
            except FileNotFoundError as error:
                raise SandboxUnavailable(str(error)) from None
        remove_stale(self.root.parent)
        self.writable.mkdir(parents=True)
        (self.root / "owner").write_text(str(os.getpid()))
        try:
            mount_tmpfs(self.writable, self.config.max_disk_mb)
            for sub in ("upper/etc", "work", "shm"):
                (self.writable / sub).mkdir(parents=True)
            (self.root / "merged").mkdir()
            if self.parent is None:  # tools such as sudo insist that the host name resolves
                (self.upper / "etc" / "hosts").write_text(
                    f"127.0.0.1\tlocalhost\n127.0.1.1\t{self.config.hostname}\n::1\tlocalhost ip6-localhost\n")
            else:
                self._binds = build_restore_layer(self.agent_layers, self.base, self.root / "restore")
            self.cgroup = make_cgroup(self.root.name, self.config.max_processes)
            self._launch()
        except BaseException:
            self.close()
            raise
        return self

    @property
    def _lowers(self) -> list[Path]:
        restore = [self.root / "restore"] if self.parent is not None else []
        return [*restore, *self.agent_layers, *self.base]

    @property
    def _base_view(self) -> Path:
        """The base alone, where binds take their source: the rootfs itself, or a read-only
        overlay of the host and its mask mounted at launch."""
        return self.base[0] if len(self.base) == 1 else self.root / "base"

    def _launch(self) -> None:
        cfg = self.config
        mounts_base_view = self.parent is not None and len(self.base) > 1
        if mounts_base_view:
            self._base_view.mkdir(exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "CG_CGROUP": str(self.cgroup or ""),
            "CG_SHM_BYTES": str(cfg.max_memory_mb << 20), "CG_SHM_PAGES": str((cfg.max_memory_mb << 20) // 4096),
            "CG_MERGED": str(self.root / "merged"),
            "CG_OVERLAY": "lowerdir={},upperdir={},workdir={}".format(
                ":".join(map(str, self._lowers)), self.upper, self.writable / "work"),
            "CG_BASE_LOWERS": ":".join(map(str, self.base)) if mounts_base_view else "",
            "CG_BASE_VIEW": str(self._base_view),
        }
        seccomp = os.memfd_create("coachgym-seccomp")
        ours, theirs = zip(*(socket.socketpair() for _ in range(3)))
        try:
            os.write(seccomp, filter_program())
            os.lseek(seccomp, 0, os.SEEK_SET)
            command = ["unshare", "--mount", "--ipc", "--propagation", "private", "--", "sh", "-c", _LAUNCH, "sh",
                       *self._bwrap_args(seccomp)]
            self.process = subprocess.Popen(command, stdin=theirs[0], stdout=theirs[1], stderr=theirs[2], env=env,
                                            pass_fds=(seccomp,), start_new_session=True)
        except BaseException:
            for sock in ours:
                sock.close()
            raise
        finally:
            os.close(seccomp)
            for sock in theirs:
                sock.close()
        self.session = ShellSession(self.process, self._stop_new_processes, channels=ours)
        nproc = None if self.cgroup else cfg.max_processes + _processes_of_uid(os.geteuid())
        try:
            self.session.wait_ready(bootstrap(cfg, nproc), timeout=20)
        except SessionDied as error:
            raise SandboxUnavailable(f"bubblewrap could not start the sandbox: {error}") from None
        shell = _children(self.process.pid)
        if not shell:
            raise SandboxUnavailable("bubblewrap started but the sandbox's shell is missing.")
        self._shell = shell[0]
        self._ns = os.readlink(f"/proc/{self._shell}/ns/pid")
        self._limit_hits = self._read_limit_hits()
        self._watchdog = MemoryWatchdog(self.sandbox_pids, cfg.max_memory_mb << 20, self._stop_for_memory).start()

    def _bwrap_args(self, seccomp_fd: int) -> list[str]:
        args = ["bwrap", "--bind", str(self.root / "merged"), "/", "--proc", "/proc",
                # The shell is PID 1: nothing else may read its memory (session.py's nonce).
                "--ro-bind", "/dev/null", "/proc/1/mem", "--ro-bind", "/dev/null", "/proc/1/task/1/mem",
                "--ro-bind", "/proc/sys", "/proc/sys", "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger",
                "--dev", "/dev", "--bind", str(self.writable / "shm"), "/dev/shm", "--remount-ro", "/dev"]
        for rel in self._binds:
            args += ["--ro-bind", str(self._base_view / rel), f"/{rel}"]
        args += ["--unshare-pid", "--as-pid-1", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                 "--hostname", self.config.hostname, "--die-with-parent", "--new-session",
                 "--seccomp", str(seccomp_fd), "--cap-drop", "ALL"]
        for cap in DOCKER_CAPS:
            args += ["--cap-add", cap]
        args.append("--clearenv")
        env = SANDBOX_ENV | (EVALUATOR_ENV if self.parent is not None else {})
        for key, value in env.items():
            args += ["--setenv", key, value]
        return [*args, "--chdir", self.config.cwd, "bash", "--noprofile", "--norc"]

    def snapshot(self) -> BwrapSandbox:
        self._stop()
        return BwrapSandbox(self.config, parent=self).start()

    def close(self) -> None:
        self._stop()
        unmount(self.writable)
        shutil.rmtree(self.root, ignore_errors=True)
        if self.cgroup is not None:
            remove_cgroup(self.cgroup)
            self.cgroup = None
        if self.parent is not None:
            self.parent.close()
            self.parent = None

    def _restart_session(self) -> None:
        self._stop()
        self._launch()

    def _stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.stop()
            self._memory_hits += self._watchdog.hits
            self._watchdog = None
        if self.session is not None:
            self.session.close()
            self.session = None
        if self.process is None:
            return
        # Killing the namespace's init (the shell) makes the kernel kill *and reap* everything
        # inside it; then bwrap's outer process exits by itself.
        if self._shell is not None:
            self._signal_member(self._shell, signal.SIGKILL)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None
        self._shell = None
        self._ns = None

    # ----------------------------------------------------------------- processes
    def wait_settled(self, max_wait_s: float = 2.0) -> None:
        deadline = time.monotonic() + max_wait_s
        last = None
        while time.monotonic() < deadline:
            current = {pid: _cmdline(pid) for pid in self.sandbox_pids() if pid != self._shell}
            if current == last:
                return
            if not current:  # nothing running in the background: nothing to wait for
                return
            last = current
            time.sleep(0.05)

    def sandbox_pids(self) -> list[int]:
        """Host pids of every process in this sandbox's PID namespace."""
        ns = self._ns
        if ns is None:
            return []
        candidates = cgroup_members(self.cgroup) if self.cgroup else None
        if candidates is None:
            candidates = [int(name) for name in os.listdir("/proc") if name.isdigit()]
        pids = []
        for pid in candidates:
            try:
                if os.readlink(f"/proc/{pid}/ns/pid") == ns:
                    pids.append(pid)
            except OSError:
                continue
        return pids

    def stop_processes(self) -> None:
        self._stop_new_processes(0)

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

    def _hit_memory_limit(self) -> bool:
        hits = self._memory_hits + (self._watchdog.hits if self._watchdog else 0)
        new = hits > self._memory_hits_seen
        self._memory_hits_seen = hits
        return new

    def _stop_for_memory(self) -> None:
        """Called by the watchdog: kill every process but the shell, and the shell too when it
        alone holds too much. The next poll sees whatever appeared since."""
        shell = self._shell
        for pid in self.sandbox_pids():
            if pid != shell:
                self._signal_member(pid, signal.SIGKILL)
        if shell is not None and held_bytes([shell]) > self.config.max_memory_mb << 20:
            self._signal_member(shell, signal.SIGKILL)

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
        if self._shell is not None:  # the shell's trap returns from the command
            self._signal_member(self._shell, signal.SIGUSR1)
        wrapped = _last_pid() < last_pid
        for _ in range(100):
            victims = [pid for pid in self.sandbox_pids() if pid != self._shell and (wrapped or pid > last_pid)]
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
