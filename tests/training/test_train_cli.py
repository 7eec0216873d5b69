"""`coachgym train ...` and the RFT loop, end to end on the small guess suite."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from coachgym.cli import app
from coachgym.trajectories.store import TrajectoryStore

runner = CliRunner()


def test_train_cli_rejects_a_bad_config_with_the_field_named(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("model: /nowhere\noutput_dir: out\nlearning_rate: fast\n")
    result = runner.invoke(app, ["train", "sft", "--config", str(config)])
    assert result.exit_code == 2
    assert "learning_rate" in result.output and "data" in result.output


def run_rft(tmp_path, student_path, threshold: float):
    config = tmp_path / "rft.yaml"
    config.write_text(
        f"model: {student_path}\noutput_dir: {tmp_path / 'rft'}\nsuite: small-guess\n"
        "tasks: [small-guess-8-4]\nrounds: 1\nsamples_per_task: 2\nmax_new_tokens: 8\n"
        f"threshold: {threshold}\nmax_steps: 2\nreport_to: none\nprogress: false\n")
    return runner.invoke(app, ["train", "rft", "--config", str(config)])


def test_train_cli_rft_keeps_only_rewarded_episodes(tmp_path, student_path):
    result = run_rft(tmp_path, student_path, threshold=0.0)
    assert result.exit_code == 0, result.output
    kept, _ = TrajectoryStore(tmp_path / "rft" / "kept").load()
    assert len(kept) == 2 and all(t.task_id == "small-guess-8-4" for t in kept)
    assert (tmp_path / "rft" / "round-0" / "final" / "config.json").exists()


def test_train_cli_rft_that_keeps_nothing_says_so_and_fails(tmp_path, student_path, one_line_error):
    result = run_rft(tmp_path, student_path, threshold=2.0)
    error = one_line_error(result.exit_code, result.output)
    assert "RFT kept no episode: none of the 2 sampled over 1 round(s) reached reward >= 2" in error
    assert str(student_path) not in result.output  # the input model is not passed off as a result
    assert not (tmp_path / "rft" / "round-0").exists()


@pytest.mark.parametrize("line, message", [
    ("learnig_rate: 0.1", "unknown key 'learnig_rate' (did you mean 'learning_rate'?)"),
    ("batch_size: -1\nlearning_rate: -5", "learning_rate: Input should be greater than 0; batch_size: Input should "
                                         "be greater than or equal to 1"),
    ("lora: {rank: 4}", "lora: unknown key 'rank'"),
])
def test_train_cli_config_mistakes_are_one_line_errors(tmp_path, one_line_error, line, message):
    config = tmp_path / "run.yaml"
    config.write_text(f"model: m\noutput_dir: out\ndata: [{{path: d}}]\n{line}\n")
    result = runner.invoke(app, ["train", "sft", "--config", str(config)])
    error = one_line_error(result.exit_code, result.output)
    assert error.startswith(f"Error: Bad sft config {config}: Invalid SFTRunConfig: ") and message in error


def test_train_dpo_pairs_split_at_the_first_different_action_and_train(tmp_path, suite, student_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from coachgym.agents.scripted import RandomAgent, ScriptedAgent
    from coachgym.training.dpo import preference_pairs, train_dpo
    from coachgym.training.evaluate import make_env
    from coachgym.trajectories.rollout import run_episode

    env = make_env(suite)
    win = run_episode(env, ScriptedAgent(), "small-guess-8-7", 0)
    loss = run_episode(env, RandomAgent(seed=1), "small-guess-8-7", 0)
    env.close()
    assert win.success and not loss.success
    (pair,) = preference_pairs([win, loss])
    assert pair["prompt"][-1]["role"] == "user" and pair["prompt"][0]["role"] == "system"
    assert pair["chosen"][0]["content"] == win.steps[0].action
    assert pair["rejected"][0]["content"] == loss.steps[0].action
    model = AutoModelForCausalLM.from_pretrained(student_path)
    final = train_dpo(model, AutoTokenizer.from_pretrained(student_path), [pair] * 4, tmp_path / "dpo",
                      batch_size=2, learning_rate=1e-2)
    before = AutoModelForCausalLM.from_pretrained(student_path).state_dict()
    after = AutoModelForCausalLM.from_pretrained(final).state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_train_cli_gpu_recipe_runs_on_cpu(tmp_path, student_path, teacher_path):
    """docs/training.md's GPU recipe, as written except the model paths, a shorter run and the
    device flags (vLLM, bf16), through `coachgym train distill`."""
    import json
    import re
    from pathlib import Path

    import yaml

    doc = (Path(__file__).parents[2] / "docs" / "training.md").read_text()
    recipe = yaml.safe_load(re.search(r"<!-- recipe: distill -->\n```yaml\n(.*?)```", doc, re.S).group(1))
    assert recipe["use_vllm"] and recipe["bf16"] and recipe["gradient_checkpointing"]
    recipe |= {"model": str(student_path), "output_dir": str(tmp_path / "run"),
               "teacher": recipe["teacher"] | {"model": str(teacher_path)}, "iterations": 1,
               "tasks_per_iteration": 2, "samples_per_task": 2, "minibatch_size": 2, "max_new_tokens": 8,
               "report_to": "none", "use_vllm": False, "bf16": False}
    config = tmp_path / "recipe.yaml"
    config.write_text(yaml.safe_dump(recipe))
    result = runner.invoke(app, ["train", "distill", "--config", str(config)])
    assert result.exit_code == 0, result.output
    logs = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [log["round"] for log in logs] == [1] and logs[0]["env_steps"] > 0
    assert (tmp_path / "run" / "final" / "config.json").exists()
