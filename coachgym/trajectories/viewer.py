"""A self-contained HTML page of trajectories: each step's screenshot, observation and action.

Self-contained means screenshots are embedded (base64), so the page can be mailed or attached
to a report and still show everything. It must not execute or trust trajectory text: all of it
is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

from coachgym.trajectories.records import Trajectory

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}
.ep{border:1px solid #ccc;border-radius:8px;margin:1em 0;padding:.5em 1em}
.ok{color:#0a7a2f}.fail{color:#b3261e}
.step{display:flex;gap:1em;border-top:1px dashed #ddd;padding:.5em 0}
.step img{max-width:320px;max-height:480px;border:1px solid #999}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:.5em;margin:.2em 0;max-height:24em;overflow:auto}
.act{background:#eef4ff}.err{background:#fdecea}
nav a{margin-right:.8em}
"""


def _image_tag(store_folder: Path, relative: str | None) -> str:
    if not relative:
        return ""
    path = store_folder / relative
    if not path.exists():
        return f"<p class='err'>missing image {html.escape(relative)}</p>"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<img alt='step screenshot' src='data:image/png;base64,{data}'>"


def _episode(trajectory: Trajectory, store_folder: Path) -> str:
    verdict = "ok" if trajectory.success else "fail"
    parts = [
        f"<div class='ep' id='{html.escape(trajectory.id)}'>",
        f"<h2 class='{verdict}'>{html.escape(trajectory.task_id)} — {'success' if trajectory.success else 'failure'}"
        f" (reward {trajectory.reward:.2f}, {trajectory.outcome.value}, {len(trajectory.steps)} steps)</h2>",
        f"<p><b>env</b> {html.escape(trajectory.env)} · <b>agent</b> {html.escape(trajectory.agent)} · "
        f"<b>seed</b> {trajectory.seed}</p><p><b>goal</b> {html.escape(trajectory.goal)}</p>",
    ]
    for step in trajectory.steps:
        error = f"<pre class='err'>{html.escape(step.action_error)}</pre>" if step.action_error else ""
        parts.append(
            f"<div class='step'>{_image_tag(store_folder, step.image)}<div style='flex:1'>"
            f"<b>step {step.index}</b><pre>{html.escape(step.observation)}</pre>"
            f"<pre class='act'>{html.escape(step.action)}</pre>{error}</div></div>"
        )
    if trajectory.final_observation is not None:
        parts.append(f"<div class='step'><div style='flex:1'><b>final</b><pre>"
                     f"{html.escape(trajectory.final_observation)}</pre></div></div>")
    if trajectory.metadata.get("error"):  # why an errored episode ended, with the traceback when recorded
        detail = trajectory.metadata.get("traceback") or trajectory.metadata["error"]
        parts.append(f"<div class='step'><div style='flex:1'><b>error</b><pre class='err'>"
                     f"{html.escape(str(detail))}</pre></div></div>")
    parts.append("</div>")
    return "\n".join(parts)


def render_view(trajectories: Sequence[Trajectory], store_folder: Path, title: str = "coachgym trajectories") -> str:
    links = " ".join(
        f"<a class='{'ok' if t.success else 'fail'}' href='#{html.escape(t.id)}'>{html.escape(t.task_id)}</a>"
        for t in trajectories
    )
    body = "\n".join(_episode(t, store_folder) for t in trajectories)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p>{len(trajectories)} episodes</p><nav>{links}</nav>{body}</body></html>")


def write_view(trajectories: Sequence[Trajectory], store_folder: Path, out: Path, title: str = "coachgym trajectories") -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_view(trajectories, Path(store_folder), title), encoding="utf-8")
    return out
