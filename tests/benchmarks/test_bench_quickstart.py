"""`coachgym quickstart --small` end to end: collect, SFT, distil, evaluate, report (CPU, offline)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench_browser import assert_plots_shown, render
from coachgym.benchmarks.runner import read_results
from coachgym.trajectories.store import TrajectoryStore


@pytest.mark.slow
def test_quickstart_small_runs_the_whole_story_and_its_report_renders(quickstart_small, tmp_path):
    out, output = quickstart_small  # `coachgym quickstart --small --out DIR`, run once per session
    printed = re.search(r"Report: (\S+report\.html)", output.replace("\n", ""))
    assert printed, output
    page = Path(printed.group(1))
    assert page.exists()
    for stage in ("tasks:", "collect:", "SFT: teacher", "SFT: student", "distill:", "evaluate:"):
        assert stage in output
    runs = {name: read_results(out / "eval" / name)
            for name in ("student-before", "student-after", "teacher-sft", "expert")}
    assert runs["expert"].metrics.success_rate == 1.0
    for results in runs.values():  # every model was evaluated on the held-out split only
        assert results.episodes and all(e.task_id.endswith(("-4", "-8")) for e in results.episodes)
        assert sum(results.metrics.components[0].outcomes.values()) == len(results.episodes)
    models = out / "models"
    for name in ("teacher-sft", "student-warm", "student-distilled"):  # every trained model is the VLM
        config = json.loads((models / name / "final" / "config.json").read_text())
        assert config["model_type"] == "coachgym_crossattn_vlm", name
        assert (models / name / "final" / "processor_config.json").exists()
    teacher = json.loads((models / "teacher-sft" / "final" / "config.json").read_text())
    student = json.loads((models / "student-distilled" / "final" / "config.json").read_text())
    assert student["text_config"]["hidden_size"] < teacher["text_config"]["hidden_size"]
    demos, _ = TrajectoryStore(out / "trajectories").load()
    assert demos and all(step.image for t in demos for step in t.steps)  # SFT data has screenshots
    for name in ("student-after", "teacher-sft"):  # and the models played with them
        played, _ = TrajectoryStore(out / "eval" / name / "quickstart-guess").load()
        assert played and all(step.image and "[screenshot attached" in step.observation
                              for t in played for step in t.steps)
    shown = render(page, tmp_path / "quickstart.png")
    assert_plots_shown(shown, tmp_path / "quickstart.png")
