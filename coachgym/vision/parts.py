"""Compose a CrossAttnVLM from pretrained parts, and CogAgent-style freeze presets.

`compose_from_parts` loads an LM, a low-res and a high-res vision checkpoint (hub ids or local
directories), builds the VLM config from their configs and copies their weights in; only the
projector, the high-res norm and the cross-attention blocks start fresh (and with the default
zero gate the LM's outputs are unchanged at start). An encoder can be run at another input size
than it was trained at (a 384-px SigLIP as a 1120-px high-res encoder): its position embeddings
are interpolated on the patch grid, as ViT fine-tuning at a higher resolution does.
`freeze` selects what trains in each stage.
This module must not define model layers or training loops.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, PreTrainedModel

# Relative imports: the modeling code ships this file as remote code, where coachgym is not installed.
from .configuration_crossattn_vlm import CrossAttnVLMConfig

# The VLM class is passed in by `CrossAttnVLMForConditionalGeneration.from_parts`; the modeling
# module imports this one, so it is not imported back.
VLM = TypeVar("VLM", bound=PreTrainedModel)

#: Which parameter groups train in each preset (CogAgent trains the high-res branch first).
FREEZE_PRESETS: dict[str, tuple[str, ...]] = {
    "high_res": ("cross_attn", "high_res"),
    "connectors": ("cross_attn", "high_res", "projector"),
    "all_but_low_res": ("cross_attn", "high_res", "projector", "language_model"),
    "all": ("cross_attn", "high_res", "projector", "language_model", "low_res"),
}
FreezePreset = Literal["high_res", "connectors", "all_but_low_res", "all"]


def _parameter_group(name: str) -> str:
    """Map a VLM parameter name to its freeze group."""
    if ".cross_attn." in name:
        return "cross_attn"
    if name.startswith("model.high_res_"):
        return "high_res"
    if name.startswith("model.multi_modal_projector."):
        return "projector"
    if name.startswith("model.vision_tower."):
        return "low_res"
    return "language_model"  # embeddings, decoder layers, final norm, lm_head


def freeze(model: PreTrainedModel, preset: FreezePreset) -> dict[str, int]:
    """Set `requires_grad` by preset; returns trainable parameter counts per group."""
    if preset not in FREEZE_PRESETS:
        raise ValueError(f"Unknown freeze preset {preset!r}; choose one of {sorted(FREEZE_PRESETS)}")
    trainable_groups = FREEZE_PRESETS[preset]
    counts: dict[str, int] = {}
    for name, param in model.named_parameters():
        group = _parameter_group(name)
        param.requires_grad_(group in trainable_groups)
        if param.requires_grad:
            counts[group] = counts.get(group, 0) + param.numel()
    return counts


def _load_vision_encoder(path: str, **load_kwargs: Any) -> PreTrainedModel:
    """A CLIP/SigLIP vision-only model, also from a full (text+vision) CLIP/SigLIP checkpoint."""
    config = AutoConfig.from_pretrained(path)
    sub_config = getattr(config, "vision_config", None)
    if sub_config is None:
        return AutoModel.from_pretrained(path, **load_kwargs)
    full = AutoModel.from_pretrained(path, **load_kwargs)
    encoder = AutoModel.from_config(sub_config)
    encoder.vision_model.load_state_dict(full.vision_model.state_dict())
    return encoder


def _resize_position_embeddings(encoder: PreTrainedModel, image_size: int | None) -> PreTrainedModel:
    """`encoder` rebuilt for `image_size` px inputs, its patch-grid position embeddings resized bicubically
    (class-token embeddings, as in CLIP, kept). The same encoder when the size is unchanged or None."""
    config = encoder.config
    if image_size is None or image_size == config.image_size:
        return encoder
    if image_size % config.patch_size:
        raise ValueError(f"image size {image_size} is not a multiple of the encoder's {config.patch_size}-px "
                         f"patches; use e.g. {image_size // config.patch_size * config.patch_size}.")
    state = encoder.state_dict()
    key = next(k for k in state if k.endswith("embeddings.position_embedding.weight"))
    table = state[key]
    old_grid, new_grid = config.image_size // config.patch_size, image_size // config.patch_size
    extra = table.shape[0] - old_grid**2  # class tokens
    grid = table[extra:].reshape(1, old_grid, old_grid, -1).permute(0, 3, 1, 2).float()
    grid = F.interpolate(grid, size=(new_grid, new_grid), mode="bicubic", align_corners=False)
    state[key] = torch.cat([table[:extra], grid.permute(0, 2, 3, 1).reshape(new_grid**2, -1).to(table.dtype)])
    resized = AutoModel.from_config(config.__class__.from_dict(config.to_dict() | {"image_size": image_size}))
    resized.load_state_dict(state)
    return resized


def _copy_weights(target: nn.Module, source: nn.Module, what: str, allowed_missing: str | None = None) -> None:
    result = target.load_state_dict(source.state_dict(), strict=False)
    missing = [k for k in result.missing_keys if allowed_missing is None or allowed_missing not in k]
    if missing or result.unexpected_keys:
        raise ValueError(f"{what} weights do not fit: missing {missing[:5]}, unexpected {result.unexpected_keys[:5]}")


def compose_from_parts(
    cls: type[VLM],
    lm: str,
    vision: str,
    high_res_vision: str,
    image_token: str = "<image>",
    image_size: int | None = None,
    high_res_image_size: int | None = None,
    **config_kwargs: Any,
) -> VLM:
    """Build `cls` from an LM, a low-res and a high-res vision checkpoint.

    `image_size` / `high_res_image_size` run an encoder at another input size than its checkpoint's
    (position embeddings interpolated); None keeps the checkpoint's. The image token must already be
    in the LM's tokenizer (pass `image_token_id=` otherwise). Extra keyword arguments go to
    `CrossAttnVLMConfig` (cross-attention size, layers, gate...).
    """
    from transformers import AutoTokenizer

    language = AutoModelForCausalLM.from_pretrained(lm)
    low_res = _resize_position_embeddings(_load_vision_encoder(vision), image_size)
    high_res = _resize_position_embeddings(_load_vision_encoder(high_res_vision), high_res_image_size)
    if "image_token_id" not in config_kwargs:
        token_id = AutoTokenizer.from_pretrained(lm).convert_tokens_to_ids(image_token)
        if token_id is None:
            raise ValueError(f"{lm}'s tokenizer has no {image_token} token; add it or pass image_token_id=")
        config_kwargs["image_token_id"] = token_id
    config = CrossAttnVLMConfig(
        text_config=language.config,
        vision_config=low_res.config,
        high_res_vision_config=high_res.config,
        tie_word_embeddings=bool(language.config.tie_word_embeddings),
        **config_kwargs,
    )
    model = cls(config)
    _copy_weights(model.model.language_model, language.model, f"LM {lm}", allowed_missing=".cross_attn.")
    _copy_weights(model.lm_head, language.get_output_embeddings(), f"LM head of {lm}")
    _copy_weights(model.model.vision_tower, low_res, f"vision encoder {vision}")
    _copy_weights(model.model.high_res_vision_tower, high_res, f"high-res vision encoder {high_res_vision}")
    model.generation_config = language.generation_config
    return model


__all__ = ["FREEZE_PRESETS", "compose_from_parts", "freeze"]
