"""`coachgym train sft|distill|rl|rft --config run.yaml`.

Each command reads one YAML file into the trainer's pydantic config and calls the matching
`run_*` function, so the CLI and the Python API cannot drift. Multi-GPU: wrap the same command
in `accelerate launch` (SFT, distill and RL run in TRL trainers, which read the launcher's settings).
This module must not contain training logic.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError

from coachgym.errors import UserError, one_line

if TYPE_CHECKING:
    from coachgym.training.sft import SFTRunConfig

train_app = typer.Typer(help="Training: SFT, on-policy distillation, RL, rejection-sampling fine-tuning.",
                        no_args_is_help=True)

CONFIG = typer.Option(..., "--config", help="YAML run file (fields: see docs/training.md).")


def _run(kind: str, config_path: Path) -> None:
    from coachgym.training.config import load_config
    from coachgym.training.distill import DistillConfig, run_distill
    from coachgym.training.rft import RFTConfig, run_rft
    from coachgym.training.rl import RLConfig, run_rl
    from coachgym.training.sft import SFTRunConfig

    runs = {"sft": (SFTRunConfig, _sft), "distill": (DistillConfig, run_distill), "rl": (RLConfig, run_rl),
            "rft": (RFTConfig, run_rft)}
    cls, run = runs[kind]
    try:
        config = load_config(cls, config_path)
    except ValidationError as error:
        raise UserError(f"Bad {kind} config {config_path}: {one_line(error)}") from None
    final = run(config)
    typer.echo(f"{kind} finished -> {final}")


def _sft(config: SFTRunConfig) -> Path:
    """`vision: true` trains a CrossAttnVLM on screenshots, otherwise a text model on chats."""
    if config.vision:
        from coachgym.training.vision_sft import run_vision_sft

        return run_vision_sft(config)
    from coachgym.training.sft import run_sft

    return run_sft(config)


COMMANDS = {
    "sft": "Supervised fine-tuning on trajectory stores and chat datasets.",
    "distill": "On-policy distillation from a teacher with the same tokenizer, through TRL's GRPOTrainer.",
    "rl": "GRPO (group-mean baseline, PPO clip) on env rewards, through TRL's GRPOTrainer.",
    "rft": "Rejection-sampling fine-tuning rounds: sample, keep rewarded episodes, retrain.",
}


def _command(kind: str, summary: str):
    def command(config: Path = CONFIG) -> None:
        _run(kind, config)

    command.__doc__ = summary
    return command


for _kind, _summary in COMMANDS.items():
    train_app.command(_kind)(_command(_kind, _summary))


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
