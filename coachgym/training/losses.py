"""Per-token log-probs, advantages and the importance-sampled policy-gradient loss.

Distillation and RL share every line here except the advantage: on-policy distillation uses
`teacher_lp - student_lp` on each sampled token (negative reverse KL, discount 0); RL uses the
episode reward minus its task group's mean, on every sampled token. Both then minimise
`-sum(exp(logp_theta - logp_sampler) * A) / tokens` over sampled (agent) tokens only, so
environment tokens never carry gradient. This module must not sample or run envs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import PreTrainedModel

from coachgym.training.policy import EpisodeTokens


def pad_episodes(episodes: Sequence[EpisodeTokens], pad_id: int = 0) -> dict[str, torch.Tensor]:
    """Right-padded `ids`, `attention_mask`, agent-token `mask` and `sampler_logprobs` tensors."""
    length = max(len(e.ids) for e in episodes)

    def padded(values: list, fill, dtype) -> torch.Tensor:
        return torch.tensor([v + [fill] * (length - len(v)) for v in values], dtype=dtype)

    return {
        "ids": padded([e.ids for e in episodes], pad_id, torch.long),
        "attention_mask": padded([[1] * len(e.ids) for e in episodes], 0, torch.long),
        "mask": padded([e.mask for e in episodes], 0, torch.float32),
        "sampler_logprobs": padded([e.sampler_logprobs for e in episodes], 0.0, torch.float32),
    }


def token_logprobs(model: PreTrainedModel, ids: torch.Tensor, attention_mask: torch.Tensor,
                   temperature: float = 1.0) -> torch.Tensor:
    """`out[b, t] = log p(ids[b, t] | ids[b, :t])` at `temperature`; position 0 (no context) is 0."""
    device = next(model.parameters()).device
    logits = model(input_ids=ids.to(device), attention_mask=attention_mask.to(device), use_cache=False).logits
    logp = torch.log_softmax(logits[:, :-1].float() / temperature, dim=-1)
    picked = logp.gather(-1, ids[:, 1:, None].to(device)).squeeze(-1)
    return torch.cat([torch.zeros_like(picked[:, :1]), picked], dim=1)


def distill_advantages(teacher_logprobs: torch.Tensor, student_logprobs: torch.Tensor,
                       mask: torch.Tensor) -> torch.Tensor:
    """Per-token advantage of on-policy distillation: teacher minus student log-prob of each
    sampled token (zero on environment tokens)."""
    return (teacher_logprobs - student_logprobs) * mask


def group_baseline_advantages(rewards: Sequence[float], groups: Sequence[str], mask: torch.Tensor,
                              scale_by_std: bool = False) -> torch.Tensor:
    """REINFORCE with a group-mean baseline (GRPO-style): each episode's reward minus the mean
    reward of the episodes of the same task, on all its sampled tokens."""
    reward = torch.tensor(rewards, dtype=torch.float32)
    advantage = torch.zeros_like(reward)
    for group in set(groups):
        members = torch.tensor([g == group for g in groups])
        centered = reward[members] - reward[members].mean()
        if scale_by_std and members.sum() > 1:
            centered = centered / (reward[members].std() + 1e-6)
        advantage[members] = centered
    return advantage[:, None] * mask


def importance_sampled_pg_loss(logprobs: torch.Tensor, sampler_logprobs: torch.Tensor, advantages: torch.Tensor,
                               weights: torch.Tensor) -> torch.Tensor:
    """`-sum(w * exp(logp - logp_sampler) * A) / sum(w)`; `weights` is the agent-token mask (or any
    non-negative token weighting). Advantages are constants: no gradient flows through them."""
    ratio = torch.exp(logprobs - sampler_logprobs.to(logprobs.device))
    weights = weights.to(logprobs.device)
    return -(weights * ratio * advantages.detach().to(logprobs.device)).sum() / weights.sum().clamp(min=1e-8)
