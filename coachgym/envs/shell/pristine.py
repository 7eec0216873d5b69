"""The evaluator's view of a finished sandbox: the agent's files as data, the base's programs to run.

Checkers run in a snapshot of the agent's sandbox, so they see every file the agent left, and
some of those files would change what the checker's own tools do: a `python3` early on PATH, a
rewritten `/usr/bin/awk`, a library, `/etc/ld.so.preload`, Python's `sitecustomize`. The
snapshot therefore gets one more overlay layer on top, the *restore layer*, built here:

- Program trees (`RESTORED_TREES`: libraries, the dynamic loader's settings, interpreter modules
  and settings) are the base's whatever the agent did there: the layer holds an empty opaque
  folder (or the base's link, or a whiteout where the base has nothing) and the backend binds
  the base's tree over it, read-only.
- Command folders (`COMMAND_DIRS`) keep the agent's entries where they are data or commands of
  its own (a `calc` the task asked for). An entry that replaces or deletes a base program is put
  back; a new entry named like a base command (a `python3` in /usr/local/bin) is hidden. A program
  whose bytes are unchanged keeps the agent's metadata, so a checker still sees
  `chmod u-s /usr/bin/find`.
- The top-level entries (`/usr`, `/bin` -> `usr/bin`, `/lib64`) get the base's type, so no bind
  lands somewhere else through a link the agent made.

Layers are read as data here (overlayfs rules: whiteouts, opaque folders); nothing is mounted.
"""

from __future__ import annotations

import filecmp
import os
import stat
from pathlib import Path

COMMAND_DIRS = ["usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin", "sbin", "bin"]
RESTORED_TREES = ["usr/lib", "usr/lib32", "usr/lib64", "usr/libx32", "usr/libexec", "usr/local/lib",
                  "usr/share/perl", "usr/share/perl5", "lib", "lib32", "lib64", "libx32",
                  "etc/alternatives", "etc/ld.so.cache", "etc/ld.so.conf", "etc/ld.so.conf.d", "etc/ld.so.preload",
                  "etc/perl"]
RESTORED_PATTERNS = ["etc/python3*"]  # Python's sitecustomize lives there on Debian


def _is_whiteout(info: os.stat_result) -> bool:
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == 0


def _is_opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, "trusted.overlay.opaque") == b"y"
    except OSError:
        return False


