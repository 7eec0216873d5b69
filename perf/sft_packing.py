"""SFT throughput: packing + per-sequence loss vs padded random batches, on mixed-length agent data.

Data: expert episodes of the small guess suite (ranges 1..8 and 1..32: a few hundred tokens each)
mixed 20/80 with short general chat rows (AgentTuning's ratio), so lengths span ~10x. Both arms
train the same tiny model for one epoch over the same sequences with `CoachSFTTrainer`; packed
rows are best-fit-decreasing packs of `--pack-length` tokens, padded batches hold `--batch`
sequences in random order. Reported: real (non-pad) tokens per second, median over `--repeats`
side-by-side runs, the ratio (goal >= 2x), and the loss of the same initial model over the epoch
in both layouts (equal, thanks to per-sequence weighting).

Run: python perf/sft_packing.py   (about 2-4 minutes on 2 CPU cores)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from coachgym.agents.scripted import ScriptedAgent
from coachgym.training.data import build_dataset
from coachgym.training.evaluate import make_env
from coachgym.training.sft import CoachSFTTrainer, SFTRunConfig, sft_arguments
from coachgym.training.tasks import small_guess_suite
from coachgym.training.tiny import build_model, build_tokenizer
from coachgym.trajectories.convert import to_messages
from coachgym.trajectories.rollout import run_episode


def agent_rows() -> list[dict]:
    suite = small_guess_suite(highs=(8, 32), max_steps=7)
    env = make_env(suite)
    return [{"messages": to_messages(run_episode(env, ScriptedAgent(), task_id, 0)), "train": None}
            for task_id in suite.ids()]


def general_rows(count: int) -> list[dict]:
    words = "the agent reads the page then acts and checks what changed before it answers".split()
    rows = []
    for index in range(count):
        question = " ".join(words[: 3 + index % 9])
        rows.append({"messages": [{"role": "user", "content": f"Repeat: {question}"},
                                  {"role": "assistant", "content": question}], "train": None})
    return rows


def trainer(model, tokenizer, dataset_rows, packing: bool, args: argparse.Namespace, out: Path) -> CoachSFTTrainer:
    config = SFTRunConfig(model=out, output_dir=out, data=[], epochs=1, learning_rate=1e-3, packing=packing,
                          batch_size=1 if packing else args.batch, max_length=args.pack_length if packing else 2048,
                          group_by_length=False, report_to="none", progress=False, save_steps=10**6,
                          logging_steps=10**6)
    dataset = build_dataset(tokenizer, dataset_rows)
    return CoachSFTTrainer(model=model, args=sft_arguments(config), train_dataset=dataset,
                           processing_class=tokenizer, per_sequence_loss=True)


@torch.no_grad()
def epoch_loss(run: CoachSFTTrainer) -> float:
    """Mean per-sequence loss of the untrained model over the epoch, whatever the layout."""
    total, sequences = 0.0, 0
    run.model.eval()
    for batch in run.get_train_dataloader():
        starts = batch["position_ids"].eq(0).sum() if "position_ids" in batch else batch["input_ids"].size(0)
        total += float(run.compute_loss(run.model, batch)) * int(starts)
        sequences += int(starts)
    run.model.train()
    return total / sequences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8, help="Sequences per padded batch.")
    parser.add_argument("--pack-length", type=int, default=2048, help="Tokens per packed row.")
    args = parser.parse_args()
    torch.manual_seed(0)
    agent = agent_rows()
    rows = agent + general_rows(4 * len(agent))
    tokenizer = build_tokenizer("\n".join(m["content"] for m in r["messages"]) for r in rows)
    real_tokens = sum(len(x) for x in build_dataset(tokenizer, rows)["input_ids"])
    lengths = sorted(len(x) for x in build_dataset(tokenizer, rows)["input_ids"])
    print(f"{len(rows)} sequences ({len(agent)} agent episodes), {real_tokens} tokens, "
          f"lengths {lengths[0]}..{lengths[-1]} (median {lengths[len(lengths) // 2]})")
    speeds: dict[str, list[float]] = {"padded": [], "packed": []}
    losses = {}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for name in ("padded", "packed"):
                model = build_model(tokenizer, hidden_size=64, layers=2, seed=0)
                run = trainer(model, tokenizer, rows, name == "packed", args, Path(tmp) / f"{name}{repeat}")
                if repeat == 0:
                    losses[name] = epoch_loss(run)
                started = time.perf_counter()
                run.train()
                speeds[name].append(real_tokens / (time.perf_counter() - started))
    padded, packed = statistics.median(speeds["padded"]), statistics.median(speeds["packed"])
    print(f"{'layout':<28}{'median tokens/s':>16}{'initial loss':>14}")
    print(f"{'padded, random order':<28}{padded:>16.0f}{losses['padded']:>14.5f}")
    print(f"{'packed (BFD) + per-seq loss':<28}{packed:>16.0f}{losses['packed']:>14.5f}")
    print(f"speed-up {packed / padded:.2f}x (goal >= 2x); loss difference {abs(losses['packed'] - losses['padded']):.2e}")


if __name__ == "__main__":
    main()
