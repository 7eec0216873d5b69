"""Benchmark reports: a markdown summary and a self-contained HTML page, for one run or several.

Tables are built once as data (`Table`) and rendered to markdown and to HTML (the Jinja2
template `templates/report.html`, autoescaped), so both always say the same thing. The HTML
embeds its plots as base64 PNG and links each component to its trajectory index and each
episode to its page (written next to the run by `coachgym.trajectories.viewer.write_view`). With
several runs (before/after, `coachgym compare`) the same page adds a side-by-side table whose
changes are in the unit of the values: percentage points for success rates, score units for the
overall score.

Components that did not run, or ran only partly, are listed under "Problems" and flagged in
every table, and so are episodes that ended in `agent_error` or `env_error`; a report never shows
an overall score without saying it is partial. All run text is escaped; nothing here executes it.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, PackageLoader
from pydantic import BaseModel

from coachgym.benchmarks.metrics import ComponentMetrics, RunMetrics
from coachgym.benchmarks.runner import RunResults, read_results
from coachgym.trajectories.store import TrajectoryStore
from coachgym.trajectories.viewer import episode_file, write_view

MAX_EPISODE_ROWS = 1000
Cell = str | tuple[str, str]  # text, or (text, link target)
_TEMPLATES = Environment(loader=PackageLoader("coachgym.benchmarks", "templates"), autoescape=True)


class Run(BaseModel):
    label: str
    folder: Path
    results: RunResults


class Table(BaseModel):
    title: str
    headers: list[str]
    rows: list[list[Cell]]


def load_runs(run_dirs: Sequence[Path], labels: Sequence[str] | None = None) -> list[Run]:
    """Runs with short labels (folder names, made unique) unless labels are given."""
    folders = [Path(d) for d in run_dirs]
    names = list(labels) if labels else [f.name for f in folders]
    if not labels and len(set(names)) < len(names):
        names = [f"{f.parent.name}/{f.name}" for f in folders]
    return [Run(label=name, folder=folder, results=read_results(folder)) for name, folder in zip(names, folders)]


# ---------------------------------------------------------------------------------- formatting
def _pct(value: float) -> str:
    return f"{value:.1%}"


def _score(metrics: RunMetrics) -> str:
    if metrics.overall_score is None:
        return "n/a"
    low, high = metrics.overall_ci or (metrics.overall_score, metrics.overall_score)
    return f"{metrics.overall_score:.3f} [{low:.3f}, {high:.3f}]" + (" (partial)" if metrics.partial else "")


def _success(component: ComponentMetrics) -> str:
    if not component.episodes:
        return "not run"
    low, high = component.success_ci
    return f"{_pct(component.success_rate)} [{_pct(low)}, {_pct(high)}]"


def _view(run: Run, component: str, out_dir: Path, trajectory_id: str | None = None) -> str:
    """Link to a component's trajectory index, or to one episode's page in it."""
    folder = run.folder / "views" / component
    target = folder / (episode_file(trajectory_id) if trajectory_id else "index.html")
    return Path(os.path.relpath(target, out_dir)).as_posix()


# ---------------------------------------------------------------------------------- tables
def summary_table(runs: Sequence[Run]) -> Table:
    rows: list[list[Cell]] = []
    for run in runs:
        config, metrics = run.results.manifest.config, run.results.metrics
        rows.append([run.label, config.agent, config.suite, _score(metrics), _pct(metrics.success_rate),
                     str(metrics.episodes)])
    return Table(title="Runs", headers=["run", "agent", "suite", "overall score [95% CI]", "success", "episodes"],
                 rows=rows)


def component_table(run: Run, out_dir: Path) -> Table:
    rows: list[list[Cell]] = []
    for c in run.results.metrics.components:
        name: Cell = (c.name, _view(run, c.name, out_dir)) if c.episodes else c.name
        outcomes = ", ".join(f"{k}={v}" for k, v in c.outcomes.items() if v) or "-"
        rows.append([name, c.env or "?", f"{c.episodes}/{c.planned}", _success(c),
                     "n/a" if c.normalized is None else f"{c.normalized:.3f}", f"{c.avg_reward:.3f}",
                     f"{c.avg_steps:.1f}", f"{c.avg_tokens:.0f}", f"{c.avg_wall_time_s:.2f}",
                     f"not run: {c.unavailable}" if c.unavailable else outcomes])
    headers = ["suite", "env", "episodes", "success [95% CI]", "score / reference", "avg reward", "avg steps",
               "avg tokens", "avg time (s)", "outcomes"]
    return Table(title=f"Per env suite: {run.label}", headers=headers, rows=rows)


def _change(value: float | None, base: float | None, overall: bool) -> str:
    """The change from the baseline in the values' unit: score units, or percentage points for rates."""
    if value is None or base is None:
        return ""
    return f" ({value - base:+.3f})" if overall else f" ({100 * (value - base):+.1f} pp)"


