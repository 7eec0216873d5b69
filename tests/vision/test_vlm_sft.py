"""The tiny VLM trains under TRL's SFTTrainer with the vision collator and gradient checkpointing."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from datasets import Dataset
from trl import SFTConfig, SFTTrainer

from coachgym.vision import tiny_vlm
from coachgym.vision.collator import IGNORE_INDEX, CrossAttnVLMCollator


def _examples(n: int) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        shot = rng.integers(0, 256, (64, 32 + 8 * i, 3), dtype=np.uint8)
        rows.append({
            "messages": [
                {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": f"open app {i}"}]},
                {"role": "assistant", "content": [{"type": "text", "text": f"tap({100 * i}, 500)"}]},
            ],
            "images": [Image.fromarray(shot)],
        })
    return rows


def test_collator_trains_only_the_final_assistant_turn():
    _, processor = tiny_vlm()
    batch = CrossAttnVLMCollator(processor)(_examples(2))
    for row in range(2):
        kept = batch["labels"][row][batch["labels"][row] != IGNORE_INDEX]
        assert processor.decode(kept) == f"tap({100 * row}, 500)<|im_end|>\n"
    assert batch["pixel_values"].shape[0] == batch["high_res_pixel_values"].shape[0] == 2


def test_sft_trainer_steps_with_gradient_checkpointing(tmp_path):
    model, processor = tiny_vlm(seed=5, cross_attn_gate_init=0.5)
    before = model.model.high_res_vision_tower.embeddings.patch_embedding.weight.detach().clone()
    rows = _examples(4)
    dataset = Dataset.from_list(rows)  # images become a datasets Image column, decoded to PIL

    args = SFTConfig(
        output_dir=str(tmp_path),
        max_steps=2,
        per_device_train_batch_size=2,
        learning_rate=1e-3,
        activation_checkpointing=True,
        remove_unused_columns=False,
        dataset_kwargs={"skip_prepare_dataset": True},
        report_to=[],
        save_strategy="no",
        logging_steps=1,
        use_cpu=True,
    )
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, data_collator=CrossAttnVLMCollator(processor),
                         processing_class=processor)
    result = trainer.train()
    assert result.global_step == 2
    assert np.isfinite(result.training_loss)
    assert model.is_activation_checkpointing
    after = model.model.high_res_vision_tower.embeddings.patch_embedding.weight
    assert not torch.equal(before, after)
