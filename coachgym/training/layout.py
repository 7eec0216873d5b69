"""Which batch layout SFT trains with: packed rows or length-grouped padded batches.

Packing (TRL's best-fit decreasing, padding-free with per-sequence position ids) pays only where
attention runs per sequence: FlashAttention's varlen kernels take the sequence boundaries
(`cu_seq_lens`, which TRL's collator computes) and never score one sequence against another.
Without them (CPU, or a GPU with neither `flash-attn` nor `kernels` installed) transformers
builds a block-diagonal mask over the whole flattened row, so attention costs row length x
tokens, and length-grouped padded batches measured faster (`perf/sft_packing.py`,
docs/training.md). This module must not train.
"""

from __future__ import annotations

import torch
from transformers.utils import is_flash_attn_2_available


def varlen_attention() -> str | None:
    """The attention implementation that runs packed rows padding-free here: `flash_attention_2`
    (the `flash-attn` package, or transformers' fallback to the `kernels-community/flash-attn2`
    hub kernel when `kernels` is installed) on a CUDA device; None anywhere else."""
    if not torch.cuda.is_available():
        return None  # checked first: the kernels fallback would otherwise fetch a CUDA kernel on a CPU box
    return "flash_attention_2" if is_flash_attn_2_available(kernels_fallback_ok=True) else None


def use_packing(packing: bool | None) -> bool:
    """`packing` when set; when None, pack exactly where varlen attention is available."""
    return varlen_attention() is not None if packing is None else packing
