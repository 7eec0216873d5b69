"""Append-only trajectory store: one JSONL line per finished episode, images beside it.

A collection run may be killed at any moment. Each episode is appended as one line and fsynced,
so a kill loses at most the episode in flight; the reader reports (and skips) a torn last line
instead of failing, and `finished_keys` lets a re-run resume without duplicates. Images are
written before their line, so a line never points at a missing file; the images of an episode a
kill interrupted are removed by `remove_orphan_images` when a run resumes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image
from pydantic import ValidationError

from coachgym.trajectories.records import Trajectory
from coachgym.trajectories.stats import ERROR_OUTCOMES

FILE_NAME = "trajectories.jsonl"


class StoreReadReport:
    """Lines the reader could not use, with why, so callers can tell the user."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, line_no: int, why: str) -> None:
        self.problems.append(f"line {line_no}: {why}")


class TrajectoryStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        path = self.root if self.root.suffix == ".jsonl" else self.root / FILE_NAME
        self.path = path
        self.folder = path.parent

    # ------------------------------------------------------------------ writing
    def save_image(self, trajectory_id: str, step: int, pixels: np.ndarray) -> str:
        """Write a screenshot as PNG; returns the path relative to the store folder."""
        relative = Path("images") / trajectory_id / f"{step:04d}.png"
        target = self.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(target, optimize=False, compress_level=1)
        return relative.as_posix()

    def append(self, trajectory: Trajectory) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        line = trajectory.model_dump_json() + "\n"
        with open(self.path, "ab") as handle:
            self._repair_torn_tail(handle)
            handle.write(line.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())

    def remove_orphan_images(self) -> int:
        """Delete image folders of episodes that never reached the store (killed mid-episode); returns how many.

        Call it only while no episode of this store is in flight, i.e. before a run starts its workers.
        """
        images = self.folder / "images"
        if not images.is_dir():
            return 0
        stored = {t.id for t in self.read()}
        orphans = [folder for folder in images.iterdir() if folder.is_dir() and folder.name not in stored]
        for folder in orphans:
            shutil.rmtree(folder, ignore_errors=True)
        return len(orphans)

    def _repair_torn_tail(self, handle) -> None:
        """A kill mid-write can leave a last line without its newline; start a fresh line after it."""
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        with open(self.path, "rb") as reader:
            reader.seek(size - 1)
            if reader.read(1) != b"\n":
                handle.write(b"\n")

    # ------------------------------------------------------------------ reading
    def __iter__(self) -> Iterator[Trajectory]:
        return self.read()

    def read(self, report: StoreReadReport | None = None) -> Iterator[Trajectory]:
        if not self.path.exists():
            return
        with open(self.path, "rb") as handle:
            for line_no, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    yield Trajectory.model_validate_json(raw)
                except (ValidationError, ValueError) as error:
                    if report is not None:
                        torn = not raw.endswith(b"\n")
                        report.add(line_no, "truncated last line (an interrupted write)" if torn else str(error)[:200])

    def load(self) -> tuple[list[Trajectory], StoreReadReport]:
        report = StoreReadReport()
        return list(self.read(report)), report

    def finished_keys(self) -> set[tuple[str, int, str]]:
        """(task, seed, agent) of every stored episode that reached a verdict; one that ended in
        `agent_error` or `env_error` is not finished, so a resumed run plays it again."""
        return {t.key for t in self.read() if t.outcome not in ERROR_OUTCOMES}

    def __len__(self) -> int:
        return sum(1 for _ in self.read())
