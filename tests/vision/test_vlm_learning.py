"""Learning test: detail readable only at high resolution is learned only through cross-attention.

Each screenshot is a grey 112 px screen with a band of "tiny print": one of four 1-pixel textures
(horizontal stripes, vertical stripes, checkerboard, diagonal) across a random 28 px row band. All
four have the grey background's mean intensity, so the 28 px low-res view sees a uniform grey
screen: only the high-res branch can tell them apart. Two copies of one tiny model get the same data, seed and steps; one is trained
and evaluated with the high-res branch disabled (no high-res input). The high-res model must win.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from coachgym.vision import tiny_vlm
from coachgym.vision.collator import CrossAttnVLMCollator

ANSWERS = ["H", "V", "C", "D"]
SIZE, BAND = 112, 28


def _texture(kind: int) -> np.ndarray:
    y, x = np.mgrid[0:BAND, 0:SIZE]
    pattern = [y % 2, x % 2, (x + y) % 2, ((x - y) // 2) % 2][kind]
    return (pattern * 255).astype(np.uint8)


def _dataset(n: int, seed: int) -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        kind = int(rng.integers(4))
        screen = np.full((SIZE, SIZE), 128, dtype=np.uint8)
        top = 14 * int(rng.integers(0, (SIZE - BAND) // 14 + 1))
        screen[top:top + BAND] = _texture(kind)
        rows.append((np.repeat(screen[:, :, None], 3, axis=2), kind))
    return rows


def _example(screen: np.ndarray, kind: int) -> dict:
    return {
        "messages": [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "texture?"}]},
            {"role": "assistant", "content": ANSWERS[kind]},
        ],
        "images": [screen],
    }


def _accuracy(model, processor, rows, use_high_res: bool) -> float:
    answer_ids = torch.tensor([processor.tokenizer.convert_tokens_to_ids(a) for a in ANSWERS])
    prompts = [processor.render(_example(s, k)["messages"][:1], add_generation_prompt=True) for s, k in rows]
    batch = processor(text=prompts, images=[s for s, _ in rows])
    if not use_high_res:
        del batch["high_res_pixel_values"]
    with torch.no_grad():
        logits = model.eval()(**batch).logits[:, -1, answer_ids]
    truth = torch.tensor([k for _, k in rows])
    return (logits.argmax(-1) == truth).float().mean().item()


def _train(use_high_res: bool, rows, steps: int = 30, batch_size: int = 16):
    model, processor = tiny_vlm(seed=0, cross_attn_gate=False)
    collator = CrossAttnVLMCollator(processor)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(steps):
        picks = torch.randint(len(rows), (batch_size,), generator=generator).tolist()
        batch = collator([_example(*rows[i]) for i in picks])
        if not use_high_res:
            del batch["high_res_pixel_values"]
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model, processor


@pytest.mark.slow  # ~70 s of CPU (two 30-step trainings); measured margin 1.000 vs 0.258
def test_high_res_branch_reads_detail_the_low_res_view_cannot():
    torch.manual_seed(0)
    train_rows, eval_rows = _dataset(256, seed=1), _dataset(128, seed=2)
    with_branch, processor = _train(True, train_rows)
    without_branch, _ = _train(False, train_rows)
    accuracy_with = _accuracy(with_branch, processor, eval_rows, use_high_res=True)
    accuracy_without = _accuracy(without_branch, processor, eval_rows, use_high_res=False)
    print(f"held-out accuracy: high-res branch {accuracy_with:.3f}, branch disabled {accuracy_without:.3f}")
    assert accuracy_without < 0.45  # chance is 0.25: the low-res view really is uninformative
    assert accuracy_with > 0.8
    assert accuracy_with - accuracy_without > 0.4
