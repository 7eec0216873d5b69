"""SFT for the coachgym VLM on screen trajectories: one training sample per step.

CrossAttnVLM reads one screenshot per sample, so a trajectory with screenshots becomes one
sample per step: earlier turns as text, the current observation with its screenshot, and the
step's action as the only trained tokens (labels -100 elsewhere, image placeholders included).
Training goes through the same `CoachSFTTrainer` with a collator that renders, tokenizes and
preprocesses images on the fly (TRL's dataset preparation is skipped). This module must not
define models or processors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset, concatenate_datasets
from PIL import Image

from coachgym.training.data import IGNORE
from coachgym.trajectories.filters import TrajectoryFilter
from coachgym.trajectories.records import Trajectory
from coachgym.trajectories.store import TrajectoryStore


def step_samples(trajectory: Trajectory, store_folder: Path) -> list[dict[str, Any]]:
    """One sample per trainable step: `conversation` (JSON messages) and `screenshot` (file or "")."""
    history: list[dict[str, Any]] = []
    if trajectory.system_prompt is not None:
        history.append({"role": "system", "content": trajectory.system_prompt})
    history += trajectory.preamble
    samples = []
    for step in trajectory.steps:
        user: Any = step.observation
        if step.image:
            user = [{"type": "image"}, {"type": "text", "text": step.observation}]
        if step.train:
            messages = history + [{"role": "user", "content": user}, {"role": "assistant", "content": step.action}]
            samples.append({"conversation": json.dumps(messages),
                            "screenshot": str(Path(store_folder) / step.image) if step.image else ""})
        history += [{"role": "user", "content": step.observation}, {"role": "assistant", "content": step.action}]
    return samples


def vision_dataset(trajectories: list[Trajectory], store_folder: Path) -> Dataset:
    return Dataset.from_list([s for t in trajectories for s in step_samples(t, store_folder)])


class VisionSFTCollator:
    """Right-padded `input_ids`/`attention_mask`/`labels` plus `pixel_values` and
    `high_res_pixel_values` (one row per sample that has a screenshot, in sample order)."""

    def __init__(self, processor: Any, max_length: int | None = None):
        self.processor = processor
        self.tokenizer = processor.tokenizer
        self.max_length = max_length
        end = self.tokenizer.convert_tokens_to_ids("<|im_end|>")
        self.end_of_turn = end if end is not None and end != self.tokenizer.unk_token_id else self.tokenizer.eos_token_id

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(self.processor.expand_image_tokens(text), add_special_tokens=False)["input_ids"]

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        rows, images = [], []
        for example in examples:
            messages = json.loads(example["conversation"])
            prompt = self._ids(self.processor.render(messages[:-1], add_generation_prompt=True))
            full = self._ids(self.processor.render(messages))
            if full[: len(prompt)] != prompt:
                raise ValueError("The VLM chat template does not render the prompt as a prefix of the full "
                                 "conversation; cannot locate the action tokens.")
            target = full[len(prompt):]
            end = self.end_of_turn
            if end in target:  # train up to the end-of-turn token, not the template's trailing text
                target = target[: target.index(end) + 1] + [IGNORE] * (len(target) - target.index(end) - 1)
            labels = [IGNORE] * len(prompt) + target
            rows.append((full[: self.max_length], labels[: self.max_length]))
            if example["screenshot"]:
                images.append(self.processor.preprocess_image(Image.open(example["screenshot"]).convert("RGB")))
        length = max(len(ids) for ids, _ in rows)
        pad = self.tokenizer.pad_token_id
        batch = {
            "input_ids": torch.tensor([ids + [pad] * (length - len(ids)) for ids, _ in rows]),
            "attention_mask": torch.tensor([[1] * len(ids) + [0] * (length - len(ids)) for ids, _ in rows]),
            "labels": torch.tensor([labels + [IGNORE] * (length - len(labels)) for _, labels in rows]),
        }
        if images:
            batch["pixel_values"] = torch.stack([low for low, _ in images])
            batch["high_res_pixel_values"] = torch.stack([high for _, high in images])
        return batch


def run_vision_sft(config, model: Any = None, processor: Any = None) -> Path:
    """SFT of a CrossAttnVLM checkpoint (`config.model`) on the screenshots of the configured
    trajectory stores; returns `output_dir/final` with the model and its processor."""
    from coachgym.training.sft import CoachSFTTrainer, newest_checkpoint, sft_arguments

    if model is None or processor is None:
        from coachgym.training.policy import vlm_processor
        from coachgym.training.models import load_model

        model, processor = load_model(config.model)
        if vlm_processor(processor) is None:
            raise ValueError(f"{config.model} is not a CrossAttnVLM checkpoint; `vision: true` needs one.")
    parts = []
    for source in config.data:
        keep = TrajectoryFilter(success=True if source.success_only else None, min_reward=source.min_reward)
        store = TrajectoryStore(source.path)
        trajectories, _ = store.load()
        parts.append(vision_dataset(list(keep.apply(trajectories))[: source.max_examples], store.folder))
    args = sft_arguments(config.model_copy(update={"packing": False, "group_by_length": False}))
    args.remove_unused_columns = False
    args.dataset_kwargs = {"skip_prepare_dataset": True}
    trainer = CoachSFTTrainer(model=model, args=args, train_dataset=concatenate_datasets(parts).shuffle(seed=config.seed),
                              processing_class=processor.tokenizer, per_sequence_loss=config.per_sequence_loss,
                              data_collator=VisionSFTCollator(processor, config.max_length),
                              peft_config=config.lora.peft_config() if config.lora else None)
    checkpoint = newest_checkpoint(config.output_dir) if config.resume else None
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    final = Path(config.output_dir) / "final"
    trained = trainer.model.merge_and_unload() if config.lora else trainer.model
    trained.save_pretrained(final)
    processor.save_pretrained(final)
    return final
