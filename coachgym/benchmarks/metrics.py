"""Benchmark metrics: per-component scores, AgentBench outcome counts, and the overall score.

A component's score is its success rate. The overall score follows AgentBench: each component's
score is divided by its reference score (the average of reference agents, recorded in the suite
file) and the normalised scores are averaged, so an easy env cannot dominate. Confidence
intervals are `scipy.stats.bootstrap` percentile intervals over episodes (resampled within each
component), with a fixed generator seed so a report is reproducible.

Components that could not run, or ran only partly, stay in the metrics with the reason and make
the overall score `partial`; they are never silently dropped. Episodes that ended in
`agent_error` or `env_error` are listed too (`errors`), with their commonest error. This module
reads results; it must not run episodes or read stores.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from pydantic import BaseModel, Field
from scipy.stats import bootstrap

from coachgym.benchmarks.records import ComponentStatus, EpisodeResult
from coachgym.envs.core import Outcome
from coachgym.trajectories.stats import ERROR_OUTCOMES, error_lines

BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 0  # fixed, so a report rebuilt from the same episodes shows the same intervals
CONFIDENCE = 0.95


class ComponentMetrics(BaseModel):
    name: str
    env: str | None
    planned: int = Field(description="Episodes the run planned for this component.")
    episodes: int = Field(description="Episodes with a stored result.")
    unavailable: str | None = None
    success_rate: float = 0.0
    success_ci: tuple[float, float] = (0.0, 0.0)
    avg_reward: float = 0.0
    outcomes: dict[str, int] = Field(default_factory=dict, description="Count per AgentBench outcome; sums to `episodes`.")
    avg_steps: float = 0.0
    avg_tokens: float = 0.0
    avg_wall_time_s: float = 0.0
    reference: float | None = None
    normalized: float | None = Field(default=None, description="success_rate / reference (None without a reference).")


class RunMetrics(BaseModel):
    components: list[ComponentMetrics]
    episodes: int
    success_rate: float = Field(description="Over all episodes (micro average).")
    overall_score: float | None = Field(description="Mean of normalised component scores (AgentBench overall).")
    overall_ci: tuple[float, float] | None = None
    partial: bool = Field(description="True when a component could not run, ran only partly, or lacks a reference.")
    problems: list[str] = Field(default=[], description="Why the overall score is partial, one line per component.")
    errors: list[str] = Field(default=[], description="Episodes that ended in agent_error or env_error: one line per "
                              "component and outcome, with the commonest error.")
    confidence: float = CONFIDENCE

    def error_episodes(self) -> int:
        """Episodes that ended in `agent_error` or `env_error`."""
        return sum(c.outcomes.get(o.value, 0) for c in self.components for o in ERROR_OUTCOMES)


def _interval(samples: Sequence[np.ndarray], statistic: Callable[..., np.ndarray]) -> tuple[float, float]:
    """Seeded percentile-bootstrap interval of `statistic(*samples, axis=...)`, each sample resampled on
    its own (so a benchmark's interval resamples within each component: a stratified bootstrap)."""
    # scipy wants two observations per sample; [x, x] resamples exactly as [x] does (always x).
    samples = [np.repeat(sample, 2) if len(sample) == 1 else sample for sample in samples]
    result = bootstrap(samples, statistic, n_resamples=BOOTSTRAP_SAMPLES, confidence_level=CONFIDENCE,
                       method="percentile", rng=np.random.default_rng(BOOTSTRAP_SEED))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _component(status: ComponentStatus, results: Sequence[EpisodeResult], planned: int
               ) -> tuple[ComponentMetrics, np.ndarray | None]:
    """Metrics for one component, and its episodes' successes as 0/1 (None if no episodes)."""
    metrics = ComponentMetrics(name=status.name, env=status.env, planned=planned, episodes=len(results),
                               unavailable=status.unavailable, reference=status.reference,
                               outcomes={outcome.value: 0 for outcome in Outcome})
    if not results:
        return metrics, None
    success = np.array([r.success for r in results], dtype=float)
    metrics.outcomes.update(Counter(r.outcome.value for r in results))
    metrics.success_rate = float(success.mean())
    metrics.success_ci = _interval([success], np.mean)
    metrics.avg_reward = float(np.mean([r.reward for r in results]))
    metrics.avg_steps = float(np.mean([r.steps for r in results]))
    metrics.avg_tokens = float(np.mean([r.tokens for r in results]))
    metrics.avg_wall_time_s = float(np.mean([r.wall_time_s for r in results]))
    if status.reference:
        metrics.normalized = metrics.success_rate / status.reference
    return metrics, success


def compute_metrics(statuses: Sequence[ComponentStatus], episodes: Sequence[EpisodeResult],
                    planned: dict[str, int]) -> RunMetrics:
    """Metrics for a run; `planned` maps each component to the episodes the run planned for it."""
    components, scored, references, problems, errors = [], [], [], [], []
    for status in statuses:
        results = [e for e in episodes if e.component == status.name]
        metrics, success = _component(status, results, planned.get(status.name, 0))
        components.append(metrics)
        if results:
            errors += [f"{status.name}: {line}" for line in error_lines([(r.outcome, r.error) for r in results],
                                                                        results[0].agent)]
        if status.unavailable:
            problems.append(f"{status.name}: not run ({status.unavailable})")
        elif metrics.episodes < metrics.planned:
            problems.append(f"{status.name}: only {metrics.episodes} of {metrics.planned} episodes finished")
        if success is None:
            continue
        if metrics.normalized is None:
            problems.append(f"{status.name}: no reference score, left out of the overall score")
            continue
        scored.append(success)
        references.append(status.reference)
    overall = overall_ci = None
    if scored:
        overall = float(np.mean([c.normalized for c in components if c.normalized is not None and c.episodes]))

        def overall_score(*successes: np.ndarray, axis: int = -1) -> np.ndarray:
            return np.mean([s.mean(axis=axis) / ref for s, ref in zip(successes, references)], axis=0)

        overall_ci = _interval(scored, overall_score)
    total = len(episodes)
    return RunMetrics(components=components, episodes=total,
                      success_rate=sum(e.success for e in episodes) / total if total else 0.0,
                      overall_score=overall, overall_ci=overall_ci, partial=bool(problems), problems=problems,
                      errors=errors)
