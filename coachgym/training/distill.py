"""On-policy distillation (Thinking Machines, 2025): the teacher grades the student's own tokens.

The student samples full multi-turn episodes; the teacher scores exactly those token ids in the
same contexts (with the same screenshots, for a VLM student); each sampled token's advantage is `teacher_lp - student_lp` (the negative reverse
KL, discount 0), optionally plus a weighted env-reward advantage. Everything else is the shared
on-policy loop. This module must not sample or define the loss.
"""

from __future__ import annotations

from pathlib import Path

import torch
from pydantic import Field

from coachgym.training.losses import distill_advantages, group_baseline_advantages
from coachgym.training.onpolicy import AdvantageFn, Batch, OnPolicySettings, train_on_policy
from coachgym.training.sft import load_model
from coachgym.training.teacher import Teacher, TeacherSettings, make_teacher
from coachgym.trajectories.records import Trajectory


class DistillConfig(OnPolicySettings):
    """`coachgym train distill --config run.yaml`."""

    teacher: TeacherSettings = Field(description="Who scores the student's tokens (same tokenizer required).")
    reward_coef: float = Field(default=0.0, ge=0, description="Weight of the env-reward advantage added to the "
                               "distillation advantage; 0 = pure distillation.")


def distill_advantage(teacher: Teacher, reward_coef: float = 0.0) -> AdvantageFn:
    """Advantage function: teacher minus sampler log-prob on sampled tokens (+ reward term)."""

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
            result = result + reward_coef * group_baseline_advantages([t.reward for t in trajectories], groups,
                                                                      batch["mask"], episode=batch["episode"])
        return result, extra

    return advantage


def run_distill(config: DistillConfig) -> Path:
    """Distill `config.teacher` into `config.model` on the suite's tasks; returns the final folder."""
    model, tokenizer = load_model(config.model)
    teacher = make_teacher(config.teacher, tokenizer)
    return train_on_policy(config, distill_advantage(teacher, config.reward_coef), model, tokenizer)
