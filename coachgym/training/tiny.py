"""Tiny causal LMs and a locally trained tokenizer, for tests, perf scripts and the quickstart.

Nothing here downloads: the tokenizer is a byte-level BPE trained in a second on the texts it
will see (so a constant system prompt costs few tokens), and models are random transformers
configs. The chat template is ChatML with `{% generation %}` markers around assistant turns,
which is what TRL's assistant-only loss needs; every assistant turn ends with `<|im_end|>`, the
EOS token, so a model learns to stop. `build_vlm` makes a random CrossAttnVLM around the same kind
of tokenizer (plus the image token), so VLM prompts cost as few tokens as text ones. This module
must not grow training logic.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from transformers import PreTrainedModel, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\n' }}"
    "{%- if message['role'] == 'assistant' %}"
    "{% generation %}{{- message['content'] + '<|im_end|>' }}{% endgeneration %}{{- '\n' }}"
    "{%- else %}"
    "{{- message['content'] + '<|im_end|>\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}"
)


def trajectory_texts(trajectories: Iterable[Any]) -> Iterator[str]:
    """One text per trajectory, its chat messages joined by newlines: what a tiny tokenizer is
    trained on so that its merges fit the prompts and actions it will see."""
    from coachgym.trajectories.convert import to_messages

    return ("\n".join(m["content"] for m in to_messages(t)) for t in trajectories)


def build_tokenizer(texts: Iterable[str], vocab_size: int = 600) -> PreTrainedTokenizerFast:
    """A byte-level BPE (digits kept single, so numbers stay compositional) trained on `texts`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token=None, eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>", unk_token=None)
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_model(tokenizer: PreTrainedTokenizerFast, hidden_size: int = 64, layers: int = 2, heads: int = 4,
                max_positions: int = 2048, seed: int = 0) -> PreTrainedModel:
    """A random Qwen2 causal LM sized for CPU: `hidden_size` 64 and 2 layers is ~0.1M parameters
    plus embeddings."""
    import torch

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=hidden_size * 3,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=max(1, heads // 2),
        max_position_embeddings=max_positions, tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, bos_token_id=None,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def build_vlm_tokenizer(texts: Iterable[str], vocab_size: int = 600) -> PreTrainedTokenizerFast:
    """`build_tokenizer` plus the VLM's image token and its chat template (image parts -> marker)."""
    from coachgym.vision.tokenizer import CHAT_TEMPLATE as VLM_TEMPLATE
    from coachgym.vision.tokenizer import IMAGE

    tokenizer = build_tokenizer(texts, vocab_size)
    tokenizer.add_special_tokens({"additional_special_tokens": [IMAGE]})
    tokenizer.chat_template = VLM_TEMPLATE
    return tokenizer


def build_vlm(tokenizer: PreTrainedTokenizerFast, hidden_size: int = 64, layers: int = 2, image_size: int = 28,
              high_res_image_size: int = 56, vision_hidden_size: int = 32, seed: int = 0, fan_in_init: bool = True,
              **config_overrides: Any) -> tuple[Any, Any]:
    """A random CrossAttnVLM (Qwen2 LM, SigLIP-style encoders with 14 px patches, cross-attention
    in every layer, active from the start, patch features standardized per image since the encoders
    start from random weights) and its processor, for a `build_vlm_tokenizer` tokenizer.
    Models built with the same tokenizer and `image_size` can distil into each other.
    `fan_in_init` draws the weights of every linear layer outside the encoders with std
    1/sqrt(fan_in) instead of transformers' 0.02: with either one missing, this or standardizing,
    the model never learned to find a named icon (`perf/grounding_probe.py`, docs/quickstart.md).
    `config_overrides` go to `CrossAttnVLMConfig` (e.g. `cross_attn_layers=[]` for low-res only)."""
    import torch

    from coachgym.vision import CrossAttnVLMConfig, CrossAttnVLMForConditionalGeneration, CrossAttnVLMProcessor
    from coachgym.vision.tiny import tiny_text_config, tiny_vision_config
    from coachgym.vision.tokenizer import IMAGE

    config = CrossAttnVLMConfig(
        text_config=tiny_text_config(len(tokenizer), "qwen2", hidden_size, layers),
        vision_config=tiny_vision_config(image_size, hidden_size=vision_hidden_size),
        high_res_vision_config=tiny_vision_config(high_res_image_size, hidden_size=vision_hidden_size),
        **({"cross_attn_hidden_size": 32, "cross_attn_num_heads": 4, "cross_attn_gate_init": 1.0,
            "standardize_patch_features": True} | config_overrides),
        image_token_id=tokenizer.convert_tokens_to_ids(IMAGE), pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    model = CrossAttnVLMForConditionalGeneration(config)
    if fan_in_init:
        for name, module in model.named_modules():
            if isinstance(module, torch.nn.Linear) and "vision_tower" not in name:
                torch.nn.init.normal_(module.weight, 0.0, module.in_features ** -0.5)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    processor = CrossAttnVLMProcessor.for_config(config, tokenizer)
    return model, processor


def save_tiny(model: PreTrainedModel, tokenizer: PreTrainedTokenizerFast | Any, path: str | Path) -> Path:
    """Write a checkpoint `from_pretrained` (and every coachgym config) can load; `tokenizer` may be
    a VLM processor."""
    path = Path(path)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
