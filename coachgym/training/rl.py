"""Policy-gradient baseline with env rewards: REINFORCE with a group-mean baseline (GRPO-style).

Same rollouts, same importance-sampled loss as distillation; only the advantage differs: an
episode's reward minus the mean reward of the other episodes of its task, on all its sampled
tokens. This module must not sample or define the loss.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from pydantic import Field

from coachgym.training.losses import group_baseline_advantages
from coachgym.training.onpolicy import AdvantageFn, Batch, IterationLog, OnPolicySettings, train_on_policy
from coachgym.trajectories.records import Trajectory


class RLConfig(OnPolicySettings):
    """`coachgym train rl --config run.yaml`."""

    scale_by_std: bool = Field(default=False, description="Divide by the group's reward std (GRPO); off = "
                               "plain group-mean REINFORCE.")


def reward_advantage(scale_by_std: bool = False) -> AdvantageFn:
    def advantage(batch: Batch, trajectories: list[Trajectory], groups: list[str]) -> tuple[torch.Tensor, dict]:
        rewards = [t.reward for t in trajectories]
        return group_baseline_advantages(rewards, groups, batch["mask"], scale_by_std, batch["episode"]), {}

    return advantage


def run_rl(config: RLConfig, on_iteration: Callable[[IterationLog], None] | None = None) -> Path:
    """Train `config.model` on env rewards; returns the final checkpoint folder. `on_iteration`
    sees every round's log."""
    return train_on_policy(config, reward_advantage(config.scale_by_std), on_iteration=on_iteration)
