"""The sandbox's read-only base filesystem, under a per-episode writable overlay layer.

AgentBench runs OS tasks in a small Ubuntu image with bash, coreutils, python3(-pip), git, curl,
wget, zip/unzip, tree and vim. Two bases are offered; either is the *lower* layer of an overlay
mount whose *upper* layer is the episode's own folder, so nothing is copied per episode (a
sandbox starts in milliseconds) and every write the agent makes lands in its upper folder, which
is also what evaluators snapshot.

- `rootfs` (preferred): a minimal Debian tree built once by `build_rootfs` (debootstrap minbase
  plus AgentBench's tools; ~340 MB) under /var/cache/coachgym/rootfs. Small and frozen like a
  container image, so answers that depend on the whole filesystem (`du -sh /usr`, `find /`) are
  reproducible and close to AgentBench's.
- `host` (fallback, no build needed): the host root itself, under a "mask" layer built once per
  host state and cached: opaque folders replace /root, /home, /opt, /srv, /tmp, /var/lib, /var/log
  and friends with empty ones; everything under /etc that other users may not read (shadow
  files, private keys, database credentials) is hidden, except /etc/shadow and /etc/gshadow,
  which keep their entries with every password replaced by `*`; whiteouts delete the project
  checkout. What the host lets every user read in /usr and /etc stays visible.

This module builds and finds base layers; it must not mount anything (backends do that).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import uuid
from functools import lru_cache
from pathlib import Path

DEFAULT_ROOTFS = "/var/cache/coachgym/rootfs"
# AgentBench's Dockerfile tools, plus what its tasks and ours call (ps, sudo, useradd, lsof, ...).
ROOTFS_PACKAGES = ["python3", "python3-pip", "git", "curl", "wget", "zip", "unzip", "tree", "vim-tiny", "procps",
                   "sudo", "psmisc", "file", "less", "ca-certificates", "passwd", "net-tools", "iproute2", "lsof"]

# Top-level entries of the host root that the sandbox sees as they are.
SYSTEM_ENTRIES = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "var", "boot", "proc", "dev", "sys"}
# Replaced by empty folders (name -> mode), like a freshly started container: home folders, add-on
# software, and the host's state (databases, caches, logs, backups of /etc/shadow, mail).
EMPTY_DIRS = {"root": 0o700, "home": 0o755, "tmp": 0o1777, "mnt": 0o755, "media": 0o755, "srv": 0o755,
              "opt": 0o755, "run": 0o755, "var/tmp": 0o1777, "var/lib": 0o755, "var/cache": 0o755,
              "var/log": 0o755, "var/backups": 0o755, "var/mail": 0o2775, "var/spool": 0o755, "var/opt": 0o755}
# Not readable by other users, but needed as they are for sudo to work.
KEPT_PRIVATE = {"etc/sudoers", "etc/sudoers.d"}
# Kept with every password replaced (tools such as useradd and su need the files).
SANITIZED = {"etc/shadow", "etc/gshadow"}
MASK_VERSION = "3"


def _whiteout(path: Path) -> None:
    """An overlayfs whiteout: a 0/0 character device that hides the lower entry of that name."""
    os.mknod(path, 0o600 | 0o020000, os.makedev(0, 0))


def _opaque_dir(path: Path, mode: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    os.setxattr(path, "trusted.overlay.opaque", b"y")


def _project_checkout() -> str | None:
    """The source checkout coachgym runs from (an editable install), relative to /: it may sit
    inside a system folder (a CI clone under /opt or /var), where the top-level whiteouts miss it."""
    checkout = Path(__file__).resolve().parents[3]
    if not (checkout / "pyproject.toml").is_file():
        return None
    return str(checkout.relative_to("/"))


def _hidden_paths() -> list[str]:
    checkout = _project_checkout()
    return [checkout] if checkout else []


@lru_cache(maxsize=4)
def _private_entries(host_root: str) -> tuple[str, ...]:
    """Entries under /etc that other users may not read (the topmost of each private subtree),
    found once per process: walking /etc costs more than starting a sandbox."""
    found = []
    for folder, dirs, files in os.walk(Path(host_root) / "etc"):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            try:
                info = path.lstat()
            except OSError:
                continue
            rel = str(path.relative_to(host_root))
            if not stat.S_ISLNK(info.st_mode) and not info.st_mode & stat.S_IROTH and rel not in KEPT_PRIVATE:
                found.append(rel)
        dirs[:] = [name for name in dirs if str((Path(folder) / name).relative_to(host_root)) not in found]
    return tuple(sorted(found))


def _sanitize(source: Path, target: Path) -> None:
    """`source` (shadow/gshadow format) with the password field of every line replaced by `*`."""
    lines = []
    for line in source.read_text(errors="replace").splitlines():
        fields = line.split(":")
        if len(fields) > 1:
            fields[1] = "*"
        lines.append(":".join(fields))
    target.write_text("\n".join(lines) + "\n")
    info = source.stat()
    os.chmod(target, info.st_mode & 0o7777)
    os.chown(target, info.st_uid, info.st_gid)


def _mirror_parents(target: Path, host_root: Path, rel: str) -> None:
    """Create the mask's folders above a whiteout with the host's modes and owners: overlayfs
    shows the topmost layer's folder attributes, so a default-mode copy would change them."""
    for parent in reversed(Path(rel).parents[:-1]):
        made, source = target / parent, host_root / parent
        if made.is_dir():
            continue
        made.mkdir()
        if source.is_dir():
            info = source.stat()
            os.chmod(made, info.st_mode & 0o7777)
            os.chown(made, info.st_uid, info.st_gid)


