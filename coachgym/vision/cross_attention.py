"""The high-resolution cross-attention block and the decoder layer that hosts it.

CogAgent's point is that the LM reads a 1120 px screenshot without putting its thousands of patches
into the sequence: each decoder layer gets a narrow cross-attention (queries from the LM hidden
states, keys/values from the high-res encoder) between self-attention and the FFN. The block's K/V
are projected once per image and kept in the cross-attention half of an `EncoderDecoderCache`, so
decoding steps only project one query. This module must not know about images, tokens or
processors; it sees hidden states and feature tensors only.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers.cache_utils import Cache
from transformers.modeling_layers import GradientCheckpointingLayer

from .configuration_crossattn_vlm import CrossAttnVLMConfig  # relative: shipped as remote code

#: Submodules a host decoder layer must have (the Llama family: Llama, Qwen2/3, Mistral, ...).
HOST_LAYER_PARTS = ("input_layernorm", "self_attn", "post_attention_layernorm", "mlp")


class HighResCrossAttention(nn.Module):
    """Pre-norm cross-attention from LM hidden states to high-res features, added residually.

    K/V projections have no bias, so a zero feature row (a sample without a screenshot) yields zero
    values and the block adds exactly nothing for that sample.
    """

    def __init__(self, config: CrossAttnVLMConfig, layer_idx: int):
        super().__init__()
        text, high_res = config.text_config, config.high_res_vision_config
        inner = config.cross_attn_hidden_size
        self.layer_idx = layer_idx
        self.num_heads = config.cross_attn_num_heads
        self.head_dim = inner // self.num_heads
        self.norm = nn.RMSNorm(text.hidden_size, eps=getattr(text, "rms_norm_eps", 1e-6))
        self.q_proj = nn.Linear(text.hidden_size, inner, bias=False)
        self.k_proj = nn.Linear(high_res.hidden_size, inner, bias=False)
        self.v_proj = nn.Linear(high_res.hidden_size, inner, bias=False)
        self.o_proj = nn.Linear(inner, text.hidden_size, bias=False)
        # Set here, not in `_init_weights`: the block lives inside the host LM, whose initializer
        # leaves unknown parameters alone, so the constructor value is the one that survives.
        gate = torch.full((1,), float(config.cross_attn_gate_init))
        self.gate = nn.Parameter(gate) if config.cross_attn_gate else None

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

    def project_kv(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values `[batch, heads, patches, head_dim]` for high-res `features`."""
        return self._heads(self.k_proj(features)), self._heads(self.v_proj(features))

    def forward(self, hidden_states: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        batch, length, _ = hidden_states.shape
        query = self._heads(self.q_proj(self.norm(hidden_states)))
        attended = F.scaled_dot_product_attention(query, keys.to(query.dtype), values.to(query.dtype))
        out = self.o_proj(attended.transpose(1, 2).reshape(batch, length, -1))
        if self.gate is not None:
            out = torch.tanh(self.gate).to(out.dtype) * out
        return hidden_states + out


class CrossAttnDecoderLayer(GradientCheckpointingLayer):
    """A host LM decoder layer with an optional cross-attention block between self-attention and FFN.

    It adopts the host layer's submodules under their original names, so a pretrained LM's state
    dict loads into it unchanged and only `cross_attn.*` parameters are new.
    """

    def __init__(self, host_layer: nn.Module, config: CrossAttnVLMConfig, layer_idx: int):
        super().__init__()
        missing = [part for part in HOST_LAYER_PARTS if not hasattr(host_layer, part)]
        if missing:
            raise TypeError(
                f"{type(host_layer).__name__} lacks {missing}; CrossAttnVLM needs a Llama-family decoder "
                "(Llama, Qwen2, Qwen3, Mistral) as text_config."
            )
        for part in HOST_LAYER_PARTS:
            setattr(self, part, getattr(host_layer, part))
        self.layer_idx = layer_idx
        self.cross_attn = HighResCrossAttention(config, layer_idx) if layer_idx in config.cross_attn_layers else None

    def _cross_kv(
        self, high_res_features: torch.Tensor | None, cross_attention_cache: Cache | None
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Fresh K/V at prefill (stored in the cache), cached K/V while decoding, None for text-only."""
        if high_res_features is not None:
            keys, values = self.cross_attn.project_kv(high_res_features)
            if cross_attention_cache is not None:
                cross_attention_cache.update(keys, values, self.layer_idx)
            return keys, values
        if cross_attention_cache is not None and cross_attention_cache.get_seq_length(self.layer_idx) > 0:
            layer = cross_attention_cache.layers[self.layer_idx]
            return layer.keys, layer.values
        return None

    def forward(
        self,
        hidden_states: torch.Tensor,
        high_res_features: torch.Tensor | None = None,
        cross_attention_cache: Cache | None = None,
        **kwargs: Any,
    ) -> torch.Tensor:
        """`kwargs` are whatever the host LM hands its layers (mask, positions, rotary embeddings, its
        self-attention cache under the name that transformers release uses); they go to the host's
        self-attention untouched, so this layer never depends on those names."""
        residual = hidden_states
        hidden_states, _ = self.self_attn(hidden_states=self.input_layernorm(hidden_states), **kwargs)
        hidden_states = residual + hidden_states
        if self.cross_attn is not None:
            kv = self._cross_kv(high_res_features, cross_attention_cache)
            if kv is not None:
                hidden_states = self.cross_attn(hidden_states, *kv)
        return hidden_states + self.mlp(self.post_attention_layernorm(hidden_states))


__all__ = ["CrossAttnDecoderLayer", "HighResCrossAttention", "HOST_LAYER_PARTS"]
