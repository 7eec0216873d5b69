"""What a bwrap sandbox holds on the host, made and released here: the tmpfs of its writable
layer and its `pids` cgroup; and the removal of what sandboxes of crashed runs left behind.

Host-side only: nothing here enters a sandbox's namespaces or knows what runs inside.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import time
from pathlib import Path

from coachgym.envs.shell.sandbox import SandboxUnavailable

CGROUP_ROOTS = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"]
_LIBC = ctypes.CDLL(None, use_errno=True)
_MS_NOSUID, _MS_NODEV, _MNT_DETACH = 2, 4, 2


def mount_tmpfs(path: Path, size_mb: int) -> None:
    """The sandbox's writable layer: a tmpfs of `size_mb` on the host, so it outlives restarts of
    the sandbox's namespaces and a snapshot can stack it."""
    options = f"size={size_mb}m,mode=0755".encode()
    if _LIBC.mount(b"coachgym-shell", str(path).encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, options) != 0:
        reason = os.strerror(ctypes.get_errno())
        raise SandboxUnavailable(f"Could not mount the sandbox's writable layer (a tmpfs) at {path}: {reason}.")


def unmount(path: Path) -> None:
    if os.path.ismount(path):
        _LIBC.umount2(str(path).encode(), _MNT_DETACH)


def cgroup_members(group: Path) -> list[int] | None:
    try:
        return [int(pid) for pid in (group / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return None


def remove_stale(sandboxes: Path) -> None:
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
            unmount(root / "rw")
            shutil.rmtree(root, ignore_errors=True)
            for cgroup_root in CGROUP_ROOTS:
                remove_cgroup(Path(cgroup_root) / "coachgym-shell" / root.name)


def make_cgroup(name: str, max_processes: int) -> Path | None:
    """A `pids` cgroup for one sandbox, or None when this host does not let us create one."""
    for root in CGROUP_ROOTS:
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
            remove_cgroup(group)
    return None


def remove_cgroup(group: Path) -> None:
    for _ in range(200):
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # busy: processes are still exiting
            time.sleep(0.005)