def _lookup(layers: list[Path], rel: str) -> tuple[Path | None, list[Path]]:
    """(the non-folder entry behind `rel`, or None) and (the layers whose folders merge into the
    folder `rel`, top first, empty if it is not a folder), by overlayfs rules."""
    parts = rel.split("/")
    dirs = list(layers)  # layers in which the path so far is a (merged) folder
    for depth in range(1, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        below = []
        for layer in dirs:
            try:
                info = os.lstat(layer / prefix)
            except OSError:
                continue
            if _is_whiteout(info):
                break
            if not stat.S_ISDIR(info.st_mode):
                if not below and depth == len(parts):
                    return layer / prefix, []
                break
            below.append(layer)
            if _is_opaque(layer / prefix):
                break
        if not below:
            return None, []
        dirs = below
    return None, dirs


def resolve(layers: list[Path], rel: str) -> Path | None:
    """The entry behind `rel` in an overlay of `layers` (top first), or None if it is absent;
    for a folder merged from several layers, the topmost one's."""
    entry, dirs = _lookup(layers, rel)
    return entry if entry is not None else (dirs[0] / rel if dirs else None)


def listing(layers: list[Path], rel: str) -> set[str]:
    """Names in the merged folder `rel` (empty if it is not a folder)."""
    seen: dict[str, bool] = {}
    for layer in _lookup(layers, rel)[1]:
        for entry in os.scandir(layer / rel):
            seen.setdefault(entry.name, not _is_whiteout(entry.stat(follow_symlinks=False)))
    return {name for name, present in seen.items() if present}


def _agent_entries(agent_layers: list[Path], rel: str) -> dict[str, Path] | None:
    """The agent's entries in folder `rel` (topmost wins; whiteouts included), or None when the
    agent replaced the folder or a folder above it (so none of the base's entries show)."""
    parts = rel.split("/")
    for layer in agent_layers:
        for depth in range(1, len(parts) + 1):
            path = layer / "/".join(parts[:depth])
            if not (path.exists() or path.is_symlink()):
                break
            if path.is_symlink() or not path.is_dir() or _is_opaque(path):
                return None
    entries: dict[str, Path] = {}
    for layer in agent_layers:
        if (layer / rel).is_dir():
            for entry in os.scandir(layer / rel):
                entries.setdefault(entry.name, Path(entry.path))
    return entries


def _same(agent: Path, base: Path) -> bool:
    """Whether running `agent` would run exactly what `base` runs."""
    a, b = os.lstat(agent), os.lstat(base)
    if stat.S_ISLNK(a.st_mode) and stat.S_ISLNK(b.st_mode):
        return os.readlink(agent) == os.readlink(base)
    if stat.S_ISREG(a.st_mode) and stat.S_ISREG(b.st_mode):
        return a.st_size == b.st_size and filecmp.cmp(agent, base, shallow=False)
    return False


class _RestoreLayer:
    """Writes the layer; `binds` collects the paths the backend binds from the base's view."""

    def __init__(self, target: Path, base_layers: list[Path]):
        self.target = target
        self.base = base_layers
        self.binds: list[str] = []
        target.mkdir(parents=True)

    def _parents(self, rel: str) -> None:
        """Folders above `rel` with the base's attributes (the top layer's are what show)."""
        parts = rel.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            made = self.target / prefix
            if made.is_dir():
                continue
            made.mkdir()
            source = resolve(self.base, prefix)
            if source is not None and source.is_dir() and not source.is_symlink():
                info = source.stat()
                os.chmod(made, info.st_mode & 0o7777)
                os.chown(made, info.st_uid, info.st_gid)

    def restore(self, rel: str) -> None:
        """Make `rel` show exactly the base's entry (or nothing, where the base has none)."""
        self._parents(rel)
        made, source = self.target / rel, resolve(self.base, rel)
        if source is None:
            os.mknod(made, 0o600 | stat.S_IFCHR, os.makedev(0, 0))  # whiteout
        elif source.is_symlink():
            os.symlink(os.readlink(source), made)
        elif source.is_dir():
            made.mkdir()
            os.setxattr(made, "trusted.overlay.opaque", b"y")
            self.binds.append(rel)
        elif source.is_file():
            made.touch()
            self.binds.append(rel)
        else:  # a device or socket has no business among programs
            os.mknod(made, 0o600 | stat.S_IFCHR, os.makedev(0, 0))

    def hide(self, rel: str) -> None:
        self._parents(rel)
        os.mknod(self.target / rel, 0o600 | stat.S_IFCHR, os.makedev(0, 0))


def build_restore_layer(agent_layers: list[Path], base_layers: list[Path], target: Path) -> list[str]:
    """Write the restore layer for a snapshot whose agent layers sit on `base_layers` into
    `target`; returns the paths (relative to /) to bind read-only from the base's view."""
    layer = _RestoreLayer(target, base_layers)
    trees = RESTORED_TREES + sorted({str(path.relative_to(base)) for base in base_layers
                                     for pattern in RESTORED_PATTERNS for path in base.glob(pattern)})
    for rel in trees:
        layer.restore(rel)
    base_commands = set().union(*(listing(base_layers, rel) for rel in COMMAND_DIRS))
    for folder in COMMAND_DIRS:
        base_folder = resolve(base_layers, folder)
        entries = None
        if base_folder is not None and base_folder.is_dir() and not base_folder.is_symlink():
            entries = _agent_entries(agent_layers, folder)
        if entries is None:  # a link or nothing in the base, or a folder the agent replaced
            layer.restore(folder)
            continue
        for name, agent in sorted(entries.items()):
            rel, base = f"{folder}/{name}", resolve(base_layers, f"{folder}/{name}")
            info = os.lstat(agent)
            if _is_whiteout(info):
                if base is not None:
                    layer.restore(rel)
            elif stat.S_ISDIR(info.st_mode):
                continue  # not something PATH runs
            elif base is None:
                if name in base_commands:
                    layer.hide(rel)
            elif not _same(agent, base):
                layer.restore(rel)
    return layer.binds
