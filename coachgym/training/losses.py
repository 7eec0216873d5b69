"""The two distillation objectives coachgym adds to TRL's on-policy loss.

Both minimise the per-token reverse KL of the student's *sampling* distribution to the teacher's,
`KL(p_s^T || p_t)` with `p_s^T = softmax(logits / T)` at the sampling temperature T, at the
positions of the student's own (agent) tokens:

- `sampled` (the published recipe): the advantage `teacher_lp - student_lp` of each sampled token
  (`distill_advantages`), fed to `GRPOTrainer`'s clipped policy-gradient loss. Its expectation
  under `p_s^T` is the gradient of `KL(p_s^T || p_t)`, because TRL's log-probs are temperature-scaled.
- `full`: the same divergence summed over the whole vocabulary (`reverse_kl_loss`), with the
  student's logits divided by T first, so both estimators optimise one objective (at T = 1 too).

Environment tokens get no advantage and no KL: the masks here are agent-token masks. This module
must not sample, run envs or own a training loop.
"""

from __future__ import annotations

import torch


def distill_advantages(teacher_logprobs: torch.Tensor, student_logprobs: torch.Tensor,
                       mask: torch.Tensor) -> torch.Tensor:
    """Per-token advantage of on-policy distillation: teacher minus student log-prob of each
    sampled token (the negative one-sample reverse KL, discount 0), zero off `mask`."""
    return (teacher_logprobs - student_logprobs) * mask


def reverse_kl_loss(student_logits: torch.Tensor, teacher_logprobs: torch.Tensor, mask: torch.Tensor,
                    temperature: float = 1.0) -> torch.Tensor:
    """Exact per-token `KL(p_s^T || p_t) = sum_v p_s^T(v) (log p_s^T(v) - log p_t(v))`, averaged over
    the positions where `mask` is 1. All three tensors are aligned: position j of `student_logits`
    and `teacher_logprobs` is the distribution of token j. `teacher_logprobs` span the first V
    entries (a shared tokenizer's length: checkpoints pad their embeddings differently); entries
    outside both distributions (a VLM's image placeholder, -inf) add nothing."""
    vocab = teacher_logprobs.shape[-1]
    student = torch.log_softmax(student_logits[..., :vocab].float() / temperature, dim=-1).clamp(min=-1e4)
    teacher = teacher_logprobs.to(student.device).float().clamp(min=-1e4)
    per_position = (student.exp() * (student - teacher)).sum(-1)
    weights = mask.to(student.device).float()
    return (weights * per_position).sum() / weights.sum().clamp(min=1.0)
