"""Benchmark runs shared by the tests: the scripted expert and the random agent on the guess
suite's held-out split, each played once per session by real worker processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from coachgym.benchmarks.runner import EvalConfig, RunResults, run_eval


def run(out: Path, agent: str, **options) -> RunResults:
    return run_eval(EvalConfig(suite="guess", agent=agent, out=out, workers=2, timeout_s=60, **options))


@pytest.fixture(scope="session")
def guess_runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bench-runs")
    for agent in ("scripted", "random"):
        run(root / agent, agent)
    return {"scripted": root / "scripted", "random": root / "random"}
