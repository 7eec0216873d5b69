"""`coachgym quickstart --small` end to end: collect, SFT, distil, evaluate, report (CPU, offline)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench_browser import assert_plots_shown, render
from coachgym.benchmarks.runner import read_results
from coachgym.cli import app


@pytest.mark.slow
def test_quickstart_small_runs_the_whole_story_and_its_report_renders(tmp_path):
    result = CliRunner().invoke(app, ["quickstart", "--small", "--out", str(tmp_path / "qs")])
    assert result.exit_code == 0, result.output
    printed = re.search(r"Report: (\S+report\.html)", result.output.replace("\n", ""))
    assert printed, result.output
    page = Path(printed.group(1))
    assert page.exists()
    for stage in ("tasks:", "collect:", "SFT: teacher", "SFT: student", "distill:", "evaluate:"):
        assert stage in result.output
    runs = {name: read_results(tmp_path / "qs" / "eval" / name)
            for name in ("student-before", "student-after", "teacher-sft", "expert")}
    assert runs["expert"].metrics.success_rate == 1.0
    for results in runs.values():  # every model was evaluated on the held-out split only
        assert results.episodes and all(e.task_id.endswith(("-4", "-8")) for e in results.episodes)
        assert sum(results.metrics.components[0].outcomes.values()) == len(results.episodes)
    assert (tmp_path / "qs" / "models" / "student-distilled" / "final" / "config.json").exists()
    shown = render(page, tmp_path / "quickstart.png")
    assert_plots_shown(shown, tmp_path / "quickstart.png")
