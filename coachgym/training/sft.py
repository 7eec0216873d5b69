"""Supervised fine-tuning on agent trajectories mixed with chat data (AgentTuning recipe).

A thin layer over TRL's `SFTTrainer`: coachgym builds the mixed, tokenized dataset with
assistant-only labels (`data.py`), and the trainer packs it (best-fit decreasing, padding-free
with per-sequence position ids) where FlashAttention varlen kernels run, or pads it in
length-grouped batches, faster without them (`layout.py`). The one thing changed in
the trainer is the loss reduction: with `per_sequence_loss`, each sequence's mean token loss
counts equally (LongAlign), instead of long sequences dominating a token-level mean; this also
makes the loss the same whether or not sequences are packed. Multi-GPU is `accelerate launch`
around the same command. This module must not collect data or run envs.
"""

from __future__ import annotations

from pathlib import Path

import torch
from pydantic import Field
from transformers import PreTrainedModel, PreTrainedTokenizerBase
from trl import SFTConfig, SFTTrainer

from coachgym.training.config import RunSettings, resolve_report_to
from coachgym.training.data import DataSource, build_dataset, mix_sources
from coachgym.training.layout import use_packing, varlen_attention
from coachgym.training.models import load_model


class SFTRunConfig(RunSettings):
    """`coachgym train sft --config run.yaml`."""

    data: list[DataSource] = Field(description="Sources and their mixing weights.")
    epochs: float = Field(default=3.0, gt=0, description="Passes over the mixed data (ignored when max_steps > 0).")
    max_steps: int = Field(default=-1, ge=-1, description="Optimizer steps; -1 = use epochs.")
    learning_rate: float = Field(default=1e-3, gt=0)
    batch_size: int = Field(default=8, ge=1, description="Sequences (or packed rows) per device per step.")
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    max_length: int = Field(default=1024, ge=1, description="Truncation length; with packing, the packed row length.")
    packing: bool | None = Field(default=None, description="Pack sequences (best-fit decreasing) without padding; "
                                 "None: pack where FlashAttention varlen kernels run (CUDA with flash-attn or "
                                 "kernels), else length-grouped padded batches (faster on CPU; see layout.py).")
    group_by_length: bool = Field(default=True, description="Without packing: batch sequences of similar length.")
    per_sequence_loss: bool = Field(default=True, description="Average the loss per sequence, then over sequences.")
    warmup_ratio: float = Field(default=0.0, ge=0, le=1)
    logging_steps: int = Field(default=10, ge=1)
    save_steps: int = Field(default=200, ge=1, description="Checkpoint every this many steps (kept: the newest 2).")
    vision: bool = Field(default=False, description="`model` is a CrossAttnVLM: train on the screenshots of the "
                         "trajectory stores in `data`, one sample per step (see vision_sft.py).")


