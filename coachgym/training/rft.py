"""Rejection-sampling fine-tuning (AgentEvol / AutoWebGLM style self-improvement).

Each round the current model samples episodes on the suite's tasks; the episodes with reward at
or above `threshold` are appended to the round's trajectory store, and the model is fine-tuned
(with the SFT trainer, on everything kept so far plus any seed data) before the next round.
With `dpo`, the round's successes and failures of the same task also give step-level preference
pairs for TRL's DPOTrainer. A run that keeps no episode at all trained nothing, and says so
with an error rather than returning the input model. This module must not define a trainer of its own.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from coachgym.errors import UserError
from coachgym.training.config import resolve_report_to
from coachgym.training.data import DataSource, as_chat, mix_sources
from coachgym.training.dpo import preference_pairs, train_dpo
from coachgym.training.evaluate import make_env, play
from coachgym.training.policy import PolicyAgent
from coachgym.training.models import load_model
from coachgym.training.sft import SFTRunConfig, train_sft
from coachgym.trajectories.convert import to_agentinstruct
from coachgym.trajectories.store import TrajectoryStore


class RFTConfig(SFTRunConfig):
    """`coachgym train rft --config run.yaml`: SFT fields apply to every round's fine-tune."""

    data: list[DataSource] = Field(default=[], description="Seed data mixed into every round (may be empty).")
    suite: str = Field(description="Task suite to sample on (registered name or file).")
    tasks: list[str] | None = Field(default=None, description="Task ids (default: the train split).")
    rounds: int = Field(default=3, ge=1, description="Sample-filter-retrain rounds.")
    samples_per_task: int = Field(default=4, ge=1)
    temperature: float = Field(default=1.0, gt=0)
    max_new_tokens: int = Field(default=64, ge=1)
    threshold: float = Field(default=1.0, description="Keep episodes with reward >= threshold.")
    dpo: bool = Field(default=False, description="After each round's SFT, run DPO on step-level pairs from "
                      "successful vs failed episodes of the same task (TRL DPOTrainer).")
    dpo_beta: float = Field(default=0.1, gt=0, description="DPO beta (strength of the reference-model constraint).")


def run_rft(config: RFTConfig) -> Path:
    """Returns the last round's final checkpoint; raises `UserError` when no round kept an episode."""
    model, tokenizer = load_model(config.model)
    env = make_env(config.suite)
    suite = env.unwrapped.suite
    task_ids = config.tasks or [t.id for t in suite.tasks if t.split == "train"] or suite.ids()
    kept = TrajectoryStore(Path(config.output_dir) / "kept")
    final, sampled_count = None, 0
    for round_index in range(config.rounds):
        agent = PolicyAgent(model, tokenizer, temperature=config.temperature, max_new_tokens=config.max_new_tokens,
                            seed=config.seed + round_index, name=f"rft-round-{round_index}")
        plan = [(task, round_index * 1000 + k) for task in task_ids for k in range(config.samples_per_task)]
        sampled = [trajectory for trajectory, _ in play(env, agent, plan)]
        sampled_count += len(sampled)
        for trajectory in sampled:
            if trajectory.reward >= config.threshold:
                kept.append(trajectory)
        trajectories, _ = kept.load()
        if not trajectories:
            continue  # nothing good yet: sample again with a fresh seed
        rows = [as_chat(to_agentinstruct(t)) for t in trajectories] + (mix_sources(config.data, config.seed) if config.data else [])
        round_config = config.model_copy(update={"output_dir": Path(config.output_dir) / f"round-{round_index}"})
        final = train_sft(round_config, model, tokenizer, rows)
        model, tokenizer = load_model(final)
        pairs = preference_pairs(sampled) if config.dpo else []
        if pairs:
            final = train_dpo(model, tokenizer, pairs, round_config.output_dir / "dpo", beta=config.dpo_beta,
                              learning_rate=config.learning_rate, batch_size=config.batch_size,
                              report_to=resolve_report_to(config.report_to), seed=config.seed)
            model, tokenizer = load_model(final)
    env.close()
    if final is None:
        raise UserError(f"RFT kept no episode: none of the {sampled_count} sampled over {config.rounds} round(s) "
                        f"reached reward >= {config.threshold:g}, so nothing was trained. Lower `threshold`, raise "
                        "`samples_per_task` or `rounds`, or start from a model that solves some tasks (e.g. after "
                        "SFT).")
    return final
