"""Image processor of the CrossAttnVLM: one screenshot -> a low-res and a high-res square tensor.

Each screenshot is resized to both encoder sizes by squashing it to a square (CogAgent does the
same at 1120 px) rather than fitting it and padding. Measured on the screens coachgym renders: a
504x1120 phone screenshot padded to 1120x1120 fills 2,880 of 6,400 high-res 14-px patches (45%)
and a 1280x720 browser page 56%; squashed, every patch carries screen content, and neither axis
gets fewer pixels per screen pixel than padding gives it (the phone's height keeps 1:1 and its
width is stretched 2.2x; the page's width gets the same 0.875 and its height 1.56x instead of
0.875). So no patch needs masking in cross-attention, and a 0-999 screen coordinate is the same
fraction of the model image on both axes for every screen shape.
This module must not tokenize text or run models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image
from transformers import BaseImageProcessor, BatchFeature

ImageLike = Image.Image | np.ndarray


def to_pil(image: ImageLike) -> Image.Image:
    """RGB PIL image from a PIL image or an HxWx3 (or HxW) uint8 array such as an env screenshot."""
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ValueError(f"Expected an HxWx3 uint8 screenshot, got array of shape {array.shape} and {array.dtype}")
    return Image.fromarray(array).convert("RGB")


class CrossAttnVLMImageProcessor(BaseImageProcessor):
    r"""
    Args:
        image_size: low-res encoder input size in pixels (its patches become LM tokens).
        high_res_image_size: high-res encoder input size in pixels (CogAgent: 1120), read by cross-attention.
        image_mean / image_std: per-channel normalisation (SigLIP uses 0.5 / 0.5).
    """

    model_input_names = ["pixel_values", "high_res_pixel_values"]

    def __init__(
        self,
        image_size: int = 224,
        high_res_image_size: int = 1120,
        image_mean: Sequence[float] = (0.5, 0.5, 0.5),
        image_std: Sequence[float] = (0.5, 0.5, 0.5),
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.image_size = image_size
        self.high_res_image_size = high_res_image_size
        self.image_mean = list(image_mean)
        self.image_std = list(image_std)

    def square(self, image: ImageLike, size: int) -> torch.Tensor:
        """Normalised `[3, size, size]`: the whole screenshot squashed to the square."""
        resized = to_pil(image).resize((size, size), Image.Resampling.BICUBIC)
        pixels = np.asarray(resized, dtype=np.float32) / 255.0
        pixels = (pixels - np.asarray(self.image_mean, np.float32)) / np.asarray(self.image_std, np.float32)
        return torch.from_numpy(pixels.transpose(2, 0, 1).copy())

    def preprocess(self, images: ImageLike | Sequence[ImageLike], return_tensors: str | None = "pt",
                   **kwargs: Any) -> BatchFeature:
        """`pixel_values` and `high_res_pixel_values`, one row per image in order."""
        if kwargs:
            raise TypeError(f"CrossAttnVLMImageProcessor takes no options {sorted(kwargs)}; "
                            "set the sizes when building it.")
        batch = [images] if isinstance(images, (Image.Image, np.ndarray)) else list(images)
        data = {"pixel_values": torch.stack([self.square(image, self.image_size) for image in batch]),
                "high_res_pixel_values": torch.stack([self.square(image, self.high_res_image_size) for image in batch])}
        return BatchFeature(data=data, tensor_type=return_tensors)


__all__ = ["CrossAttnVLMImageProcessor", "to_pil"]
