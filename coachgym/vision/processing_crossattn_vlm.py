"""Processor turning chat messages with screenshots into CrossAttnVLM inputs.

It pairs the LM's tokenizer with `CrossAttnVLMImageProcessor` (the resize to the low-res and the
high-res encoder sizes): each `<image>` marker is expanded to the placeholder tokens the model fills
with low-res patch features, and each screenshot becomes `pixel_values` and
`high_res_pixel_values`. This module must not run models or decide what an agent's prompt says.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image
from transformers import BatchFeature, ProcessorMixin

# Relative: shipped as remote code with the processor.
from .image_processing_crossattn_vlm import CrossAttnVLMImageProcessor, ImageLike
from .tokenizer import IMAGE


class CrossAttnVLMProcessor(ProcessorMixin):
    r"""
    Args:
        image_processor: `CrossAttnVLMImageProcessor` with the low-res and high-res encoder sizes.
        tokenizer: the LM's tokenizer; must know the `<image>` token.
        image_seq_length: placeholder tokens per image (= `CrossAttnVLMConfig.image_seq_length`).
        chat_template: Jinja template; `{"type": "image"}` content parts render as `<image>`.
    """

    def __init__(
        self,
        image_processor: CrossAttnVLMImageProcessor | None = None,
        tokenizer: Any = None,
        image_seq_length: int = 256,
        chat_template: str | None = None,
    ):
        self.image_seq_length = image_seq_length
        if chat_template is None:
            chat_template = getattr(tokenizer, "chat_template", None)
        super().__init__(image_processor, tokenizer, chat_template=chat_template)
        self.image_token = IMAGE
        self.image_token_id = tokenizer.convert_tokens_to_ids(IMAGE)
        if self.image_token_id is None or self.image_token_id == tokenizer.unk_token_id:
            raise ValueError(f"The tokenizer has no {IMAGE} token; add it with tokenizer.add_special_tokens first.")

    @classmethod
    def for_config(cls, config: Any, tokenizer: Any) -> CrossAttnVLMProcessor:
        """The processor a `CrossAttnVLMConfig` implies: encoder input sizes and placeholder count."""
        image_processor = CrossAttnVLMImageProcessor(image_size=config.vision_config.image_size,
                                                     high_res_image_size=config.high_res_vision_config.image_size)
        return cls(image_processor, tokenizer, image_seq_length=config.image_seq_length)

    def preprocess_image(self, image: ImageLike) -> tuple[torch.Tensor, torch.Tensor]:
        """Low-res and high-res tensors `[3, s, s]` for one screenshot."""
        batch = self.image_processor(image)
        return batch["pixel_values"][0], batch["high_res_pixel_values"][0]

    def expand_image_tokens(self, text: str) -> str:
        """Each `<image>` marker becomes the run of placeholder tokens the model fills with low-res
        image features; every caller that tokenizes rendered text itself must do the same."""
        return text.replace(IMAGE, IMAGE * self.image_seq_length)

    def render(self, messages: list[dict[str, Any]], add_generation_prompt: bool = False) -> str:
        """Prompt text for one conversation, with one `<image>` marker per image content part."""
        return self.tokenizer.apply_chat_template(
            messages, chat_template=self.chat_template, tokenize=False, add_generation_prompt=add_generation_prompt
        )

    def __call__(
        self,
        text: str | list[str] | None = None,
        images: ImageLike | Sequence[ImageLike | None] | None = None,
        padding: bool | str = True,
        truncation: bool = False,
        max_length: int | None = None,
        return_tensors: str = "pt",
        **kwargs: Any,
    ) -> BatchFeature:
        """Tokenize `text` (one string per sample, at most one `<image>` each) with its images.

        `images` is one image, or one entry per sample (None for samples without an image). The
        result has `input_ids`, `attention_mask` and, when any image is given, `pixel_values` and
        `high_res_pixel_values` with one row per image in sample order.
        """
        if text is None:
            raise ValueError("CrossAttnVLMProcessor needs text; render messages with processor.render(...) first.")
        texts = [text] if isinstance(text, str) else list(text)
        per_sample = self._align_images(texts, images)
        expanded = [self.expand_image_tokens(t) for t in texts]
        encoded = self.tokenizer(
            expanded,
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            return_tensors=return_tensors,
            **kwargs,
        )
        data = dict(encoded)
        present = [image for image in per_sample if image is not None]
        if present:
            data.update(self.image_processor(present, return_tensors=None))
        return BatchFeature(data=data, tensor_type=return_tensors)

    def _align_images(
        self, texts: list[str], images: ImageLike | Sequence[ImageLike | None] | None
    ) -> list[ImageLike | None]:
        if images is None:
            per_sample: list[ImageLike | None] = [None] * len(texts)
        elif isinstance(images, (Image.Image, np.ndarray)):
            per_sample = [images]
        else:
            per_sample = list(images)
        if len(per_sample) != len(texts):
            raise ValueError(f"Got {len(per_sample)} image entries for {len(texts)} texts; give one (or None) per text.")
        for idx, (sample, image) in enumerate(zip(texts, per_sample)):
            markers = sample.count(IMAGE)
            if markers > 1:
                raise ValueError(
                    f"Sample {idx} has {markers} {IMAGE} markers; CrossAttnVLM reads one screenshot per sample "
                    "(keep only the current screenshot and describe earlier ones in text)."
                )
            if markers != int(image is not None):
                raise ValueError(f"Sample {idx} has {markers} {IMAGE} markers but {int(image is not None)} images.")
        return per_sample

    def batch_decode(self, *args: Any, **kwargs: Any) -> list[str]:
        return self.tokenizer.batch_decode(*args, **kwargs)

    def decode(self, *args: Any, **kwargs: Any) -> str:
        return self.tokenizer.decode(*args, **kwargs)

    @property
    def model_input_names(self) -> list[str]:
        return ["input_ids", "attention_mask", "pixel_values", "high_res_pixel_values"]


__all__ = ["CrossAttnVLMProcessor"]
