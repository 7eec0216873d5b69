"""HTML pages of trajectories: an index of episodes and one page per episode.

The index lists every episode with its task, agent, outcome and result; it filters them in the
browser (task, outcome, success, agent), counts what is shown, and plots success per task for
the shown episodes. Each row links to the episode's page: every step's screenshot, observation,
action and error, then the final observation and how the episode ended.

Screenshots stay files: pages refer to the store's images by relative path instead of embedding
them, so a run of thousands of episodes opens quickly; keep the view folder beside its store (or
copy both together). The pages are Jinja2 templates shipped with the package, autoescaped: no
trajectory text is executed or trusted.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader

from coachgym.trajectories.records import Trajectory

_TEMPLATES = Environment(loader=PackageLoader("coachgym.trajectories", "templates"), autoescape=True)
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
FACETS = {"task": "task_id", "outcome": "outcome", "success": "result", "agent": "agent"}


def episode_file(trajectory_id: str) -> str:
    """The episode page's path inside a view folder (ids that are not file-name safe are hashed)."""
    name = trajectory_id if _SAFE_ID.fullmatch(trajectory_id) else hashlib.sha1(trajectory_id.encode()).hexdigest()
    return f"episodes/{name}.html"


def _row(trajectory: Trajectory) -> dict[str, Any]:
    return {"id": trajectory.id, "href": episode_file(trajectory.id), "task_id": trajectory.task_id,
            "env": trajectory.env, "agent": trajectory.agent, "seed": trajectory.seed,
            "outcome": trajectory.outcome.value, "result": "success" if trajectory.success else "failure",
            "reward": trajectory.reward, "steps": len(trajectory.steps), "duration_s": trajectory.duration_s,
            "error": str(trajectory.metadata.get("error", "")).splitlines()[0] if trajectory.metadata.get("error")
            else ""}


def _image(store_folder: Path, relative: str | None, page_dir: Path) -> dict[str, str] | None:
    if not relative:
        return None
    path = store_folder / relative
    return {"src": Path(os.path.relpath(path, page_dir)).as_posix(), "name": relative, "missing": not path.exists()}


def render_index(trajectories: Sequence[Trajectory], title: str = "coachgym trajectories") -> str:
    rows = [_row(t) for t in trajectories]
    facets = {name: sorted(Counter(row[key] for row in rows).items()) for name, key in FACETS.items()}
    return _TEMPLATES.get_template("index.html").render(title=title, rows=rows, facets=facets,
                                                        successes=sum(t.success for t in trajectories))


def render_episode(trajectory: Trajectory, store_folder: Path, page_dir: Path, title: str = "coachgym trajectories",
                   previous: Trajectory | None = None, following: Trajectory | None = None) -> str:
    """One episode's page; image paths are relative to `page_dir`, the folder the page is written to."""
    steps = [{"step": step, "image": _image(store_folder, step.image, page_dir)} for step in trajectory.steps]
    error = trajectory.metadata.get("traceback") or trajectory.metadata.get("error")
    neighbours = {"previous": previous, "following": following}
    links = {k: Path(episode_file(t.id)).name if t else None for k, t in neighbours.items()}
    return _TEMPLATES.get_template("episode.html").render(
        title=title, t=trajectory, row=_row(trajectory), steps=steps, error=error, links=links,
        evaluation=trajectory.metadata.get("evaluation"))


def write_view(trajectories: Sequence[Trajectory], store_folder: Path, out_dir: Path,
               title: str = "coachgym trajectories") -> Path:
    """Write `out_dir/index.html` and one page per episode under `out_dir/episodes/`; return the index."""
    out_dir, store_folder = Path(out_dir), Path(store_folder)
    pages = out_dir / "episodes"
    pages.mkdir(parents=True, exist_ok=True)
    for position, trajectory in enumerate(trajectories):
        previous = trajectories[position - 1] if position else None
        following = trajectories[position + 1] if position + 1 < len(trajectories) else None
        page = render_episode(trajectory, store_folder, pages, title, previous, following)
        (out_dir / episode_file(trajectory.id)).write_text(page, encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(render_index(trajectories, title), encoding="utf-8")
    return index
