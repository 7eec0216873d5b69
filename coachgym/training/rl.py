"""RL on env rewards: GRPO (TRL's `GRPOTrainer`) with coachgym episodes as rollouts.

Each episode's reward minus the mean reward of its task's group (`samples_per_task` episodes;
`scale_by_std` divides by the group's std as in the GRPO paper), on every token the policy sampled
in that episode, with TRL's PPO-clipped loss. The rollouts, the trainer and the loss are shared
with distillation (`onpolicy.py`). This module must not sample or define the loss.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from coachgym.training.onpolicy import OnPolicySettings, RoundLog, train_on_policy


class RLConfig(OnPolicySettings):
    """`coachgym train rl --config run.yaml`."""

    scale_by_std: bool = Field(default=False, description="Divide by the group's reward std (GRPO's "
                               "`scale_rewards: group`); off = plain group-mean baseline (Dr. GRPO).")


def run_rl(config: RLConfig, on_round: RoundLog | None = None) -> Path:
    """Train `config.model` on env rewards; returns the final checkpoint folder. `on_round` sees
    every round's logged record."""
    return train_on_policy(config, scale_rewards="group" if config.scale_by_std else "none", on_round=on_round)
