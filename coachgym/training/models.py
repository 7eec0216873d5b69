"""Loading checkpoints for training: which classes, which dtype, which device.

Every trainer (SFT, distillation, RL, RFT) and the local teacher load through `load_model`, so a
GPU run gets the same choices everywhere: bf16 where the accelerator supports it (fp32 on CPU,
where bf16 autocast made a tiny-VLM SFT step 4.5x slower), optional gradient checkpointing, and
the model on the device asked for. A CrossAttnVLM checkpoint comes back with its processor in
place of a tokenizer. This module must not train.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel


def default_device() -> torch.device:
    """The accelerator when one is present, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def default_dtype(device: torch.device | str | None = None) -> torch.dtype:
    """bf16 on a GPU that supports it, fp32 elsewhere."""
    device = torch.device(device) if device is not None else default_device()
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def load_model(path: Path | str, tokenizer_path: Path | None = None, device: torch.device | str | None = None,
               dtype: torch.dtype | None = None, gradient_checkpointing: bool = False) -> tuple[PreTrainedModel, Any]:
    """A checkpoint and its tokenizer (its processor, for a CrossAttnVLM), with the one clear error
    when the folder is not a checkpoint.

    `device`: where to put the weights; None leaves them on the CPU for a trainer (accelerate places
    them on each process's device). `dtype`: None = `default_dtype(device)`. `gradient_checkpointing`
    trades recomputation for activation memory (what a 0.5B+ student needs on one GPU)."""
    from coachgym.agents.hf import vlm_classes

    path = Path(path)
    if not (path / "config.json").exists():
        raise FileNotFoundError(f"{path} is not a model checkpoint (no config.json); point `model` at a folder "
                                f"written by save_pretrained (e.g. a previous run's `final/`).")
    dtype = dtype or default_dtype(device if device is not None else default_device())
    vlm = vlm_classes(path)
    if vlm is not None:
        model, tokenizer = vlm[0].from_pretrained(path, dtype=dtype), vlm[1].from_pretrained(tokenizer_path or path)
    else:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_path or path)
    if gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if device is not None:
        model.to(device)
    return model, tokenizer