def sequence_ids(inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """Which sequence each position belongs to: rows when padded, position-id resets when packed."""
    labels = inputs["labels"]
    rows = torch.arange(labels.size(0), device=labels.device)[:, None].expand_as(labels) * labels.size(1)
    if "position_ids" in inputs and "attention_mask" not in inputs:
        return rows + (inputs["position_ids"] == 0).cumsum(dim=1)
    return rows


def per_sequence_weights(seq: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Token weights that give each sequence's mean loss an equal share: 1 / (tokens in its
    sequence * sequences in the batch); zero where `mask` is False."""
    mask = mask.float()
    _, inverse = torch.unique(seq, return_inverse=True)
    counts = torch.zeros(int(inverse.max()) + 1, device=mask.device).index_add_(0, inverse.flatten(), mask.flatten())
    sequences = (counts > 0).sum().clamp(min=1)
    return mask / counts[inverse].clamp(min=1) / sequences


@torch.no_grad()
def mean_sequence_loss(trainer: CoachSFTTrainer) -> float:
    """Mean per-sequence loss of the trainer's current model over one pass of its train batches:
    the same number in every layout (packed, grouped or random padded), which is how they are checked."""
    total, sequences = 0.0, 0
    trainer.model.eval()
    for batch in trainer.get_train_dataloader():
        count = int(torch.unique(sequence_ids(batch)).numel())
        total += float(trainer.compute_loss(trainer.model, batch)) * count
        sequences += count
    trainer.model.train()
    return total / sequences


class CoachSFTTrainer(SFTTrainer):
    """`SFTTrainer` with the per-sequence loss reduction (the default token mean when off)."""

    def __init__(self, *args, per_sequence_loss: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.per_sequence_loss = per_sequence_loss
        if per_sequence_loss:
            self.loss_is_scaled_for_ga = False  # a per-micro-batch mean: let Trainer divide by accumulation

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if not self.per_sequence_loss:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        inputs = {**inputs, "use_cache": False}
        outputs = model(**inputs, fused_lm_head=True)
        weights = per_sequence_weights(sequence_ids(inputs)[:, 1:], outputs.label_mask)
        loss = -(outputs.log_probs * weights).sum()
        return (loss, outputs) if return_outputs else loss


def sft_arguments(config: SFTRunConfig) -> SFTConfig:
    packing = use_packing(config.packing)
    # TRL defaults to bf16 autocast; on CPU that ran 4.5x slower than fp32 (tiny VLM SFT step:
    # 3.0 s vs 0.66 s on 2 cores), so bf16 is for GPUs only.
    return SFTConfig(
        output_dir=str(config.output_dir), num_train_epochs=config.epochs, max_steps=config.max_steps,
        learning_rate=config.learning_rate, per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps, max_length=config.max_length,
        packing=packing, train_sampling_strategy="group_by_length" if config.group_by_length and not packing
        else "random", warmup_steps=config.warmup_ratio, logging_steps=config.logging_steps,
        save_steps=config.save_steps, save_total_limit=2, seed=config.seed, report_to=resolve_report_to(config.report_to),
        disable_tqdm=not config.progress, use_cpu=not torch.cuda.is_available(), dataloader_pin_memory=False,
        save_only_model=False, remove_unused_columns=True, bf16=torch.cuda.is_available(),
    )


def sft_trainer(config: SFTRunConfig, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                rows: list[dict]) -> CoachSFTTrainer:
    """The trainer `train_sft` runs, with the layout (packed or padded) and attention `config` resolves to."""
    packing = use_packing(config.packing)
    dataset = build_dataset(tokenizer, rows, None if packing else config.max_length)
    if packing and varlen_attention():
        model.set_attn_implementation(varlen_attention())  # padding-free rows: per-sequence varlen kernels
    return CoachSFTTrainer(
        model=model, args=sft_arguments(config), train_dataset=dataset, processing_class=tokenizer,
        peft_config=config.lora.peft_config() if config.lora else None, per_sequence_loss=config.per_sequence_loss,
    )


def train_sft(config: SFTRunConfig, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
              rows: list[dict]) -> Path:
    """Fine-tune `model` on chat `rows` (messages + per-turn train flags); returns `output_dir/final`."""
    trainer = sft_trainer(config, model, tokenizer, rows)
    checkpoint = newest_checkpoint(config.output_dir) if config.resume else None
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    final = Path(config.output_dir) / "final"
    trained = trainer.model
    if config.lora:
        trained = trained.merge_and_unload()  # downstream steps load a plain checkpoint
    trained.save_pretrained(final)
    tokenizer.save_pretrained(final)
    return final


def run_sft(config: SFTRunConfig) -> Path:
    """Mix the configured sources, fine-tune `config.model`, and return the final checkpoint folder."""
    if config.vision:
        raise ValueError("run_sft trains on text; a `vision: true` config runs through "
                         "coachgym.training.vision_sft.run_vision_sft (as `coachgym train sft` does).")
    model, tokenizer = load_model(config.model)
    return train_sft(config, model, tokenizer, mix_sources(config.data, seed=config.seed))


def newest_checkpoint(output_dir: Path) -> Path | None:
    checkpoints = sorted(Path(output_dir).glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return checkpoints[-1] if checkpoints else None
