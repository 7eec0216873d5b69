"""Tiny random CrossAttnVLMs for tests, quickstarts and CPU experiments.

Everything is built from configs and a locally constructed byte-level tokenizer, so nothing is
downloaded. The sizes are chosen for speed, not quality; this module must not be used to build
models meant to be trained for real (compose pretrained parts with `from_parts`).
"""

from __future__ import annotations

from typing import Any

import torch

from coachgym.vision.configuration_crossattn_vlm import CrossAttnVLMConfig
from coachgym.vision.modeling_crossattn_vlm import CrossAttnVLMForConditionalGeneration
from coachgym.vision.processing_crossattn_vlm import CrossAttnVLMProcessor
from coachgym.vision.tokenizer import IMAGE, byte_level_tokenizer


def tiny_vision_config(image_size: int, patch_size: int = 14, hidden_size: int = 32, layers: int = 1) -> dict:
    """SigLIP vision config dict (no pooling head: the VLM reads patch tokens only)."""
    return {
        "model_type": "siglip_vision_model",
        "image_size": image_size,
        "patch_size": patch_size,
        "hidden_size": hidden_size,
        "intermediate_size": hidden_size * 2,
        "num_hidden_layers": layers,
        "num_attention_heads": 2,
        "vision_use_head": False,
    }


def tiny_text_config(vocab_size: int, model_type: str = "qwen2", hidden_size: int = 64, layers: int = 2) -> dict:
    """Llama-family decoder config dict."""
    return {
        "model_type": model_type,
        "vocab_size": vocab_size,
        "hidden_size": hidden_size,
        "intermediate_size": hidden_size * 2,
        "num_hidden_layers": layers,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 2048,
        "tie_word_embeddings": False,
    }


def tiny_vlm(
    seed: int = 0,
    text_model_type: str = "qwen2",
    image_size: int = 28,
    high_res_image_size: int = 112,
    hidden_size: int = 64,
    num_layers: int = 2,
    cross_attn_gate: bool = True,
    cross_attn_gate_init: float = 0.0,
    **config_overrides: Any,
) -> tuple[CrossAttnVLMForConditionalGeneration, CrossAttnVLMProcessor]:
    """A seeded tiny model and its processor (byte-level tokenizer, SigLIP-style encoders).

    `cross_attn_gate_init=0.0` mirrors the pretrained-LM setting (the branch starts silent); use a
    non-zero value, or `cross_attn_gate=False`, to make the branch active from the first step.
    """
    tokenizer = byte_level_tokenizer()
    config = CrossAttnVLMConfig(
        text_config=tiny_text_config(len(tokenizer), text_model_type, hidden_size, num_layers),
        vision_config=tiny_vision_config(image_size),
        high_res_vision_config=tiny_vision_config(high_res_image_size),
        cross_attn_hidden_size=32,
        cross_attn_num_heads=4,
        cross_attn_gate=cross_attn_gate,
        cross_attn_gate_init=cross_attn_gate_init,
        image_token_id=tokenizer.convert_tokens_to_ids(IMAGE),
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **config_overrides,
    )
    torch.manual_seed(seed)
    model = CrossAttnVLMForConditionalGeneration(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    processor = CrossAttnVLMProcessor.for_config(config, tokenizer)
    return model, processor


__all__ = ["tiny_vlm", "tiny_text_config", "tiny_vision_config"]
