"""Per-token log-probs, advantages and the importance-sampled policy-gradient loss.

Distillation and RL share every line here except the advantage: on-policy distillation uses
`teacher_lp - student_lp` on each sampled token (negative reverse KL, discount 0); RL uses the
episode reward minus its task group's mean, on every sampled token. Both then minimise
`-sum(exp(logp_theta - logp_sampler) * A) / tokens` over sampled (agent) tokens only, so
environment tokens never carry gradient. A VLM episode is scored as its turn rows (each with its
screenshot, see `policy.EpisodeTokens.rows`); advantages that depend on the episode (its reward)
reach every row through the batch's `episode` index. With a local teacher, distillation can
instead minimise the exact per-token reverse KL over the whole vocabulary (`reverse_kl_loss`) at
the same sampled positions. This module must not sample or run envs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers import PreTrainedModel

from coachgym.training.policy import EpisodeTokens, policy_logits

Batch = dict[str, Any]


def pad_episodes(episodes: Sequence[EpisodeTokens], pad_id: int = 0) -> Batch:
    """One row per sequence to score (an episode, or each turn of a VLM episode): right-padded
    `ids`, `attention_mask`, agent-token `mask` and `sampler_logprobs` tensors, `episode` (the
    index of each row's episode) and, when any row has a screenshot, `images` (one entry per row)."""
    indexed = [(index, row) for index, episode in enumerate(episodes) for row in episode.rows()]
    rows = [row for _, row in indexed]
    length = max(len(r.ids) for r in rows)

    def padded(values: list, fill, dtype) -> torch.Tensor:
        return torch.tensor([v + [fill] * (length - len(v)) for v in values], dtype=dtype)

    batch: Batch = {
        "ids": padded([r.ids for r in rows], pad_id, torch.long),
        "attention_mask": padded([[1] * len(r.ids) for r in rows], 0, torch.long),
        "mask": padded([r.mask for r in rows], 0, torch.float32),
        "sampler_logprobs": padded([r.sampler_logprobs for r in rows], 0.0, torch.float32),
        "episode": torch.tensor([index for index, _ in indexed]),
    }
    if any(r.image is not None for r in rows):
        batch["images"] = [r.image for r in rows]
    return batch


def next_token_logits(model: PreTrainedModel, ids: torch.Tensor, attention_mask: torch.Tensor,
                      **vision: torch.Tensor) -> torch.Tensor:
    """`out[b, t]`: the policy's logits (`policy.policy_logits`, fp32) for `ids[b, t + 1]` given
    `ids[b, :t + 1]`. `vision`: a CrossAttnVLM's image tensors for the rows (`policy.vision_inputs`)."""
    device = next(model.parameters()).device
    vision = {k: v.to(device) for k, v in vision.items()}
    logits = model(input_ids=ids.to(device), attention_mask=attention_mask.to(device), use_cache=False,
                   **vision).logits
    return policy_logits(model, logits[:, :-1].float())


def sampled_logprobs(model: PreTrainedModel, logits: torch.Tensor, ids: torch.Tensor,
                     temperature: float = 1.0) -> torch.Tensor:
    """`out[b, t] = log p(ids[b, t] | ids[b, :t])` at `temperature` from `next_token_logits`;
    position 0 (no context) and image placeholders are 0."""
    logp = torch.log_softmax(logits / temperature, dim=-1)
    targets = ids[:, 1:].to(logits.device)
    picked = logp.gather(-1, targets[..., None]).squeeze(-1)
    placeholder = getattr(model.config, "image_token_id", None)
    if placeholder is not None:  # outside the policy's distribution (-inf) and never sampled: score 0
        picked = picked.masked_fill(targets == placeholder, 0.0)
    return torch.cat([torch.zeros_like(picked[:, :1]), picked], dim=1)


def token_logprobs(model: PreTrainedModel, ids: torch.Tensor, attention_mask: torch.Tensor,
                   temperature: float = 1.0, **vision: torch.Tensor) -> torch.Tensor:
    """`sampled_logprobs` of `ids` under `model` in one forward pass."""
    return sampled_logprobs(model, next_token_logits(model, ids, attention_mask, **vision), ids, temperature)


def distill_advantages(teacher_logprobs: torch.Tensor, student_logprobs: torch.Tensor,
                       mask: torch.Tensor) -> torch.Tensor:
    """Per-token advantage of on-policy distillation: teacher minus student log-prob of each
    sampled token (zero on environment tokens)."""
    return (teacher_logprobs - student_logprobs) * mask


def group_baseline_advantages(rewards: Sequence[float], groups: Sequence[str], mask: torch.Tensor,
                              scale_by_std: bool = False, episode: torch.Tensor | None = None) -> torch.Tensor:
    """REINFORCE with a group-mean baseline (GRPO-style): each episode's reward minus the mean
    reward of the episodes of the same task, on all its sampled tokens. `rewards` and `groups` are
    per episode; `episode[i]` is the episode of mask row i (default: row i is episode i)."""
    reward = torch.tensor(rewards, dtype=torch.float32)
    advantage = torch.zeros_like(reward)
    for group in set(groups):
        members = torch.tensor([g == group for g in groups])
        centered = reward[members] - reward[members].mean()
        if scale_by_std and members.sum() > 1:
            centered = centered / (reward[members].std() + 1e-6)
        advantage[members] = centered
    if episode is not None:
        advantage = advantage[episode]
    return advantage[:, None] * mask


def importance_sampled_pg_loss(logprobs: torch.Tensor, sampler_logprobs: torch.Tensor, advantages: torch.Tensor,
                               weights: torch.Tensor) -> torch.Tensor:
    """`-sum(w * exp(logp - logp_sampler) * A) / sum(w)`; `weights` is the agent-token mask (or any
    non-negative token weighting). Advantages are constants: no gradient flows through them."""
    ratio = torch.exp(logprobs - sampler_logprobs.to(logprobs.device))
    weights = weights.to(logprobs.device)
    return -(weights * ratio * advantages.detach().to(logprobs.device)).sum() / weights.sum().clamp(min=1e-8)


def reverse_kl_loss(student_logits: torch.Tensor, teacher_logprobs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Exact per-token reverse KL, `sum_v p_s(v) (log p_s(v) - log p_t(v))`, averaged over the
    agent positions of `mask` (aligned with the ids, so position t scores the distribution of token
    t): the expectation that the one-sample advantage `teacher_lp - student_lp` estimates, summed
    over the whole vocabulary instead of drawn. `student_logits` come from `next_token_logits`,
    `teacher_logprobs` are log-softmaxed over the first V entries (a shared tokenizer's length,
    since checkpoints pad their embeddings differently); entries outside both distributions
    (a VLM's image placeholder, -inf) add nothing."""
    vocab = teacher_logprobs.shape[-1]
    student = torch.log_softmax(student_logits[..., :vocab], dim=-1).clamp(min=-1e4)
    teacher = teacher_logprobs.to(student.device).clamp(min=-1e4)
    per_position = (student.exp() * (student - teacher)).sum(-1)
    weights = mask[:, 1:].to(student.device)
    return (weights * per_position).sum() / weights.sum().clamp(min=1e-8)
