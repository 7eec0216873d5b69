"""Metrics of custom training loops to the same places TRL's trainers send theirs.

SFT and DPO go through `transformers.Trainer`, which logs to `report_to` itself. The on-policy
loops (distill, RL) are our own, so without this module their numbers would reach only
`metrics.jsonl`. `MetricsReporter` writes every record there (append-only, so resumed runs keep
their history) and mirrors the numeric fields to TensorBoard and/or W&B, resolved the same way
as for SFT (`report_to: auto` = whichever is installed). This module must not compute metrics.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from coachgym.training.config import resolve_report_to


def scalars(record: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a (nested) record as `a/b` keys; None and text are left out."""
    out: dict[str, float] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out.update(scalars(value, f"{prefix}{key}/"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[f"{prefix}{key}"] = float(value)
    return out


class MetricsReporter:
    """One run's metric sinks; use as a context manager so writers are flushed and closed."""

    def __init__(self, output_dir: str | Path, report_to: list[str] | str, run_config: dict[str, Any] | None = None,
                 section: str = "train"):
        self.output_dir, self.section = Path(output_dir), section
        self.jsonl = open(self.output_dir / "metrics.jsonl", "a", encoding="utf-8")
        self.tensorboard = self.wandb = None
        targets = resolve_report_to(report_to)
        unknown = sorted(set(targets) - {"tensorboard", "wandb"})
        if unknown:
            raise ValueError(f"report_to {unknown} is not supported by the on-policy loops; use tensorboard, wandb "
                             "or none.")
        if "tensorboard" in targets:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as error:
                raise ImportError("report_to includes tensorboard but it is not installed: pip install tensorboard") \
                    from error
            self.tensorboard = SummaryWriter(log_dir=str(self.output_dir / "runs"))
        if "wandb" in targets:
            import wandb

            self.wandb = wandb.init(dir=str(self.output_dir), config=run_config or {}, resume="allow",
                                    name=self.output_dir.name)

    def log(self, record: dict[str, Any], step: int) -> None:
        self.jsonl.write(json.dumps(record) + "\n")
        self.jsonl.flush()
        values = {f"{self.section}/{k}": v for k, v in scalars(record).items()}
        if self.tensorboard is not None:
            for key, value in values.items():
                self.tensorboard.add_scalar(key, value, step)
            self.tensorboard.flush()
        if self.wandb is not None:
            self.wandb.log(values, step=step)

    def close(self) -> None:
        self.jsonl.close()
        if self.tensorboard is not None:
            self.tensorboard.close()
        if self.wandb is not None:
            self.wandb.finish()

    def __enter__(self) -> MetricsReporter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
