"""Cost of CogAgent-style high-res cross-attention vs. feeding high-res patches to the LM (CPU).

Measures, in one process and side by side:
1. forward FLOPs (torch.utils.flop_counter.FlopCounterMode) and median CPU wall time at a
   1120 px screenshot for (a) CrossAttnVLM: low-res tokens in the LM sequence, high-res read by
   cross-attention; (b) a naive variant that calls the *same encoder and LM modules* (so the same
   attention kernels: torch SDPA everywhere, printed by the script) and projects all high-res
   patch tokens into the LM sequence instead. Goal: (a) <= 0.25x of (b) on both.
2. median wall time of greedy generation of 64 new tokens with the K/V cache (high-res K/V
   computed once) vs. without it (full recompute every step). Goal: cached >= 3x faster.

The model is random (costs do not depend on weights) and sized like a scaled-down CogAgent: the
LM is wider and deeper than the high-res encoder. FLOPs of torch's fused CPU attention are added
by hand (the counter skips that kernel); causal attention counts only the attended half, as the
kernel skips the rest. Timings run on one thread by default: with several OpenMP threads on a
shared box each parallel op can wait for a thread another process has descheduled; that cost is
per op, about the same in both variants, so it swamps the much cheaper cross-attention forward
(measured: ratio 0.17x on one thread, 0.44x on two at load ~2.5). Use `--threads 2` only on an
idle box. Run: `python perf/vlm_cost.py [--repeats 3]`.
This script must not be imported by the package or by tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

from coachgym.vision import CrossAttnVLMConfig, CrossAttnVLMForConditionalGeneration
from coachgym.vision.tiny import tiny_text_config, tiny_vision_config
from coachgym.vision.tokenizer import IMAGE, byte_level_tokenizer


def build(high_res_size: int) -> tuple[CrossAttnVLMForConditionalGeneration, int]:
    tokenizer = byte_level_tokenizer()
    text = tiny_text_config(len(tokenizer), hidden_size=384, layers=6)
    text.update(intermediate_size=1536, num_attention_heads=6, num_key_value_heads=6)
    config = CrossAttnVLMConfig(
        text_config=text,
        vision_config=tiny_vision_config(224, hidden_size=256, layers=2),
        high_res_vision_config=tiny_vision_config(high_res_size, hidden_size=128, layers=2),
        cross_attn_hidden_size=256,
        cross_attn_num_heads=8,  # head dim 32, as CogAgent
        cross_attn_gate_init=0.5,
        image_token_id=tokenizer.convert_tokens_to_ids(IMAGE),
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    return CrossAttnVLMForConditionalGeneration(config).eval(), config.image_seq_length


def inputs(model: CrossAttnVLMForConditionalGeneration, image_tokens: int, text_tokens: int = 48) -> dict:
    """One prompt: image placeholders followed by `text_tokens` byte tokens, plus both images."""
    config = model.config
    ids = torch.cat([torch.full((1, image_tokens), config.image_token_id), torch.randint(10, 200, (1, text_tokens))], 1)
    high = config.high_res_vision_config.image_size
    return {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "pixel_values": torch.randn(1, 3, 224, 224),
        "high_res_pixel_values": torch.randn(1, 3, high, high),
    }


class NaiveAllTokens(nn.Module):
    """Same encoders and LM, but all high-res patch tokens are projected into the LM sequence."""

    def __init__(self, vlm: CrossAttnVLMForConditionalGeneration):
        super().__init__()
        self.vlm = vlm
        self.high_res_projector = nn.Linear(
            vlm.config.high_res_vision_config.hidden_size, vlm.config.text_config.hidden_size
        )

    def forward(self, input_ids, attention_mask, pixel_values, high_res_pixel_values) -> torch.Tensor:
        trunk = self.vlm.model
        embeds = trunk._splice_low_res(
            trunk.get_input_embeddings()(input_ids), input_ids == self.vlm.config.image_token_id, pixel_values
        )
        high_res_tokens = self.high_res_projector(trunk.get_high_res_features(high_res_pixel_values))
        sequence = torch.cat([high_res_tokens, embeds], dim=1)
        mask = torch.cat([torch.ones(high_res_tokens.shape[:2], dtype=attention_mask.dtype), attention_mask], 1)
        hidden = trunk.language_model(inputs_embeds=sequence, attention_mask=mask, use_cache=False).last_hidden_state
        return self.vlm.lm_head(hidden[:, -1:])


def cpu_sdpa_flops(query, key, value, dropout_p=0.0, is_causal=False, *args, out_shape=None, **kwargs) -> int:
    """FLOPs of torch's fused CPU attention, which FlopCounterMode does not count (it reports 0).

    With `is_causal` the kernel skips the key blocks after each query (top-left aligned), so only
    the attended (query, key) pairs are counted; otherwise every pair is.
    """
    full = sdpa_flop_count(query, key, value)
    if not is_causal:
        return full
    s_q, s_k = query[-2], key[-2]
    pairs = s_q * (s_q + 1) // 2 if s_q <= s_k else s_k * (s_k + 1) // 2 + (s_q - s_k) * s_k
    return full * pairs // (s_q * s_k)


def flops(fn: Callable[[], object]) -> int:
    counter = FlopCounterMode(
        display=False, custom_mapping={torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: cpu_sdpa_flops}
    )
    with counter:
        fn()
    return counter.get_total_flops()


def median_times(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall seconds; the candidates are interleaved so load changes on a shared box hit them alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def attention_kernels(model: CrossAttnVLMForConditionalGeneration) -> str:
    """What attention every part runs; the naive variant calls these same modules."""
    trunk = model.model
    parts = {"LM": trunk.language_model, "low-res": trunk.vision_tower, "high-res": trunk.high_res_vision_tower}
    return ", ".join(f"{name} {part.config._attn_implementation}" for name, part in parts.items()) + (
        ", cross-attention sdpa"
    )


def forward_cost(repeats: int, high_res_size: int) -> None:
    model, image_tokens = build(high_res_size)
    naive = NaiveAllTokens(model).eval()
    batch = inputs(model, image_tokens)
    candidates = {
        "cross-attention": lambda: model(**batch, use_cache=False, logits_to_keep=1),
        "naive all-tokens": lambda: naive(**batch),
    }
    patches = (high_res_size // 14) ** 2
    print(f"forward at {high_res_size} px ({patches} high-res patches, {batch['input_ids'].shape[1]} LM tokens "
          f"for cross-attention vs {batch['input_ids'].shape[1] + patches} for naive)")
    print(f"  attention in both variants: {attention_kernels(model)}")
    with torch.no_grad():
        counted = {name: flops(fn) for name, fn in candidates.items()}
        timed = median_times(candidates, repeats)
    for name in candidates:
        print(f"  {name:17s} {counted[name] / 1e9:9.1f} GFLOP   median {timed[name]:7.3f} s")
    print(f"  ratio cross/naive: FLOPs {counted['cross-attention'] / counted['naive all-tokens']:.3f}x, "
          f"time {timed['cross-attention'] / timed['naive all-tokens']:.3f}x   (goal <= 0.25x)")


def generation_cost(repeats: int, high_res_size: int, new_tokens: int) -> None:
    """Greedy decoding; the uncached run re-encodes both images and the whole sequence every step."""
    model, image_tokens = build(high_res_size)
    batch = inputs(model, image_tokens, text_tokens=16)
    common = {"max_new_tokens": new_tokens, "min_new_tokens": new_tokens, "do_sample": False}
    candidates = {
        "cached": lambda: model.generate(**batch, **common),
        "uncached": lambda: model.generate(**batch, **common, use_cache=False),
    }
    with torch.no_grad():
        same = torch.equal(candidates["cached"](), candidates["uncached"]())
        timed = median_times(candidates, repeats)
    print(f"greedy generation of {new_tokens} tokens at {high_res_size} px (identical tokens: {same})")
    for name in candidates:
        print(f"  {name:9s} median {timed[name]:7.3f} s  ({new_tokens / timed[name]:6.1f} tok/s)")
    print(f"  speed-up cached vs uncached: {timed['uncached'] / timed['cached']:.2f}x   (goal >= 3x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--high-res", type=int, default=1120)
    parser.add_argument("--gen-repeats", type=int, default=3)
    parser.add_argument("--gen-high-res", type=int, default=448, help="high-res size for the generation timing")
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads; more only on an idle box")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    torch.set_num_threads(args.threads)
    print(f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f} at start")
    forward_cost(args.repeats, args.high_res)
    generation_cost(args.gen_repeats, args.gen_high_res, args.new_tokens)
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
