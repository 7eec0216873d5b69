"""Settings shared by every training command, and YAML loading.

Each trainer has a pydantic config whose field descriptions are its documentation (TRL's config
dataclasses are the model). Shared pieces live here: the model to start from, LoRA, the run's
bookkeeping (output folder, checkpoints, resumption, logging). Configs are `StrictModel`s: an
unknown key or an out-of-range value is an error, never silently ignored. This module must not train.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, Field

from coachgym.strict import StrictModel

ConfigT = TypeVar("ConfigT", bound=BaseModel)


class LoraSettings(StrictModel):
    """LoRA adapters via PEFT; leave `lora` unset in a config for a full fine-tune."""

    r: int = Field(default=8, ge=1, description="Adapter rank.")
    alpha: int = Field(default=16, ge=1, description="Scaling numerator (lora_alpha).")
    dropout: float = Field(default=0.0, ge=0, lt=1)
    target_modules: list[str] | str = Field(default="all-linear", description="Module names, or 'all-linear'.")

    def peft_config(self):
        from peft import LoraConfig

        return LoraConfig(r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout,
                          target_modules=self.target_modules, task_type="CAUSAL_LM")


class RunSettings(StrictModel):
    """Where a run writes and how it reports."""

    model: Path = Field(description="Checkpoint folder to start from (save_pretrained layout, tokenizer included).")
    output_dir: Path = Field(description="Run folder: checkpoints, metrics.jsonl and the final model in `final/`.")
    lora: LoraSettings | None = Field(default=None, description="Train LoRA adapters instead of all weights.")
    seed: int = 0
    resume: bool = Field(default=True, description="Continue from the newest checkpoint in output_dir if any.")
    report_to: list[str] | str = Field(default="auto", description="'auto' = every installed logger among "
                                       "tensorboard and wandb; 'none'; or a list.")
    progress: bool = Field(default=True, description="Show progress bars.")


def resolve_report_to(report_to: list[str] | str) -> list[str]:
    """'auto' keeps the loggers that are installed, so configs work on machines without them."""
    if report_to == "none":
        return []
    if report_to == "auto":
        return [name for name in ("tensorboard", "wandb") if importlib.util.find_spec(name) is not None]
    return [report_to] if isinstance(report_to, str) else list(report_to)


def load_config(cls: type[ConfigT], path: str | Path) -> ConfigT:
    """Read a YAML (or JSON) run file into `cls`; errors name the file and the bad field."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Config file {path} does not exist.")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a mapping of config fields, got {type(data).__name__}.")
    return cls.model_validate(data)
