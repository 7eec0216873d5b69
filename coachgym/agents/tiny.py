"""Tiny random chat models built locally, for tests, demos and perf scripts (no hub downloads).

`build_tiny_chat_model(path)` trains a byte-level BPE tokenizer on a small built-in corpus, gives
it a ChatML chat template, builds a randomly initialised causal LM from a small config (Qwen2 or
Llama) and saves both with `save_pretrained`, so the real `from_pretrained` path is exercised.
The model's outputs are random text; nothing here is meant to be a useful policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'text' %}{{ part['text'] }}{% else %}[image]\n{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
_CORPUS = [
    "Thought: the number is in 1..100; I try the middle.\nAction: guess(50)",
    "Think: I should list the files.\n\nAct: bash\n\n```bash\nls -la /home\n```",
    "Act: answer(42)", "Act: finish", "Action: Operation\n```sql\nSELECT name FROM users WHERE id = 3;\n```",
    'Action: Answer\nFinal Answer: ["Alice"]', "click(12)", "type(3, \"hello world\")", "scroll(down)",
    "You are an agent acting in the environment. Available actions: give_up() higher lower wrong correct",
    "The quick brown fox jumps over the lazy dog 0123456789 {}[]()<>=+-*/\\|;:'\",.?!@#$%^&_~`",
]


def build_tiny_tokenizer():
    """A byte-level BPE tokenizer (any text encodes) with ChatML special tokens and template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(_CORPUS * 4, trainer=trainer)
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                      bos_token=None, unk_token=None)
    wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


def build_tiny_chat_model(path: str | Path, arch: Literal["qwen2", "llama"] = "qwen2", seed: int = 0) -> Path:
    """Save a random tiny causal LM + tokenizer under `path`; returns the path."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

    path = Path(path)
    tokenizer = build_tiny_tokenizer()
    config_class = {"qwen2": Qwen2Config, "llama": LlamaConfig}[arch]
    config = config_class(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                          eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                          bos_token_id=None, tie_word_embeddings=True)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
