"""On-policy distillation (Thinking Machines, 2025): the teacher grades the student's own tokens.

The student samples full multi-turn episodes; the teacher scores exactly those token ids in the
same contexts (with the same screenshots, for a VLM student); each sampled token's advantage is
`teacher_lp - student_lp` (the negative reverse KL, discount 0), optionally plus a weighted
env-reward advantage. With a local teacher,
`kl_estimator: full` replaces that one-sample estimate by the exact reverse KL over the whole
vocabulary at the same positions: same expectation, no sampling noise, and, being a loss at fixed
contexts rather than an importance-weighted one, safe to optimise for several epochs per round
(the tiny students of perf/opd_vs_rl only reach the teacher that way). Everything else is the
shared on-policy loop. This module must not sample or define the loss.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import torch
from pydantic import Field, model_validator

from coachgym.training.losses import distill_advantages, group_baseline_advantages
from coachgym.training.onpolicy import AdvantageFn, Batch, IterationLog, OnPolicySettings, train_on_policy
from coachgym.training.sft import load_model
from coachgym.training.teacher import Teacher, TeacherSettings, make_teacher
from coachgym.trajectories.records import Trajectory

KLEstimator = Literal["sampled", "full"]


class DistillConfig(OnPolicySettings):
    """`coachgym train distill --config run.yaml`."""

    teacher: TeacherSettings = Field(description="Who scores the student's tokens (same tokenizer required).")
    reward_coef: float = Field(default=0.0, ge=0, description="Weight of the env-reward advantage added to the "
                               "distillation advantage; 0 = pure distillation.")
    kl_estimator: KLEstimator = Field(
        default="sampled", description="'sampled': the recipe's advantage teacher_lp - student_lp on each sampled "
        "token (any teacher, servers included); 'full': the exact reverse KL of the student's distribution to the "
        "teacher's over the whole vocabulary at every sampled position (a local 'hf' teacher; pairs well with "
        "epochs_per_batch > 1).")

    @model_validator(mode="after")
    def _full_needs_local_teacher(self) -> "DistillConfig":
        if self.kl_estimator == "full" and self.teacher.kind != "hf":
            raise ValueError("kl_estimator 'full' needs the teacher's whole next-token distribution, which a "
                             "server's prompt logprobs do not give; use teacher.kind 'hf' or kl_estimator 'sampled'.")
        return self


def distill_advantage(teacher: Teacher, reward_coef: float = 0.0,
                      kl_estimator: KLEstimator = "sampled") -> AdvantageFn:
    """Advantage function: teacher minus sampler log-prob on sampled tokens (+ reward term). With
    `kl_estimator='full'` only the reward term: the KL is then a loss of its own (`run_distill`)."""

    def reward_only(batch: Batch, trajectories: list[Trajectory], groups: list[str]) -> tuple[torch.Tensor, dict]:
        rewards = [t.reward for t in trajectories]
        return reward_coef * group_baseline_advantages(rewards, groups, batch["mask"], episode=batch["episode"]), {}

    def advantage(batch: Batch, trajectories: list[Trajectory], groups: list[str]) -> tuple[torch.Tensor, dict]:
        lengths = batch["attention_mask"].sum(dim=1).tolist()
        scores = teacher.score([row[:n].tolist() for row, n in zip(batch["ids"], lengths)], batch.get("images"))
        teacher_lp = torch.zeros_like(batch["sampler_logprobs"])
        for row, values in enumerate(scores):
            teacher_lp[row, : len(values)] = torch.tensor(values)
        result = distill_advantages(teacher_lp, batch["sampler_logprobs"], batch["mask"])
        tokens = batch["mask"].sum().clamp(min=1)
        extra = {"reverse_kl": float(-result.sum() / tokens)}
        if reward_coef:
            result = result + reward_only(batch, trajectories, groups)[0]
        return result, extra

    return reward_only if kl_estimator == "full" else advantage


def run_distill(config: DistillConfig, on_iteration: Callable[[IterationLog], None] | None = None) -> Path:
    """Distill `config.teacher` into `config.model` on the suite's tasks; returns the final folder.
    `on_iteration` sees every round's log (what perf scripts plot)."""
    model, tokenizer = load_model(config.model)
    teacher = make_teacher(config.teacher, tokenizer)
    advantage = distill_advantage(teacher, config.reward_coef, config.kl_estimator)
    exact = teacher.distributions if config.kl_estimator == "full" else None
    return train_on_policy(config, advantage, model, tokenizer, on_iteration, teacher_distributions=exact)
