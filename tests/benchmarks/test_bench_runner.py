"""The benchmark runner end to end: real worker processes, the real guess env, real stores."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from markupsafe import escape
from pydantic import ValidationError
from typer.testing import CliRunner

from bench_agents import CRASH_TASK, HANG_TASK
from coachgym.benchmarks.quickstart import check_runs
from coachgym.benchmarks.runner import EvalConfig, read_results, run_eval, task_seed
from coachgym.benchmarks.suites import evaluation_overlap, resolve_bench, warn_evaluation_overlap
from coachgym.cli import app
from coachgym.envs.core import Outcome
from coachgym.envs.registry import load_suite
from coachgym.errors import UserError
from coachgym.trajectories.store import TrajectoryStore

GUESS_TEST_TASKS = load_suite("guess").split("test").ids()


def test_scripted_solves_everything_random_solves_nothing(guess_runs):
    scripted, random = (read_results(guess_runs[name]) for name in ("scripted", "random"))
    assert scripted.metrics.success_rate == 1.0 and scripted.metrics.overall_score == 1.0
    assert random.metrics.success_rate <= 0.2
    for results in (scripted, random):
        (component,) = results.metrics.components
        assert component.planned == component.episodes == len(GUESS_TEST_TASKS)
        assert sum(component.outcomes.values()) == len(GUESS_TEST_TASKS)
        assert set(component.outcomes) == {o.value for o in Outcome}
        assert not results.metrics.partial
        assert [e.task_id for e in results.episodes] == GUESS_TEST_TASKS  # held-out split only, in plan order


def test_every_result_has_its_full_trajectory_with_the_fixed_seed(guess_runs):
    results = read_results(guess_runs["scripted"])
    stored = {t.id: t for t in TrajectoryStore(guess_runs["scripted"] / "guess").read()}
    for episode in results.episodes:
        trajectory = stored[episode.trajectory_id]
        assert trajectory.seed == episode.seed == task_seed(episode.task_id, 0, 0)
        assert len(trajectory.steps) == episode.steps > 0
        assert trajectory.steps[-1].action.strip().endswith(")")


KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from coachgym.benchmarks.runner import EvalConfig, run_eval

    finished = []

    def on_episode(result):
        finished.append(result)
        if len(finished) == 3:
            os.kill(os.getpid(), signal.SIGKILL)

    run_eval(EvalConfig(suite="guess", agent="random", out=Path(sys.argv[1]), workers=2, timeout_s=60), on_episode)
""")


