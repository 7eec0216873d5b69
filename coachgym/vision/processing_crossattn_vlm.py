"""Processor turning chat messages with screenshots into CrossAttnVLM inputs.

Each screenshot is resized twice with its aspect ratio preserved and padded right/bottom to a
square (with zeros after normalisation, i.e. the mean colour): once to the low-res encoder size
(`pixel_values`, whose patch tokens enter the LM sequence at the expanded `<image>` placeholders)
and once to the high-res size (`high_res_pixel_values`, read only through cross-attention).
Padding right/bottom keeps the screenshot's top-left at the image origin, so the 0-999
coordinate convention of `coordinates` is relative to the real screen.
This module must not run models or decide what an agent's prompt says.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image
from transformers import BatchFeature, ProcessorMixin

from .tokenizer import IMAGE  # relative: shipped as remote code with the processor

ImageLike = Image.Image | np.ndarray


def to_pil(image: ImageLike) -> Image.Image:
    """RGB PIL image from a PIL image or an HxWx3 (or HxW) uint8 array such as an env screenshot."""
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ValueError(f"Expected an HxWx3 uint8 screenshot, got array of shape {array.shape} and {array.dtype}")
    return Image.fromarray(array).convert("RGB")


def fit_longest_side(image: Image.Image, size: int) -> Image.Image:
    """Resize so the longest side is `size`, keeping the aspect ratio."""
    scale = size / max(image.size)
    width, height = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    return image.resize((width, height), Image.Resampling.BICUBIC)


class CrossAttnVLMProcessor(ProcessorMixin):
    r"""
    Args:
        tokenizer: the LM's tokenizer; must know the `<image>` token.
        image_seq_length: placeholder tokens per image (= `CrossAttnVLMConfig.image_seq_length`).
        image_size: low-res encoder input size in pixels.
        high_res_image_size: high-res encoder input size in pixels (CogAgent: 1120).
        image_mean / image_std: per-channel normalisation (SigLIP uses 0.5 / 0.5).
        chat_template: Jinja template; `{"type": "image"}` content parts render as `<image>`.
    """

    def __init__(
        self,
        tokenizer: Any = None,
        image_seq_length: int = 256,
        image_size: int = 224,
        high_res_image_size: int = 1120,
        image_mean: Sequence[float] = (0.5, 0.5, 0.5),
        image_std: Sequence[float] = (0.5, 0.5, 0.5),
        chat_template: str | None = None,
    ):
        self.image_seq_length = image_seq_length
        self.image_size = image_size
        self.high_res_image_size = high_res_image_size
        self.image_mean = list(image_mean)
        self.image_std = list(image_std)
        if chat_template is None:
            chat_template = getattr(tokenizer, "chat_template", None)
        super().__init__(tokenizer, chat_template=chat_template)
        self.image_token = IMAGE
        self.image_token_id = tokenizer.convert_tokens_to_ids(IMAGE)
        if self.image_token_id is None or self.image_token_id == tokenizer.unk_token_id:
            raise ValueError(f"The tokenizer has no {IMAGE} token; add it with tokenizer.add_special_tokens first.")

    def _square_tensor(self, image: Image.Image, size: int) -> torch.Tensor:
        """Normalised `[3, size, size]`: the fitted image top-left, zeros (the mean colour) elsewhere."""
        fitted = np.asarray(fit_longest_side(image, size), dtype=np.float32) / 255.0
        fitted = (fitted - np.asarray(self.image_mean, np.float32)) / np.asarray(self.image_std, np.float32)
        canvas = torch.zeros(3, size, size)
        canvas[:, : fitted.shape[0], : fitted.shape[1]] = torch.from_numpy(fitted.transpose(2, 0, 1).copy())
        return canvas

    def preprocess_image(self, image: ImageLike) -> tuple[torch.Tensor, torch.Tensor]:
        """Low-res and high-res tensors `[3, s, s]` for one screenshot."""
        pil = to_pil(image)
        return self._square_tensor(pil, self.image_size), self._square_tensor(pil, self.high_res_image_size)

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
        pairs = [self.preprocess_image(image) for image in per_sample if image is not None]
        if pairs:
            data["pixel_values"] = torch.stack([low for low, _ in pairs])
            data["high_res_pixel_values"] = torch.stack([high for _, high in pairs])
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


__all__ = ["CrossAttnVLMProcessor", "fit_longest_side", "to_pil"]
