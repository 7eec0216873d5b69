"""Training data for SFT: load sources, mix them by ratio, tokenize with assistant-only labels.

Sources are trajectory stores, AgentInstruct `conversations` files (.json/.jsonl) or Hugging Face
datasets saved with `save_to_disk` (with `conversations` or `messages`). Mixing follows
AgentTuning: each source gets a weight and the mix is as large as possible without repeating
any source (so a 20/80 agent/general mix uses all agent data and subsamples general data).

Labels are built here, not by TRL, because AgentInstruct marks trainability per turn (`loss`):
the chat template's `{% generation %}` spans give the assistant tokens, and the spans of turns
marked `loss: false` are masked too. Every non-assistant token is -100. This module must not
train anything.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Literal

from datasets import Dataset, load_from_disk
from pydantic import Field
from transformers import PreTrainedTokenizerBase

from coachgym.strict import StrictModel
from coachgym.trajectories.convert import from_agentinstruct, to_agentinstruct
from coachgym.trajectories.filters import TrajectoryFilter
from coachgym.trajectories.store import TrajectoryStore

IGNORE = -100
ROLES = {"system": "system", "human": "user", "gpt": "assistant", "user": "user", "assistant": "assistant"}


class DataSource(StrictModel):
    """One input to the SFT mix."""

    path: Path = Field(description="Trajectory store folder or .jsonl, AgentInstruct .json/.jsonl, or a HF dataset "
                                   "folder saved with save_to_disk.")
    kind: Literal["auto", "trajectories", "agentinstruct", "hf"] = Field(
        default="auto", description="How to read `path`; 'auto' decides from its contents.")
    weight: float = Field(default=1.0, gt=0, description="Relative share of this source in the mix.")
    success_only: bool = Field(default=True, description="Trajectory stores: keep successful episodes only.")
    min_reward: float | None = Field(default=None, description="Trajectory stores: keep episodes with this reward.")
    max_examples: int | None = Field(default=None, ge=1, description="Cap on examples read from this source.")


def load_source(source: DataSource) -> list[dict[str, Any]]:
    """Rows with `messages` (role/content) and `train` (one flag per assistant turn)."""
    path = Path(source.path)
    if not path.exists():
        raise FileNotFoundError(f"SFT data source {path} does not exist; collect trajectories with "
                                f"`coachgym collect` or fix the path in the config.")
    kind = source.kind if source.kind != "auto" else _guess_kind(path)
    if kind == "trajectories":
        keep = TrajectoryFilter(success=True if source.success_only else None, min_reward=source.min_reward)
        trajectories, _ = TrajectoryStore(path).load()
        rows = [to_agentinstruct(t) for t in keep.apply(trajectories)]
    elif kind == "agentinstruct":
        text = path.read_text(encoding="utf-8")
        rows = json.loads(text) if path.suffix == ".json" else [json.loads(line) for line in text.splitlines() if line]
    else:
        rows = list(load_from_disk(str(path)))
    rows = [as_chat(row) for row in rows][: source.max_examples]
    if not rows:
        raise ValueError(f"SFT data source {path} yielded no examples (filters: success_only={source.success_only}, "
                         f"min_reward={source.min_reward}).")
    return rows


def mix_sources(sources: list[DataSource], seed: int = 0) -> list[dict[str, Any]]:
    """Sample each source in proportion to its weight, as many rows as fit without repeats."""
    loaded = [load_source(s) for s in sources]
    total_weight = sum(s.weight for s in sources)
    shares = [s.weight / total_weight for s in sources]
    size = min(len(rows) / share for rows, share in zip(loaded, shares))
    rng = random.Random(seed)
    mixed: list[dict[str, Any]] = []
    for rows, share in zip(loaded, shares):
        mixed += rng.sample(rows, max(1, round(size * share)))
    rng.shuffle(mixed)
    return mixed


def tokenize_conversation(tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, str]],
                          train: list[bool] | None = None) -> dict[str, list[int]]:
    """`input_ids` and `labels` (-100 except on trainable assistant turns) for one conversation."""
    encoded = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                            return_assistant_tokens_mask=True)
    ids, mask = list(encoded["input_ids"]), list(encoded["assistant_masks"])
    if 1 not in mask:
        raise ValueError("The chat template marks no assistant tokens; it needs {% generation %} around assistant "
                         "turns (see coachgym.training.tiny.CHAT_TEMPLATE).")
    turn = -1
    labels = []
    for position, (token, bit) in enumerate(zip(ids, mask)):
        if bit and (position == 0 or not mask[position - 1]):
            turn += 1
        trainable = bit and (train is None or train[min(turn, len(train) - 1)])
        labels.append(token if trainable else IGNORE)
    return {"input_ids": ids, "labels": labels}


def build_dataset(tokenizer: PreTrainedTokenizerBase, rows: list[dict[str, Any]], max_length: int | None = None) -> Dataset:
    """Tokenized rows ready for `SFTTrainer` (which then packs them or pads them)."""
    examples = []
    for row in rows:
        example = tokenize_conversation(tokenizer, row["messages"], row.get("train"))
        if max_length is not None:
            example = {key: value[:max_length] for key, value in example.items()}
        if any(label != IGNORE for label in example["labels"]):
            examples.append(example)
    if not examples:
        raise ValueError("No example keeps a trainable token after truncation; raise max_length.")
    return Dataset.from_list(examples)


def _guess_kind(path: Path) -> str:
    if path.is_dir():
        return "trajectories" if (path / "trajectories.jsonl").exists() else "hf"
    if path.name == "trajectories.jsonl":
        return "trajectories"
    first = path.read_text(encoding="utf-8").lstrip()[:2000]
    return "trajectories" if '"steps"' in first and '"task_id"' in first else "agentinstruct"


def as_chat(row: dict[str, Any]) -> dict[str, Any]:
    """Normalize AgentInstruct (`conversations`) and chat (`messages`) rows to messages + per-turn flags."""
    if "conversations" in row:
        trajectory = from_agentinstruct(row)
        turns = to_agentinstruct(trajectory)["conversations"]
        messages = [{"role": ROLES[t["from"]], "content": t["value"]} for t in turns]
        return {"messages": messages, "train": [s.train for s in trajectory.steps]}
    if "messages" in row:
        messages = [{"role": ROLES[m["role"]], "content": m["content"]} for m in row["messages"]]
        return {"messages": messages, "train": None}
    raise ValueError(f"Row has neither `conversations` nor `messages`: keys {sorted(row)}.")
