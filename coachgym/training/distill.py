"""On-policy distillation (Thinking Machines, 2025): the teacher grades the student's own tokens.

The student plays full multi-turn episodes (`onpolicy.OnPolicyTrainer`, a TRL `GRPOTrainer`);
the teacher scores exactly those token ids in the same contexts (with the same screenshots, for a
VLM student), in one batch per round; each sampled token's advantage is `teacher_lp - student_lp`
(the negative one-sample reverse KL of the student's temperature-T sampling distribution, discount
0), optionally plus `reward_coef` times GRPO's env-reward advantage. With a local teacher,
`kl_estimator: full` replaces that one-sample estimate by the exact reverse KL over the whole
vocabulary at the same positions, at the same temperature (`losses.reverse_kl_loss`). This module
must not sample or define the loss.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from coachgym.training.onpolicy import KLEstimator, OnPolicySettings, RoundLog, train_on_policy
from coachgym.training.teacher import TeacherSettings, make_teacher


class DistillConfig(OnPolicySettings):
    """`coachgym train distill --config run.yaml`."""

    teacher: TeacherSettings = Field(description="Who scores the student's tokens (same tokenizer required).")
    reward_coef: float = Field(default=0.0, ge=0, description="Weight of GRPO's env-reward advantage added to the "
                               "distillation advantage; 0 = pure distillation.")
    kl_estimator: KLEstimator = Field(
        default="sampled", description="Both minimise KL(student at `temperature` || teacher) on the student's "
        "tokens. 'sampled': the recipe's advantage teacher_lp - student_lp on each sampled token (any teacher, "
        "servers included); 'full': the exact divergence over the whole vocabulary at every sampled position (a "
        "local 'hf' teacher; no sampling noise, so several epochs_per_batch are safe).")

    @model_validator(mode="after")
    def _full_needs_local_teacher(self) -> "DistillConfig":
        if self.kl_estimator == "full" and self.teacher.kind != "hf":
            raise ValueError("kl_estimator 'full' needs the teacher's whole next-token distribution, which a "
                             "server's prompt logprobs do not give; use teacher.kind 'hf' or kl_estimator 'sampled'.")
        return self


def run_distill(config: DistillConfig, on_round: RoundLog | None = None) -> Path:
    """Distill `config.teacher` into `config.model` on the suite's tasks; returns the final folder.
    `on_round` sees every round's logged record (what perf scripts plot)."""
    return train_on_policy(config, lambda tokenizer: make_teacher(config.teacher, tokenizer), config.kl_estimator,
                           config.reward_coef, on_round=on_round)
