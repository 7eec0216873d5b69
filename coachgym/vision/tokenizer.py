"""A byte-level tokenizer built locally, for tiny test/quickstart VLMs.

Tests and the quickstart must not download anything, yet they need a real `tokenizers`-backed
tokenizer that round-trips any text, saves with `save_pretrained` and reloads with `AutoTokenizer`.
A BPE model with the 256 byte symbols and no merges is exactly that: every byte is one token.
This module must not be used to tokenize for a pretrained LM (use that LM's own tokenizer).
"""

from __future__ import annotations

from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

PAD, EOS, IM_START, IM_END, IMAGE = "<|pad|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>"
SPECIAL_TOKENS = (PAD, EOS, IM_START, IM_END, IMAGE)

#: ChatML with `{"type": "image"}` content parts rendered as the image marker. Shared by the
#: tokenizer and the processor so prompts built either way agree.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def byte_level_tokenizer(padding_side: str = "left") -> PreTrainedTokenizerFast:
    """Specials at ids 0-4 (pad, eos, im_start, im_end, image), then one token per byte (261 total).

    Left padding is the default because batched generation needs prompts aligned at their ends.
    """
    vocab = {token: idx for idx, token in enumerate(SPECIAL_TOKENS)}
    for symbol in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab[symbol] = len(vocab)
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens(list(SPECIAL_TOKENS))
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token=PAD,
        eos_token=EOS,
        extra_special_tokens={"image_token": IMAGE},
        chat_template=CHAT_TEMPLATE,
        padding_side=padding_side,
    )


__all__ = ["byte_level_tokenizer", "CHAT_TEMPLATE", "IMAGE", "SPECIAL_TOKENS"]
