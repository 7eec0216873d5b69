"""SFT throughput of three batch layouts side by side: random-order padded, length-grouped padded, packed.

Data: expert episodes of the small guess suite (`--highs`: ranges 1..8 and 1..32, one episode per
secret, a few hundred tokens each) mixed 20/80 with short general chat rows (AgentTuning's
ratio), so lengths span ~10x; the script prints the counts and lengths. Every layout
trains the same tiny model (2-layer hidden-64 Qwen2) for one epoch over the same sequences with
the trainer `coachgym train sft` builds (`sft.sft_trainer`, per-sequence loss): padded batches
hold `--batch` sequences (random order, or length-grouped by transformers' sampler); packed rows
are TRL's best-fit-decreasing packs of `--pack-length` tokens, one row per step, padding-free.
Reported: real (non-pad) tokens per second of wall time, the median over `--repeats` rounds (each
round runs every layout once, in turn, so machine noise hits all of them), its ratio to random
padded batches and to the default layout; real tokens per CPU-second of this process (median),
which other jobs on a shared machine disturb less than wall time; and the mean per-sequence loss
of the same initial model over the epoch in each layout (equal: the per-sequence reduction does
not depend on the layout).

Without FlashAttention varlen kernels (CPU) a packed row's attention is one block-diagonal mask
over the whole row, so its cost grows with `--pack-length`; with them (CUDA + flash-attn or
kernels) attention runs per sequence. The script prints which attention this machine used.

Run: python perf/sft_packing.py   (minutes on 2 idle CPU cores; far longer on a shared box;
     `--highs 8 16 --batch 4` is about half the tokens)
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
from coachgym.training.layout import use_packing, varlen_attention
from coachgym.training.sft import CoachSFTTrainer, SFTRunConfig, mean_sequence_loss, sft_trainer
from coachgym.training.tasks import small_guess_suite
from coachgym.training.tiny import build_model, build_tokenizer
from coachgym.trajectories.convert import to_messages
from coachgym.trajectories.rollout import run_episode

LAYOUTS = {  # name: (packing, group_by_length)
    "padded, random order": (False, False),
    "padded, length-grouped": (False, True),
    "packed (BFD)": (True, False),
}


def agent_rows(highs: tuple[int, ...]) -> list[dict]:
    suite = small_guess_suite(highs=highs, max_steps=7)
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


def trainer(layout: str, tokenizer, rows: list[dict], args: argparse.Namespace, out: Path) -> CoachSFTTrainer:
    packing, grouped = LAYOUTS[layout]
    config = SFTRunConfig(model=out, output_dir=out, data=[], epochs=1, learning_rate=1e-3, packing=packing,
                          group_by_length=grouped, batch_size=1 if packing else args.batch,
                          max_length=args.pack_length if packing else 4096, report_to="none", progress=False,
                          save_steps=10**6, logging_steps=10**6)
    return sft_trainer(config, build_model(tokenizer, hidden_size=64, layers=2, seed=0), tokenizer, rows)


def default_layout() -> str:
    """The layout `coachgym train sft` picks on this machine when `packing` is unset."""
    return "packed (BFD)" if use_packing(None) else "padded, length-grouped"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8, help="Sequences per padded batch.")
    parser.add_argument("--pack-length", type=int, default=2048, help="Tokens per packed row.")
    parser.add_argument("--highs", type=int, nargs="+", default=[8, 32],
                        help="Guess ranges 1..high whose every secret gives one agent episode.")
    args = parser.parse_args()
    torch.manual_seed(0)
    agent = agent_rows(tuple(args.highs))
    rows = agent + general_rows(4 * len(agent))
    tokenizer = build_tokenizer("\n".join(m["content"] for m in r["messages"]) for r in rows)
    lengths = sorted(len(x) for x in build_dataset(tokenizer, rows)["input_ids"])
    real_tokens = sum(lengths)
    attention = varlen_attention() or "sdpa (a packed row is one block-diagonal mask)"
    print(f"data: {len(rows)} sequences ({len(agent)} agent episodes, {len(rows) - len(agent)} chat rows), "
          f"{real_tokens} tokens, lengths {lengths[0]}..{lengths[-1]} (median {lengths[len(lengths) // 2]})")
    print(f"machine: {'cuda' if torch.cuda.is_available() else 'cpu'}, {torch.get_num_threads()} threads; "
          f"attention: {attention}; padded batch {args.batch} sequences, packed row {args.pack_length} tokens")
    speeds: dict[str, list[float]] = {name: [] for name in LAYOUTS}
    cpu_speeds: dict[str, list[float]] = {name: [] for name in LAYOUTS}
    losses = {}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for index, name in enumerate(LAYOUTS):
                run = trainer(name, tokenizer, rows, args, Path(tmp) / f"{index}-{repeat}")
                if repeat == 0:
                    losses[name] = mean_sequence_loss(run)
                started, cpu_started = time.perf_counter(), time.process_time()
                run.train()
                speeds[name].append(real_tokens / (time.perf_counter() - started))
                cpu_speeds[name].append(real_tokens / (time.process_time() - cpu_started))
                print(f"round {repeat + 1}, {name}: {speeds[name][-1]:.0f} tokens/s", flush=True)
    medians = {name: statistics.median(values) for name, values in speeds.items()}
    default = default_layout()
    baseline = "padded, random order"
    print(f"{'layout':<28}{'tokens/s':>10}{'runs':>18}{'x random':>10}{'x default':>11}{'tokens/CPU-s':>14}"
          f"{'initial loss':>14}")
    for name, median in medians.items():
        runs = "/".join(f"{value:.0f}" for value in speeds[name])
        mark = " <- default" if name == default else ""
        print(f"{name:<28}{median:>10.0f}{runs:>18}{median / medians[baseline]:>10.2f}"
              f"{median / medians[default]:>11.2f}{statistics.median(cpu_speeds[name]):>14.0f}"
              f"{losses[name]:>14.5f}{mark}")
    fastest = max(medians, key=medians.get)
    spread = max(losses.values()) - min(losses.values())
    print(f"fastest: {fastest}; default here: {default} ({'the fastest' if fastest == default else 'NOT the fastest'});"
          f" loss spread across layouts {spread:.2e}")


if __name__ == "__main__":
    main()
