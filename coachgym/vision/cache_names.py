"""The name under which a transformers 5.x model takes and returns its KV cache.

transformers renamed the cache argument and output field from `past_key_values` to `cache` within
5.x, keeping the old name alive for a while with warnings, and `generate` passes whichever name its
release uses. The CrossAttnVLM must accept its cache under either name, hand its host LM the
self-attention cache under the name that LM declares and return its own cache in the field the
output classes declare; it reads those names off public surfaces (a forward signature, an output
dataclass) instead of hard-coding one. This module must not read or change cache contents.
"""

from __future__ import annotations

import dataclasses
import inspect

from torch import nn
from transformers.cache_utils import Cache
from transformers.modeling_outputs import BaseModelOutputWithPast

NEW_NAME, OLD_NAME = "cache", "past_key_values"

#: The cache's field in transformers' output dataclasses (`BaseModelOutputWithPast`, `CausalLMOutputWithPast`).
CACHE_FIELD = NEW_NAME if NEW_NAME in {f.name for f in dataclasses.fields(BaseModelOutputWithPast)} else OLD_NAME


def cache_argument(module: nn.Module) -> str:
    """The keyword `module.forward` takes its cache under."""
    return NEW_NAME if NEW_NAME in inspect.signature(module.forward).parameters else OLD_NAME


def incoming_cache(cache: Cache | None, past_key_values: Cache | None) -> Cache | None:
    """The cache a caller passed, under the current or the older name."""
    if cache is not None and past_key_values is not None and cache is not past_key_values:
        raise ValueError("Got two different caches as `cache` and `past_key_values`; pass one, as `cache`.")
    return cache if cache is not None else past_key_values


__all__ = ["CACHE_FIELD", "cache_argument", "incoming_cache"]
