"""The default benchmark with the scripted experts and the random agent, on every env that runs here."""

from __future__ import annotations

import pytest

from coachgym.benchmarks.runner import EvalConfig, run_eval


@pytest.mark.slow
def test_default_benchmark_experts_succeed_random_fails(tmp_path):
    runs = {agent: run_eval(EvalConfig(agent=agent, out=tmp_path / agent, workers=2, limit=2, timeout_s=300))
            for agent in ("scripted", "random")}
    scripted, random = runs["scripted"].metrics, runs["random"].metrics
    ran = [c for c in scripted.components if c.unavailable is None]
    assert ran, scripted.problems
    for component in scripted.components:
        assert sum(component.outcomes.values()) == component.episodes == component.planned
        if component.unavailable:  # reported with the reason, and the score says it is partial
            assert scripted.partial and any(p.startswith(f"{component.name}: not run") for p in scripted.problems)
    assert scripted.success_rate >= 0.8, [(c.name, c.success_rate) for c in ran]
    assert random.success_rate <= 0.2, [(c.name, c.success_rate) for c in random.components]
