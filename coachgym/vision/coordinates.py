"""The 0-999 screen coordinate convention shared by prompts, parsers and training data.

CogAgent-style models name screen points as integers in [0, 999] relative to the screenshot's
width and height, so one vocabulary works at any resolution and the numbers stay short. Converting
is pure arithmetic on the original screenshot size (the processor pads right/bottom, so the
screenshot's top-left is the model image's top-left). This module must not parse action text.
"""

from __future__ import annotations

#: Number of coordinate bins per axis; model coordinates are integers 0..SCALE-1.
SCALE = 1000


def to_model_coords(x: float, y: float, width: int, height: int) -> tuple[int, int]:
    """Pixel point on a `width` x `height` screenshot -> (x, y) in 0..999."""
    if width <= 0 or height <= 0:
        raise ValueError(f"Screenshot size must be positive, got {width}x{height}")

    def scale(value: float, size: int) -> int:
        return min(SCALE - 1, max(0, int(value * SCALE / size)))

    return scale(x, width), scale(y, height)


def to_pixels(x: int, y: int, width: int, height: int) -> tuple[int, int]:
    """Model (x, y) in 0..999 -> pixel at the centre of that bin on a `width` x `height` screenshot."""
    if not (0 <= x < SCALE and 0 <= y < SCALE):
        raise ValueError(f"Model coordinates must be integers in 0..{SCALE - 1}, got ({x}, {y})")

    def unscale(value: int, size: int) -> int:
        return min(size - 1, int((value + 0.5) * size / SCALE))

    return unscale(x, width), unscale(y, height)


__all__ = ["SCALE", "to_model_coords", "to_pixels"]
