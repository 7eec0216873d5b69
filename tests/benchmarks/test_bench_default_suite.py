"""The default benchmark with the scripted experts and the random agent, on every env that runs here."""

from __future__ import annotations

import pytest

from coachgym.benchmarks.runner import EvalConfig, run_eval

# Suites whose scripted expert has a solution for every task. The MiniWoB++ import has no expert
# plans and some imported DBBench reference queries do not reproduce their answers, so there the
# run is checked for complete, categorised results but not for expert success.
EXPERT_SOLVES = {"shell", "database", "browser", "phone", "agentbench-os"}


@pytest.mark.slow
def test_default_benchmark_experts_succeed_random_fails(tmp_path):
    runs = {agent: run_eval(EvalConfig(agent=agent, out=tmp_path / agent, workers=2, limit=2, timeout_s=300))
            for agent in ("scripted", "random")}
    for results in runs.values():
        metrics = results.metrics
        assert {c.name for c in metrics.components} >= EXPERT_SOLVES | {"dbbench", "miniwob"}
        for component in metrics.components:
            assert sum(component.outcomes.values()) == component.episodes
            if component.unavailable:  # reported with the reason, and the score says it is partial
                assert metrics.partial and f"{component.name}: not run ({component.unavailable})" in metrics.problems
            else:
                assert component.episodes == component.planned == 2
    scripted = {c.name: c for c in runs["scripted"].metrics.components if c.unavailable is None}
    assert set(scripted) & EXPERT_SOLVES, runs["scripted"].metrics.problems
    for name in set(scripted) & EXPERT_SOLVES:
        assert scripted[name].success_rate == 1.0, (name, scripted[name].outcomes)
    # every component but MiniWoB++ has a reference, so only it is left out of the overall score
    unreferenced = [p for p in runs["scripted"].metrics.problems if "no reference score" in p]
    assert unreferenced == (["miniwob: no reference score, left out of the overall score"] if "miniwob" in scripted
                            else [])
    assert all(c.normalized is not None for name, c in scripted.items() if name != "miniwob")
    assert runs["random"].metrics.success_rate <= 0.2
