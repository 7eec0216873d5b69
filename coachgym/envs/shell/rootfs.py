"""The sandbox's base filesystem: the host's own system, read-only, with private parts hidden.

Why this design: AgentBench's images are Ubuntu with bash, coreutils, python3, git, curl, wget,
zip/unzip, tree and vim. `scripts/setup.sh` installs the same tools on the host, so the fastest
sound base is the host root itself used as the *lower* layer of an overlay mount, with a per-episode
writable *upper* layer. Nothing is copied, so a sandbox starts in milliseconds, and every write the
agent makes lands in its own upper folder (which is also what the evaluator snapshots).

The host root also holds things an agent must not see (the repo, /root, host /tmp, database
files). A small "mask" layer, built once per machine and cached, sits between the upper layer and
the host root: overlayfs whiteouts delete unwanted entries and opaque folders replace /root,
/home, /tmp and friends with empty ones (plus /etc/skel's dotfiles in /root, like a fresh image).

This module builds and finds the mask; it must not mount anything (backends do that).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

# Top-level entries of the host root that the sandbox sees as they are.
SYSTEM_ENTRIES = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "var", "opt", "boot",
                  "proc", "dev", "sys"}
# Replaced by empty folders (name -> mode), like a freshly started container.
EMPTY_DIRS = {"root": 0o700, "home": 0o755, "tmp": 0o1777, "mnt": 0o755, "media": 0o755, "srv": 0o755,
              "run": 0o755, "var/tmp": 0o1777}
# Host data an agent has no business reading, removed from inside the system folders.
HIDDEN_PATHS = ["var/lib/mysql", "var/lib/postgresql", "var/lib/docker", "var/log/mysql", "var/log/postgresql",
                "etc/ssh/ssh_host_rsa_key", "etc/ssh/ssh_host_ecdsa_key", "etc/ssh/ssh_host_ed25519_key"]
MASK_VERSION = "1"


def _whiteout(path: Path) -> None:
    """An overlayfs whiteout: a 0/0 character device that hides the lower entry of that name."""
    os.mknod(path, 0o600 | 0o020000, os.makedev(0, 0))


def _opaque_dir(path: Path, mode: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    os.setxattr(path, "trusted.overlay.opaque", b"y")


def _build_mask(target: Path, host_root: Path) -> None:
    target.mkdir(parents=True)
    for name in sorted(os.listdir(host_root)):
        if name not in SYSTEM_ENTRIES and name not in EMPTY_DIRS:
            _whiteout(target / name)
    for name, mode in EMPTY_DIRS.items():
        _opaque_dir(target / name, mode)
    skel = host_root / "etc" / "skel"
    if skel.is_dir():
        for entry in skel.iterdir():
            if entry.is_file():
                shutil.copy2(entry, target / "root" / entry.name)
    for rel in HIDDEN_PATHS:
        if (host_root / rel).exists() or (host_root / rel).is_symlink():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            _whiteout(target / rel)


def mask_layer(state_dir: str | Path, host_root: str | Path = "/") -> Path:
    """The cached mask folder for this machine, built on first use (atomically, so concurrent
    sandboxes never see a half-built mask)."""
    state = Path(state_dir)
    target = state / f"mask-v{MASK_VERSION}"
    if target.is_dir():
        return target
    state.mkdir(parents=True, exist_ok=True)
    staging = state / f".mask-{uuid.uuid4().hex}"
    try:
        _build_mask(staging, Path(host_root))
        os.rename(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():  # not a lost race with another builder: a real failure
            raise
    return target
