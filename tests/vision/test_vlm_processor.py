"""Processor: placeholder expansion, squash resize through the image processor, clear errors, 0-999 coordinates."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer
from vlm_messages import user_turn

from coachgym.vision import to_model_coords, to_pixels, tiny_vlm


@pytest.fixture(scope="module")
def processor():
    return tiny_vlm()[1]


def test_image_marker_expands_to_image_seq_length_placeholders(processor, screenshots):
    prompt = processor.render(user_turn("what is on screen?", True), add_generation_prompt=True)
    batch = processor(text=[prompt], images=[screenshots[0]])
    assert int((batch["input_ids"] == processor.image_token_id).sum()) == processor.image_seq_length
    size = processor.image_processor.image_size
    assert batch["pixel_values"].shape == (1, 3, size, size)
    size = processor.image_processor.high_res_image_size
    assert batch["high_res_pixel_values"].shape == (1, 3, size, size)
    assert processor.decode(batch["input_ids"][0]).endswith("what is on screen?<|im_end|>\n<|im_start|>assistant\n")


def test_every_high_res_patch_shows_the_screen_whatever_its_shape(processor):
    size = processor.image_processor.high_res_image_size
    for shape in ((200, 90), (60, 100)):  # a tall phone and a wide browser screenshot
        screen = np.full((*shape, 3), 255, dtype=np.uint8)
        screen[shape[0] // 2:, : shape[1] // 2] = 0  # bottom-left quarter black
        _, high = processor.preprocess_image(screen)
        assert high.shape == (3, size, size)
        half = size // 2  # the quarter lands on the model image's bottom-left quarter: no padding anywhere
        assert torch.all(high[:, 2: half - 2, :] == 1.0) and torch.all(high[:, half + 2:, half + 2:] == 1.0)
        assert torch.all(high[:, half + 2:, : half - 2] == -1.0)


def test_image_processor_loads_with_auto_image_processor(processor, tmp_path):
    from transformers import AutoImageProcessor

    processor.save_pretrained(tmp_path)
    loaded = AutoImageProcessor.from_pretrained(tmp_path)
    assert type(loaded).__name__ == "CrossAttnVLMImageProcessor"
    assert loaded.high_res_image_size == processor.image_processor.high_res_image_size
    screen = np.random.default_rng(1).integers(0, 256, (90, 40, 3), dtype=np.uint8)
    assert torch.equal(loaded(screen)["high_res_pixel_values"][0], processor.preprocess_image(screen)[1])


def test_marker_and_image_mismatches_are_explained(processor, screenshots):
    two_markers = processor.render(
        [{"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": "x"}]}]
    )
    with pytest.raises(ValueError, match="one screenshot per sample"):
        processor(text=[two_markers], images=[screenshots[0]])
    with pytest.raises(ValueError, match="1 image entries for 2 texts"):
        processor(text=["a", "b"], images=[screenshots[0]])
    with pytest.raises(ValueError, match="0 <image> markers but 1 images"):
        processor(text=["no marker"], images=[screenshots[0]])
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        processor.preprocess_image(np.zeros((4, 4, 3), dtype=np.float32))


def test_tokenizer_round_trips_and_reloads_with_auto_tokenizer(processor, tmp_path):
    text = "Tap «Envoyer» at (500, 912) ✓"
    ids = processor.tokenizer(text)["input_ids"]
    assert processor.decode(ids) == text
    processor.tokenizer.save_pretrained(tmp_path)
    assert AutoTokenizer.from_pretrained(tmp_path)(text)["input_ids"] == ids


def test_coordinates_are_0_to_999_relative_to_the_screenshot():
    assert to_model_coords(0, 0, 1080, 2400) == (0, 0)
    assert to_model_coords(1079, 2399, 1080, 2400) == (999, 999)
    assert to_model_coords(540, 1200, 1080, 2400) == (500, 500)
    for x, y in [(0, 0), (13, 777), (1079, 2399)]:
        back = to_pixels(*to_model_coords(x, y, 1080, 2400), 1080, 2400)
        assert abs(back[0] - x) <= 1080 / 1000 and abs(back[1] - y) <= 2400 / 1000
    with pytest.raises(ValueError, match="0..999"):
        to_pixels(1000, 5, 1080, 2400)
