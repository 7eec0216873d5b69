"""The `coachgym` CLI end to end, in subprocesses, as a user runs it."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from coachgym.trajectories import TrajectoryStore

CLI = [sys.executable, "-m", "coachgym.cli"]


def run(*args):
    wide = {**os.environ, "COLUMNS": "250"}  # rich wraps tables to the terminal width
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, env=wide)


def test_envs_and_tasks_listing():
    listing = run("envs", "list")
    assert listing.returncode == 0 and "coachgym/Guess-v0" in listing.stdout
    tasks = run("tasks", "list", "--env", "guess", "--split", "test")
    assert tasks.returncode == 0 and "8 tasks" in tasks.stdout


def test_collect_stats_export_view(tmp_path):
    out = tmp_path / "store"
    result = run("collect", "--env", "guess", "--agent", "scripted", "--out", str(out), "--splits", "dev")
    assert result.returncode == 0, result.stderr
    assert len(TrajectoryStore(out)) == 8
    stats = run("traj", "stats", str(out))
    assert "100.0%" in stats.stdout
    export = run("traj", "export", str(out), "--out", str(tmp_path / "rows.jsonl"))
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert export.returncode == 0 and len(rows) == 8 and rows[0]["conversations"][0]["from"] == "system"
    assert run("traj", "export", str(out), "--out", str(tmp_path / "ds")).returncode == 0
    assert run("traj", "view", str(out)).returncode == 0 and (out / "view" / "index.html").exists()
    missing = run("traj", "stats", str(tmp_path / "nowhere"))
    assert missing.returncode != 0 and "run `coachgym collect` first" in missing.stderr + missing.stdout


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_mid_collection_then_resume_loses_and_duplicates_nothing(tmp_path, workers):
    out = tmp_path / "store"
    seeds = ",".join(str(s) for s in range(40))
    args = [*CLI, "collect", "--env", "guess", "--agent", "scripted", "--out", str(out), "--splits", "train,dev,test",
            "--seeds", seeds, "--workers", str(workers)]
    planned = 40 * 40
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    store = TrajectoryStore(out)
    deadline = time.time() + 120
    while time.time() < deadline and (not store.path.exists() or store.path.stat().st_size < 200_000):
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    before, _ = store.load()
    assert 0 < len(before) < planned, "the kill must land mid-run"
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    after, report = store.load()
    keys = [t.key for t in after]
    assert len(keys) == len(set(keys)) == planned
    assert {t.id for t in before} <= {t.id for t in after}
    assert len(report.problems) <= 1  # at most the one line torn by the kill


@pytest.mark.parametrize("args, message", [
    (["collect", "--env", "nope"], "Unknown env 'nope'; known envs: guess, shell, database, browser, phone."),
    (["tasks", "list", "--env", "nope"], "Unknown env 'nope'; known envs: guess"),
    (["collect", "--env", "guess", "--backend", "nope"], "backend: Input should be 'process' or 'ray'"),
    (["traj", "stats", "nowhere"], "No trajectory store at nowhere/trajectories.jsonl; run `coachgym collect` first."),
])
def test_cli_errors_are_one_line_and_exit_code_2(tmp_path, one_line_error, args, message):
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert message in one_line_error(result.returncode, result.stdout + result.stderr)
    assert not list(tmp_path.iterdir())  # and nothing was written


def test_debug_shows_the_traceback(tmp_path):
    result = run("--debug", "collect", "--env", "nope", "--out", str(tmp_path))
    assert result.returncode != 0 and "Traceback" in result.stderr and "Unknown env 'nope'" in result.stderr


def test_dead_model_server_is_one_line_naming_the_url_and_the_fix(tmp_path, one_line_error):
    agent = "openai:m@http://127.0.0.1:9/v1?max_retries=0"
    result = run("collect", "--env", "guess", "--agent", agent, "--tasks", "guess-000,guess-001",
                 "--out", str(tmp_path))
    error = one_line_error(result.returncode, result.stdout + result.stderr)
    assert "2 of 2 episodes" in error and "agent_error" in error
    (problem,) = [line for line in result.stdout.splitlines() if line.startswith("problem: ")]
    assert problem.startswith(f"problem: agent_error in 2/2 episodes of {agent}: AgentServerError: Cannot reach the "
                              "OpenAI-compatible server at http://127.0.0.1:9/v1")
    assert "fix the URL" in problem
    stored, _ = TrajectoryStore(tmp_path).load()
    assert [t.outcome.value for t in stored] == ["agent_error"] * 2  # recorded, not lost
