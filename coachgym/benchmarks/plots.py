"""Report plots as PNG bytes (matplotlib, Agg backend), for embedding in a self-contained page.

Every plot takes one or more named runs, so the same figures serve a single run's report and a
before/after comparison. Plots only draw what the metrics say; they must not compute scores.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen before pyplot loads
import numpy as np  # noqa: E402

from coachgym.benchmarks.runner import RunResults  # noqa: E402
from coachgym.envs.core import Outcome  # noqa: E402

SUCCESS_COLOR = "#2e9e4f"  # the outcome chart's first segment: episodes that succeeded
OUTCOME_COLORS = {  # the failed episodes, by how they ended
    Outcome.COMPLETED.value: "#3b7dd8",
    Outcome.INVALID_FORMAT.value: "#e0a030",
    Outcome.INVALID_ACTION.value: "#d9622b",
    Outcome.TASK_LIMIT_REACHED.value: "#8c6bb1",
    Outcome.CONTEXT_LIMIT.value: "#6a6a6a",
    Outcome.ENV_ERROR.value: "#c0392b",
    Outcome.AGENT_ERROR.value: "#e84393",
}
Runs = Sequence[tuple[str, RunResults]]


def _png(figure: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()


def _component_names(runs: Runs) -> list[str]:
    names: list[str] = []
    for _, results in runs:
        names += [c.name for c in results.metrics.components if c.name not in names]
    return names


def success_bars(runs: Runs) -> bytes:
    """Success rate per component with bootstrap CIs, one bar per run; 'not run' where unavailable."""
    names = _component_names(runs)
    figure, axes = plt.subplots(figsize=(max(5.0, 1.1 * len(names) * len(runs) + 2), 3.6))
    width = 0.8 / len(runs)
    for offset, (label, results) in enumerate(runs):
        by_name = {c.name: c for c in results.metrics.components}
        xs = np.arange(len(names)) + offset * width - 0.4 + width / 2
        for x, name in zip(xs, names):
            metrics = by_name.get(name)
            if metrics is None or not metrics.episodes:
                axes.text(x, 0.02, "not run", rotation=90, ha="center", va="bottom", fontsize=8, color="#b3261e")
                continue
            low, high = metrics.success_ci
            axes.bar(x, metrics.success_rate, width, color=f"C{offset}", label=label if x == xs[0] else None,
                     yerr=[[metrics.success_rate - low], [high - metrics.success_rate]], capsize=3)
    axes.set_xticks(np.arange(len(names)), names, rotation=20, ha="right")
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("success rate")
    axes.set_title("Success per env suite (95% bootstrap CI)")
    if len(runs) > 1:
        axes.legend(fontsize=8)
    return _png(figure)


def outcome_breakdown(runs: Runs) -> bytes:
    """Stacked share of episodes per (run, component): succeeded, then the failed ones by AgentBench outcome.

    A `completed` episode can have succeeded or failed, so success gets its own colour and each
    outcome's colour stands only for failed episodes.
    """
    rows = []
    for label, results in runs:
        for component in results.metrics.components:
            if component.episodes:
                ended = Counter("succeeded" if e.success else e.outcome.value for e in results.episodes
                                if e.component == component.name)
                rows.append((component.name if len(runs) == 1 else f"{component.name} · {label}", ended,
                             sum(ended.values())))
    segments = {"succeeded": SUCCESS_COLOR, **OUTCOME_COLORS}
    figure, axes = plt.subplots(figsize=(8.5, 0.45 * max(len(rows), 2) + 1.2))
    left = np.zeros(len(rows))
    for segment, color in segments.items():
        shares = np.array([counts.get(segment, 0) / total for _, counts, total in rows])
        if not shares.any():
            continue  # the legend lists only what the chart shows
        name = "completed, failed" if segment == Outcome.COMPLETED.value else segment
        axes.barh(range(len(rows)), shares, left=left, color=color, label=name)
        left += shares
    axes.set_yticks(range(len(rows)), [label for label, _, _ in rows], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("share of episodes")
    axes.set_title("How episodes ended (success, then AgentBench outcomes of the failed)")
    axes.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _png(figure)


def success_vs_steps(runs: Runs) -> bytes:
    """Each episode as a point: steps taken vs success (jittered), coloured by run."""
    figure, axes = plt.subplots(figsize=(6.5, 3.4))
    rng = np.random.default_rng(0)
    for offset, (label, results) in enumerate(runs):
        steps = np.array([e.steps for e in results.episodes], dtype=float)
        success = np.array([e.success for e in results.episodes], dtype=float)
        jitter = rng.uniform(-0.12, 0.12, size=len(steps))
        axes.scatter(steps + rng.uniform(-0.2, 0.2, size=len(steps)), success + jitter, s=14, alpha=0.6,
                     color=f"C{offset}", label=label)
    axes.set_yticks([0, 1], ["failure", "success"])
    axes.set_xlabel("steps taken")
    axes.set_title("Success vs steps (one point per episode)")
    if len(runs) > 1:
        axes.legend(fontsize=8)
    return _png(figure)


PLOTS = {
    "Success per env suite": success_bars,
    "Outcome breakdown": outcome_breakdown,
    "Success vs steps": success_vs_steps,
}
