"""Gymnasium spaces for language-model environments.

Gymnasium's `Text` space only admits characters from a fixed charset, but agents emit arbitrary
Unicode (code, CJK, emoji). `UnicodeText` admits any string up to a length bound so that
`check_env` and vector envs accept real observations and actions. It must not truncate or alter
text: envs do their own truncation and say so in the observation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.spaces import Text

# Characters used only when *sampling*: printable ASCII plus a handful of multi-byte code points
# so random actions exercise Unicode handling in parsers.
_SAMPLE_CHARSET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " \n\t()[]{}<>=,.;:'\"`!?@#$%^&*-_+/\\|~"
    "éßøΩжд中文字🙂→€"
)


class UnicodeText(Text):
    """A text space whose members are any `str` with `min_length <= len <= max_length`."""

    def __init__(self, max_length: int, *, min_length: int = 0, seed: int | np.random.Generator | None = None):
        super().__init__(max_length=max_length, min_length=min_length, charset=_SAMPLE_CHARSET, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        # Short samples keep fuzzing and check_env fast; the bound is still respected.
        length = int(self.np_random.integers(self.min_length, min(self.max_length, 64) + 1))
        chars = self.np_random.choice(list(_SAMPLE_CHARSET), size=length)
        return "".join(chars.tolist())

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, UnicodeText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )
