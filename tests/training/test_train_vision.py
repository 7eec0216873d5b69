"""SFT of the tiny CrossAttnVLM on screen trajectories: one sample per step, actions-only labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from coachgym.training.data import IGNORE, DataSource
from coachgym.training.sft import SFTRunConfig, run_sft
from coachgym.training.vision_sft import VisionSFTCollator, run_vision_sft, vision_dataset
from coachgym.trajectories.records import Step, Trajectory
from coachgym.trajectories.store import TrajectoryStore
from coachgym.vision.modeling_crossattn_vlm import CrossAttnVLMForConditionalGeneration
from coachgym.vision.tiny import tiny_vlm


def _screen_store(folder) -> TrajectoryStore:
    store = TrajectoryStore(folder)
    for index in range(3):
        trajectory = Trajectory(task_id=f"tap-{index}", env="phone", agent="scripted", system_prompt="Tap targets.",
                                success=True, reward=1.0)
        for step in range(2):
            image = store.save_image(trajectory.id, step, np.full((40, 24, 3), 60 * index + step, np.uint8))
            trajectory.steps.append(Step(index=step, observation=f"screen {step}", image=image,
                                         action=f"click(x={index}, y={step})"))
        store.append(trajectory)
    return store


def test_train_vision_samples_train_only_the_step_action_with_its_screenshot(tmp_path):
    store = _screen_store(tmp_path / "screens")
    trajectories, _ = store.load()
    _, processor = tiny_vlm()
    dataset = vision_dataset(trajectories, store.folder)
    assert len(dataset) == 6
    batch = VisionSFTCollator(processor)([dataset[0], dataset[1]])
    assert batch["pixel_values"].shape[0] == 2 and batch["high_res_pixel_values"].shape[0] == 2
    trained = [t for t in batch["labels"][1].tolist() if t != IGNORE]
    assert processor.tokenizer.decode(trained) == trajectories[0].steps[1].action + "<|im_end|>"
    assert "click(x=0, y=0)" in processor.tokenizer.decode(batch["input_ids"][1])  # history stays as context
    image_positions = batch["input_ids"] == processor.image_token_id
    assert image_positions.any() and (batch["labels"][image_positions] == IGNORE).all()


def test_train_vision_sft_trains_and_reloads(tmp_path):
    store = _screen_store(tmp_path / "screens")
    model, processor = tiny_vlm()
    model.save_pretrained(tmp_path / "vlm")
    processor.save_pretrained(tmp_path / "vlm")
    config = SFTRunConfig(model=tmp_path / "vlm", output_dir=tmp_path / "run", vision=True, max_steps=2,
                          batch_size=2, learning_rate=1e-2, report_to="none", progress=False,
                          data=[DataSource(path=store.folder)])
    with pytest.raises(ValueError, match="run_vision_sft"):  # text SFT does not silently take a VLM config
        run_sft(config)
    final = run_vision_sft(config)
    trained = CrossAttnVLMForConditionalGeneration.from_pretrained(final)
    before = model.state_dict()
    assert any(not torch.equal(before[k], v) for k, v in trained.state_dict().items())