def comparison_table(runs: Sequence[Run]) -> Table:
    """Success per component side by side, with the change from the first run."""
    names: list[str] = []
    by_run = []
    for run in runs:
        by_name = {c.name: c for c in run.results.metrics.components}
        names += [n for n in by_name if n not in names]
        by_run.append(by_name)
    rows: list[list[Cell]] = []
    for name in names + ["overall"]:
        row: list[Cell] = [name]
        base = None
        for index, by_name in enumerate(by_run):
            if name == "overall":
                value = runs[index].results.metrics.overall_score
                text = _score(runs[index].results.metrics)
            else:
                component = by_name.get(name)
                value = component.success_rate if component and component.episodes else None
                text = _success(component) if component else "absent"
            base = value if index == 0 else base
            row.append(text + ("" if index == 0 else _change(value, base, name == "overall")))
        rows.append(row)
    return Table(title="Side by side (change vs the first run)", headers=["suite"] + [r.label for r in runs], rows=rows)


def problems(runs: Sequence[Run]) -> list[str]:
    """Failed episodes first, then why a score is partial; one line each, naming the run."""
    return [f"{run.label}: {problem}" for run in runs
            for problem in run.results.metrics.errors + run.results.metrics.problems]


# ---------------------------------------------------------------------------------- rendering
def _md_cell(cell: Cell) -> str:
    text, link = (cell, None) if isinstance(cell, str) else cell
    text = text.replace("|", "\\|")
    return f"[{text}]({link})" if link else text


def _md_table(table: Table) -> str:
    lines = [f"## {table.title}", "", "| " + " | ".join(table.headers) + " |", "|" + "---|" * len(table.headers)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"


def tables(runs: Sequence[Run], out_dir: Path) -> list[Table]:
    found = [summary_table(runs)] + ([comparison_table(runs)] if len(runs) > 1 else [])
    return found + [component_table(run, out_dir) for run in runs]


def render_markdown(runs: Sequence[Run], out_dir: Path) -> str:
    parts = [f"# coachgym benchmark report\n\nGenerated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n"]
    issues = problems(runs)
    if issues:
        parts.append("## Problems\n\n" + "\n".join(f"- {p}" for p in issues) + "\n")
    parts += [_md_table(t) for t in tables(runs, out_dir)]
    parts.append("Overall score: mean over suites of success rate / reference score (AgentBench normalisation). "
                 "Intervals are 95% percentile bootstraps over episodes.\n")
    return "\n".join(parts)


def _episode_rows(run: Run, out_dir: Path) -> list[dict]:
    return [{"component": e.component, "task_id": e.task_id, "link": _view(run, e.component, out_dir, e.trajectory_id),
             "seed": e.seed, "verdict": "ok" if e.success else "fail", "outcome": e.outcome.value, "steps": e.steps,
             "reward": e.reward, "error": e.error or ""} for e in run.results.episodes[:MAX_EPISODE_ROWS]]


def render_html(runs: Sequence[Run], out_dir: Path) -> str:
    from coachgym.benchmarks.plots import PLOTS

    runs_for_plots = [(run.label, run.results) for run in runs]
    figures = [{"title": title, "png": base64.b64encode(draw(runs_for_plots)).decode("ascii")}
               for title, draw in PLOTS.items()]
    summary, *details = tables(runs, out_dir)
    episodes = [{"label": run.label, "total": len(run.results.episodes), "rows": _episode_rows(run, out_dir)}
                for run in runs]
    return _TEMPLATES.get_template("report.html").render(problems=problems(runs), summary=summary, figures=figures,
                                                         details=details, episodes=episodes)


def write_views(run: Run) -> None:
    """One trajectory page per component, which the report's links point into."""
    for status in run.results.manifest.components:
        store = TrajectoryStore(run.folder / status.name)
        if store.path.exists():
            trajectories, _ = store.load()
            write_view(trajectories, store.folder, run.folder / "views" / status.name,
                       title=f"{run.label}: {status.name}")


def write_report(run_dirs: Sequence[Path], out_dir: Path | None = None,
                 labels: Sequence[str] | None = None) -> tuple[Path, Path]:
    """Write `report.md` and `report.html` (default: into the single run's folder); return their paths."""
    runs = load_runs(run_dirs, labels)
    if out_dir is None:
        if len(runs) > 1:
            raise ValueError(f"A report on {len(runs)} runs needs a folder of its own: pass --out DIR (a run's "
                             "folder holds that run's report only).")
        out_dir = runs[0].folder
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for run in runs:
        write_views(run)
    markdown, page = out_dir / "report.md", out_dir / "report.html"
    markdown.write_text(render_markdown(runs, out_dir), encoding="utf-8")
    page.write_text(render_html(runs, out_dir), encoding="utf-8")
    return markdown, page
