"""Shared tiny-VLM fixtures for the vision tests (built locally, nothing downloaded)."""

from __future__ import annotations

import numpy as np
import pytest

from coachgym.vision import tiny_vlm


@pytest.fixture(scope="module")
def active_vlm():
    """Tiny model whose cross-attention branch is active from the start (gate tanh(0.5))."""
    model, processor = tiny_vlm(seed=0, cross_attn_gate_init=0.5)
    return model.eval(), processor


@pytest.fixture(scope="module")
def screenshots() -> list[np.ndarray]:
    """Two screenshots of different aspect ratios, like a phone and a browser window."""
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (96, 48, 3), dtype=np.uint8), rng.integers(0, 256, (60, 100, 3), dtype=np.uint8)]

