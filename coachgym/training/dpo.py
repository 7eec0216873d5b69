"""Step-level preference pairs from successful and failed episodes of the same task, for TRL DPO.

Two episodes of one task share their conversation until the first step where the agents acted
differently; there, the successful episode's action is `chosen` and the failed one's `rejected`,
with the shared history as the conversational `prompt`. Pairing at the divergence point keeps
environment text out of the compared completions. This module must not sample episodes.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from datasets import Dataset
from transformers import PreTrainedModel, PreTrainedTokenizerBase
from trl import DPOConfig, DPOTrainer

from coachgym.trajectories.convert import to_messages
from coachgym.trajectories.records import Trajectory


def preference_pairs(trajectories: list[Trajectory], max_pairs_per_task: int = 4) -> list[dict]:
    """Conversational DPO rows: `prompt` (messages), `chosen` and `rejected` (one assistant turn each)."""
    by_task: dict[str, list[Trajectory]] = defaultdict(list)
    for trajectory in trajectories:
        by_task[trajectory.task_id].append(trajectory)
    rows = []
    for episodes in by_task.values():
        wins = [t for t in episodes if t.success]
        losses = [t for t in episodes if not t.success]
        for win, loss in list(zip(wins * len(losses), losses * len(wins)))[:max_pairs_per_task]:
            row = _divergence(win, loss)
            if row is not None:
                rows.append(row)
    return rows


def _divergence(win: Trajectory, loss: Trajectory) -> dict | None:
    for index, (good, bad) in enumerate(zip(win.steps, loss.steps)):
        if good.observation != bad.observation:
            return None  # the env answered differently to the same actions: no shared prompt
        if good.action != bad.action:
            prompt = to_messages(win)[: (win.system_prompt is not None) + len(win.preamble) + 2 * index + 1]
            return {"prompt": prompt, "chosen": [{"role": "assistant", "content": good.action}],
                    "rejected": [{"role": "assistant", "content": bad.action}]}
    return None


def train_dpo(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, pairs: list[dict], output_dir: Path,
              beta: float = 0.1, learning_rate: float = 1e-4, epochs: float = 1.0, batch_size: int = 4,
              report_to: list[str] | None = None, seed: int = 0) -> Path:
    """Run TRL's `DPOTrainer` (reference = the starting model) and save to `output_dir/final`."""
    import torch

    args = DPOConfig(output_dir=str(output_dir), beta=beta, learning_rate=learning_rate, num_train_epochs=epochs,
                     per_device_train_batch_size=batch_size, report_to=report_to or [], seed=seed,
                     use_cpu=not torch.cuda.is_available(), save_strategy="no", logging_steps=10,
                     dataloader_pin_memory=False)
    trainer = DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(pairs), processing_class=tokenizer)
    trainer.train()
    final = Path(output_dir) / "final"
    trainer.model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    return final
