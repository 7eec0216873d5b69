"""Batch chat examples with screenshots into CrossAttnVLM training inputs.

Used as the `data_collator` of TRL's `SFTTrainer` (or any HF Trainer): each example holds
`messages` (a chat whose last message is the assistant turn to learn) and `images` (at most one
screenshot). Only the final assistant turn is trained; the prompt, the image placeholders and the
padding get label -100. This module must not decide prompts or load datasets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transformers import BatchFeature

from coachgym.vision.processing_crossattn_vlm import CrossAttnVLMProcessor

IGNORE_INDEX = -100


@dataclass
class CrossAttnVLMCollator:
    """`processor` renders and tokenizes; `max_length` truncates (never through an image: error)."""

    processor: CrossAttnVLMProcessor
    max_length: int | None = None

    def _split(self, example: dict[str, Any]) -> tuple[str, str, Any]:
        messages = example["messages"]
        if not messages or messages[-1]["role"] != "assistant":
            raise ValueError("Each training example's last message must be the assistant turn to learn.")
        images = example.get("images") or []
        if len(images) > 1:
            raise ValueError("CrossAttnVLM trains on one screenshot per example; keep only the current one.")
        prompt = self.processor.render(messages[:-1], add_generation_prompt=True)
        full = self.processor.render(messages)
        return prompt, full, images[0] if images else None

    def __call__(self, examples: list[dict[str, Any]]) -> BatchFeature:
        prompts, texts, images = zip(*(self._split(example) for example in examples))
        batch = self.processor(
            text=list(texts),
            images=list(images),
            padding=True,
            padding_side="right",
            truncation=self.max_length is not None,
            max_length=self.max_length,
        )
        prompt_lengths = [
            len(ids) for ids in self.processor(text=list(prompts), images=list(images), padding=False,
                                               return_tensors=None)["input_ids"]
        ]
        labels = batch["input_ids"].clone()
        labels[batch["attention_mask"] == 0] = IGNORE_INDEX
        for row, length in enumerate(prompt_lengths):
            labels[row, :length] = IGNORE_INDEX
        batch["labels"] = labels
        return batch


__all__ = ["CrossAttnVLMCollator", "IGNORE_INDEX"]
