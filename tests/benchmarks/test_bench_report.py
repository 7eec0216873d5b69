"""Reports and comparisons: markdown, the self-contained HTML page rendered in real Chromium, the CLI."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from bench_browser import assert_plots_shown, render

from coachgym.benchmarks.metrics import compute_metrics
from coachgym.benchmarks.plots import OUTCOME_COLORS, SUCCESS_COLOR, outcome_breakdown
from coachgym.benchmarks.report import write_report
from coachgym.benchmarks.runner import ComponentStatus, EpisodeResult, read_results
from coachgym.cli import app
from coachgym.envs.core import Outcome


@pytest.fixture(scope="module")
def comparison(guess_runs, tmp_path_factory) -> tuple[Path, Path]:
    return write_report([guess_runs["scripted"], guess_runs["random"]], tmp_path_factory.mktemp("compare"))


def test_html_report_renders_with_plots_and_trajectory_links(comparison, tmp_path):
    _, page_path = comparison
    shown = render(page_path, tmp_path / "report.png")
    assert_plots_shown(shown, tmp_path / "report.png")
    assert shown["links"]
    for link in shown["links"]:
        assert (page_path.parent / link.split("#")[0]).resolve().exists()
    assert "/views/guess/episodes/" in shown["landed"]


def test_markdown_report_compares_runs(comparison):
    markdown = comparison[0].read_text()
    assert "| scripted | scripted | guess | 1.000 [1.000, 1.000] | 100.0% | 8 |" in markdown
    assert "(-100.0 pp)" in markdown  # random vs the scripted baseline: success rates change in points
    assert "(-1.000)" in markdown  # and the overall score in score units
    assert "/scripted/views/guess/index.html)" in markdown
    assert "Problems" not in markdown


def test_compare_and_report_commands(guess_runs, tmp_path):
    runner = CliRunner()
    compared = runner.invoke(app, ["compare", str(guess_runs["scripted"]), str(guess_runs["random"])])
    assert compared.exit_code == 0, compared.output
    assert "-100.0 pp" in compared.output and "-1.000" in compared.output and "overall" in compared.output
    reported = runner.invoke(app, ["report", str(guess_runs["random"])])
    assert reported.exit_code == 0, reported.output
    assert (guess_runs["random"] / "report.html").exists()
    assert (guess_runs["random"] / "views" / "guess" / "index.html").exists()


def test_report_cli_errors_are_one_line(guess_runs, tmp_path, one_line_error):
    runner = CliRunner()
    missing = runner.invoke(app, ["report", str(tmp_path)])
    assert "run `coachgym eval` first" in one_line_error(missing.exit_code, missing.output)
    several = runner.invoke(app, ["report", str(guess_runs["scripted"]), str(guess_runs["random"])])
    assert "A report on 2 runs needs a folder of its own: pass --out DIR" in one_line_error(several.exit_code,
                                                                                             several.output)


def test_results_survive_a_lost_results_file(guess_runs, tmp_path):
    results_file = guess_runs["random"] / "results.json"
    before = read_results(guess_runs["random"])
    results_file.unlink()
    rebuilt = read_results(guess_runs["random"])  # rebuilt from the trajectory store
    assert results_file.exists()
    assert [e.verdict() for e in rebuilt.episodes] == [e.verdict() for e in before.episodes]


def _episodes(component: str, successes: list[bool]) -> list[EpisodeResult]:
    return [EpisodeResult(component=component, env="guess", task_id=f"t{i}", seed=i, agent="a", success=ok,
                          reward=float(ok), outcome=Outcome.COMPLETED if ok else Outcome.TASK_LIMIT_REACHED, steps=3,
                          invalid_actions=0, tokens=10, wall_time_s=0.1, trajectory_id=f"{component}{i}")
            for i, ok in enumerate(successes)]


def test_overall_score_is_normalised_per_suite_with_bootstrap_intervals():
    statuses = [ComponentStatus(name="easy", suite="s", env="guess", split="test", tasks=10, reference=0.8),
                ComponentStatus(name="hard", suite="s", env="guess", split="test", tasks=10, reference=0.2)]
    episodes = _episodes("easy", [True] * 8 + [False] * 2) + _episodes("hard", [True] * 2 + [False] * 8)
    metrics = compute_metrics(statuses, episodes, planned={"easy": 10, "hard": 10})
    easy, hard = metrics.components
    assert easy.normalized == pytest.approx(1.0) and hard.normalized == pytest.approx(1.0)
    assert metrics.overall_score == pytest.approx(1.0)  # the hard suite counts as much as the easy one
    low, high = metrics.overall_ci
    assert low < 1.0 < high and high - low < 2.0
    assert easy.success_ci[0] < 0.8 < easy.success_ci[1]
    assert easy.outcomes["completed"] == 8 and easy.outcomes["task_limit_reached"] == 2
    assert not metrics.partial
    again = compute_metrics(statuses, episodes, planned={"easy": 10, "hard": 10})
    assert again.overall_ci == metrics.overall_ci  # fixed bootstrap seed: reports are reproducible
    partial = compute_metrics(statuses, episodes[:10], planned={"easy": 10, "hard": 10})
    assert partial.partial and partial.problems == ["hard: only 0 of 10 episodes finished"]


def test_results_written_before_agent_error_existed_still_load_and_render(guess_runs, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(guess_runs["random"], old)
    data = json.loads((old / "results.json").read_text())
    del data["metrics"]["errors"]
    for component in data["metrics"]["components"]:
        del component["outcomes"]["agent_error"]
    (old / "results.json").write_text(json.dumps(data))
    results = read_results(old)
    assert results.metrics.errors == [] and results.metrics.error_episodes() == 0
    _, page = write_report([old])
    assert "Problems" not in page.read_text()


def test_every_outcome_has_a_plot_colour():
    assert set(OUTCOME_COLORS) == {outcome.value for outcome in Outcome}


def _colours(png: bytes) -> set[str]:
    return {"#%02x%02x%02x" % rgb for _, rgb in Image.open(io.BytesIO(png)).convert("RGB").getcolors(1 << 20)}


def test_outcome_chart_tells_succeeded_from_failed_completed_episodes(guess_runs):
    results = read_results(guess_runs["scripted"])
    assert all(e.success and e.outcome is Outcome.COMPLETED for e in results.episodes)
    half = results.model_copy(update={"episodes": [e.model_copy(update={"success": i % 2 == 0})
                                                   for i, e in enumerate(results.episodes)]})
    completed = OUTCOME_COLORS[Outcome.COMPLETED.value]
    all_succeeded = _colours(outcome_breakdown([("scripted", results)]))
    assert SUCCESS_COLOR in all_succeeded and completed not in all_succeeded
    assert {SUCCESS_COLOR, completed} <= _colours(outcome_breakdown([("half", half)]))


def test_html_report_escapes_run_text(guess_runs, tmp_path):
    _, page = write_report([guess_runs["random"]], tmp_path, labels=["<script>alert(1)</script>"])
    text = page.read_text()
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