def test_sigkill_then_resume_gives_identical_results(guess_runs, tmp_path):
    out = tmp_path / "killed"
    killed = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(out)], capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    store = TrajectoryStore(out / "guess")
    assert len(store) == 3  # killed mid-run, with other episodes in flight
    with open(store.path, "ab") as handle:  # and as if a write had been torn by the kill
        handle.write(b'{"id": "torn", "task_id": "guess-0')

    resumed = CliRunner().invoke(app, ["eval", "--suite", "guess", "--agent", "random", "--out", str(out),
                                       "--workers", "2", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "report:" in resumed.output
    final, reference = read_results(out), read_results(guess_runs["random"])
    assert [e.verdict() for e in final.episodes] == [e.verdict() for e in reference.episodes]
    assert final.metrics.model_dump(exclude={"components"}) == reference.metrics.model_dump(exclude={"components"})
    assert len(TrajectoryStore(out / "guess").finished_keys()) == len(GUESS_TEST_TASKS)  # nothing replayed twice


def test_hung_and_crashing_episodes_are_recorded_and_the_run_goes_on(tmp_path):
    results = run_eval(EvalConfig(suite="guess", agent="faulty", agent_factory="bench_agents:FaultyAgent",
                                  out=tmp_path / "faulty", workers=2, timeout_s=4))
    by_task = {e.task_id: e for e in results.episodes}
    assert len(by_task) == len(GUESS_TEST_TASKS)
    assert by_task[HANG_TASK].outcome is Outcome.TASK_LIMIT_REACHED and "timed out" in by_task[HANG_TASK].error
    assert by_task[CRASH_TASK].outcome is Outcome.ENV_ERROR and "died" in by_task[CRASH_TASK].error
    others = [e for t, e in by_task.items() if t not in (HANG_TASK, CRASH_TASK)]
    assert all(e.success for e in others)
    assert results.metrics.components[0].outcomes["env_error"] == 1


def test_missing_suite_is_reported_not_dropped(tmp_path):
    bench = tmp_path / "bench.yaml"
    bench.write_text(json.dumps({"name": "mixed", "components": [
        {"name": "guess", "suite": "guess", "limit": 1},
        {"name": "ghost", "suite": "no-such-suite", "reference": 0.5}]}))
    results = run_eval(EvalConfig(suite=str(bench), agent="scripted", out=tmp_path / "run"))
    ghost = results.metrics.components[1]
    assert ghost.name == "ghost" and ghost.episodes == 0 and "no-such-suite" in ghost.unavailable
    assert results.metrics.partial and any(p.startswith("ghost: not run") for p in results.metrics.problems)
    assert results.metrics.overall_score == 1.0  # over what ran, and flagged partial


def test_run_folder_is_not_overwritten_or_resumed_with_other_options(guess_runs):
    with pytest.raises(FileExistsError, match="--resume"):
        run_eval(EvalConfig(suite="guess", agent="scripted", out=guess_runs["scripted"]))
    with pytest.raises(ValueError, match="agent"):
        run_eval(EvalConfig(suite="guess", agent="random", out=guess_runs["scripted"], resume=True))
    result = CliRunner().invoke(app, ["eval", "--suite", "nope", "--out", str(guess_runs["scripted"].parent / "x")])
    assert result.exit_code != 0 and "Unknown benchmark or suite 'nope'" in result.output


def test_training_on_evaluation_tasks_is_flagged(guess_runs):
    held_out = list(TrajectoryStore(guess_runs["scripted"] / "guess").read())
    assert evaluation_overlap(held_out, resolve_bench("guess")) == sorted(f"guess/{t}" for t in GUESS_TEST_TASKS)
    with pytest.warns(UserWarning, match="evaluation split"):
        warn_evaluation_overlap(held_out, "guess")
    training = [t.model_copy(update={"task_id": "guess-000"}) for t in held_out]
    assert evaluation_overlap(training, "guess") == []


def test_default_benchmark_lists_every_env_suite():
    bench = resolve_bench("coachgym-bench")
    assert {c.suite for c in bench.components} >= {"shell", "database", "browser", "phone", "agentbench-os",
                                                    "dbbench", "miniwob"}
    assert bench.split == "test"
    assert os.path.exists(Path(__file__).parent / "bench_agents.py")


def eval_cli(*args: str):
    return CliRunner().invoke(app, ["eval", "--suite", "guess", "--limit", "3", *args])


def test_agent_that_raises_is_agent_error_in_results_terminal_and_report(tmp_path):
    out = tmp_path / "broken"
    result = eval_cli("--agent", "broken", "--agent-factory", "bench_agents:BrokenAgent", "--out", str(out))
    line = "guess: agent_error in 3/3 episodes of broken: AttributeError: 'NoneType' object has no attribute 'generate'"
    assert result.exit_code == 2 and f"problem: broken: {line}\n" in result.output, result.output
    assert "3 of 3 episodes" in result.output.splitlines()[-1] and "Traceback" not in result.output
    results = read_results(out)
    assert [e.outcome for e in results.episodes] == [Outcome.AGENT_ERROR] * 3
    assert results.metrics.components[0].outcomes["agent_error"] == 3
    page = (out / "report.html").read_text()
    problems_box = page[page.index('<div class="problems">'):]
    assert str(escape(f"broken: {line}")) in problems_box[:problems_box.index("</div>")]
    episode_pages = list((out / "views" / "guess" / "episodes").glob("*.html"))
    assert len(episode_pages) == 3 and all("in act" in p.read_text() for p in episode_pages)  # with the traceback
    logged = []
    with pytest.raises(UserError, match="of the quickstart's 'model' run .*plays the failed episodes again"):
        check_runs({"model": out}, out / "report.html", log=logged.append)
    assert logged == [f"problem: model: {line}"]


def test_resume_plays_errored_episodes_again_and_their_new_results_count(tmp_path, monkeypatch):
    outage = tmp_path / "outage"
    outage.touch()
    monkeypatch.setenv("COACHGYM_TEST_OUTAGE", str(outage))
    out = tmp_path / "run"
    args = ("--agent", "flaky", "--agent-factory", "bench_agents:FlakyAgent", "--out", str(out))
    failed = eval_cli(*args)
    assert failed.exit_code == 2 and "--resume" in failed.output.splitlines()[-1], failed.output
    assert read_results(out).metrics.components[0].outcomes["agent_error"] == 3
    outage.unlink()  # the server is back
    resumed = eval_cli(*args, "--resume")
    assert resumed.exit_code == 0, resumed.output
    results = read_results(out)
    assert results.metrics.success_rate == 1.0 and len(results.episodes) == 3
    assert [t.outcome for t in TrajectoryStore(out / "guess").read()] == [Outcome.AGENT_ERROR] * 3 + [
        Outcome.COMPLETED] * 3  # append-only: the failed records stay, the newer ones count
    again = eval_cli(*args, "--resume")  # nothing left to play
    assert again.exit_code == 0 and len(TrajectoryStore(out / "guess")) == 6


@pytest.mark.parametrize("rerun", [[], ["--resume"]])
def test_a_failed_start_does_not_block_the_corrected_run(tmp_path, one_line_error, rerun):
    out = str(tmp_path / "run")
    failed = eval_cli("--agent", "mine", "--agent-factory", "bench_agents:UnloadableAgent", "--out", out)
    error = one_line_error(failed.exit_code, failed.output)
    assert "Agent 'mine' could not be created: OSError: no weights at /models/missing" in error
    fixed = eval_cli("--agent", "scripted", "--out", out, *rerun)
    assert fixed.exit_code == 0, fixed.output
    assert read_results(Path(out)).metrics.success_rate == 1.0


def test_misspelt_benchmark_key_is_named_with_the_close_match(tmp_path, one_line_error):
    bench = tmp_path / "bench.yaml"
    bench.write_text("name: b\ncomponents:\n  - {name: guess, suite: guess, refrence: 0.5}\n")
    result = CliRunner().invoke(app, ["eval", "--suite", str(bench), "--out", str(tmp_path / "run")])
    assert "unknown key 'refrence' (did you mean 'reference'?)" in one_line_error(result.exit_code, result.output)
    with pytest.raises(ValidationError, match="did you mean 'workers'"):
        EvalConfig(out=tmp_path, workres=2)
    with pytest.raises(ValidationError, match="timeout_s"):
        EvalConfig(out=tmp_path, timeout_s=-1)
