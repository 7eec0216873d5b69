"""`perf/opd_vs_rl.py --quick` end to end: the comparison's table and its cost accounting.

A smoke run of the real script (real env, real tiny models, both arms through the trainer), not a
timed test: it checks what the figure is built from, not how fast anything is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # about a minute on an idle 2-core box (two SFTs, four one-round runs, six evaluations)
@pytest.mark.timeout(1800)
def test_opd_vs_rl_quick_prints_the_table_and_counts_costs(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "perf/opd_vs_rl.py", "--quick", "--out", str(tmp_path)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=1700, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "load average" in out and "42 held-out tasks" in out and "84 training tasks" in out
    sweep = out[out.index("sweep (seed 0"):out.index("best setting per arm")]
    assert [line.split()[0] for line in sweep.splitlines()[2:] if line.strip()] == ["distill", "rl"]
    table = out[out.index("best setting per arm"):].splitlines()
    assert table[1].split()[:6] == ["arm", "lr", "samples", "env", "steps", "FLOPs"]
    assert [line.split()[0] for line in table[2:4]] == ["distill", "rl"]

    report = json.loads((tmp_path / "opd_vs_rl.json").read_text())
    runs = report["runs"]
    assert sorted((r["arm"], r["seed"]) for r in runs) == [("distill", 0), ("distill", 1), ("rl", 0), ("rl", 1)]
    for run in runs:
        points = run["points"]
        assert points[0]["flops"] == 0 and points[0]["env_steps"] == 0
        assert len(points) >= 2
        for before, after in pairwise(points):
            assert after["flops"] > before["flops"] and after["env_steps"] > before["env_steps"]
            assert after["wall_s"] > before["wall_s"]
    # The same rollouts cost distillation more than RL: the teacher scores every token.
    per_step = {r["arm"]: r["points"][-1]["flops"] / r["points"][-1]["env_steps"] for r in runs if r["seed"] == 0}
    assert per_step["distill"] > per_step["rl"] > 0