def _build_mask(target: Path, host_root: Path, hidden: list[str], private: tuple[str, ...]) -> None:
    target.mkdir(parents=True)
    for name in sorted(os.listdir(host_root)):
        if name not in SYSTEM_ENTRIES and name not in EMPTY_DIRS:
            _whiteout(target / name)
    for name, mode in EMPTY_DIRS.items():
        _mirror_parents(target, host_root, name)
        _opaque_dir(target / name, mode)
    skel = host_root / "etc" / "skel"
    if skel.is_dir():
        for entry in skel.iterdir():
            if entry.is_file():
                shutil.copy2(entry, target / "root" / entry.name)
    for rel in hidden:
        top = rel.split("/", 1)[0]
        if top not in SYSTEM_ENTRIES or not ((host_root / rel).exists() or (host_root / rel).is_symlink()):
            continue  # already hidden by a top-level whiteout or an empty folder, or absent
        _mirror_parents(target, host_root, rel)
        _whiteout(target / rel)
    for rel in private:
        _mirror_parents(target, host_root, rel)
        source = host_root / rel
        if rel in SANITIZED:
            _sanitize(source, target / rel)
        elif source.is_dir():
            info = source.stat()
            _opaque_dir(target / rel, info.st_mode & 0o7777)
            os.chown(target / rel, info.st_uid, info.st_gid)
        else:
            _whiteout(target / rel)


def mask_layer(state_dir: str | Path, host_root: str | Path = "/") -> Path:
    """The cached mask folder for this machine, built on first use (atomically, so concurrent
    sandboxes never see a half-built mask). Its name hashes what it hides, so moving the checkout
    builds a new mask instead of reusing one that exposes it."""
    state = Path(state_dir)
    hidden, private = _hidden_paths(), _private_entries(str(host_root))
    stamps = [str(os.stat(Path(host_root) / rel).st_mtime_ns) for rel in private if rel in SANITIZED]
    key = hashlib.sha1("\n".join([*hidden, *private, *stamps]).encode()).hexdigest()[:10]
    target = state / f"mask-v{MASK_VERSION}-{key}"
    if target.is_dir():
        return target
    state.mkdir(parents=True, exist_ok=True)
    staging = state / f".mask-{uuid.uuid4().hex}"
    try:
        _build_mask(staging, Path(host_root), hidden, private)
        os.rename(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():  # not a lost race with another builder: a real failure
            raise
    return target


def rootfs_ready(path: str | Path) -> bool:
    return (Path(path) / "usr" / "bin" / "bash").exists()


def base_layers(base: str, rootfs: str | Path, state_dir: str | Path) -> list[Path]:
    """Lower layers (top first) for `SandboxConfig.base`: "rootfs", "host" or "auto"."""
    if base == "rootfs" or (base == "auto" and rootfs_ready(rootfs)):
        if not rootfs_ready(rootfs):
            raise FileNotFoundError(f"No sandbox root filesystem at {rootfs}; build it with "
                                    "`python -m coachgym.envs.shell.rootfs build` (scripts/setup.sh does), "
                                    "or use SandboxConfig(base='host').")
        return [Path(rootfs)]
    return [mask_layer(state_dir), Path("/")]


def build_rootfs(target: str | Path = DEFAULT_ROOTFS, suite: str = "bookworm",
                 mirror: str = "http://deb.debian.org/debian") -> Path:
    """Build the minimal Debian base with debootstrap (needs root, network, the `debootstrap`
    package); atomic, so a half-built tree is never used. Returns the finished folder."""
    target = Path(target)
    if rootfs_ready(target):
        return target
    if shutil.which("debootstrap") is None:
        raise FileNotFoundError("`debootstrap` not found; install the Debian package `debootstrap`.")
    staging = target.with_name(target.name + f".staging-{uuid.uuid4().hex[:8]}")
    staging.parent.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(["debootstrap", "--variant=minbase", "--include=" + ",".join(ROOTFS_PACKAGES), suite,
                        str(staging), mirror], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["chroot", str(staging), "sh", "-c", "apt-get clean && rm -rf /var/lib/apt/lists/*"],
                       check=True)
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


if __name__ == "__main__":
    if sys.argv[1:2] != ["build"]:
        sys.exit("usage: python -m coachgym.envs.shell.rootfs build [TARGET]")
    print(build_rootfs(*sys.argv[2:3]))
