"""Does the high-res branch matter? Same model and steps with it, without it, and the naive design.

On the detail-needing GUI family (`open-product`: a shuffled list of products whose rows differ
only in small text), three variants of the quickstart teacher are trained with the same vision SFT
steps on the same expert data and evaluated greedily on held-out layouts with `coachgym eval`:

* `high-res`: low-res tokens in the LM (`--low` px) + the high-res encoder (`--high` px) read by
  cross-attention in every LM layer (CogAgent);
* `low-res only`: the same model without cross-attention blocks (the high-res encoder shrunk to
  one patch, unused);
* `naive`: no cross-attention; the encoder that feeds the LM runs at `--high` px, so all its
  patches become LM tokens.

For each it prints held-out success (mean and per seed), forward FLOPs of one training sample and
of one greedy decision (prefill, counted with `torch.utils.flop_counter` as in `vlm_cost.py`),
and the SFT and eval wall times. Goal (issue 18): high-res beats low-res-only by >= 20 points of
success at <= 0.3x the naive FLOPs. Run from the repository root:
`python perf/hires_ablation.py [--seeds 0 1 2] [--steps 300] [--out runs/hires-ablation]`.
This script must not be imported by the package or by tests.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from PIL import Image
from vlm_cost import flops

from coachgym.benchmarks.runner import EvalConfig, read_results, run_eval
from coachgym.envs.phone.gui_tasks import gui_suite
from coachgym.training.data import DataSource
from coachgym.training.sft import SFTRunConfig, run_sft
from coachgym.training.tiny import build_vlm, build_vlm_tokenizer, save_tiny
from coachgym.training.vision_sft import VisionSFTCollator, vision_dataset
from coachgym.trajectories.collect import CollectConfig, collect
from coachgym.trajectories.convert import to_messages
from coachgym.trajectories.store import TrajectoryStore

VARIANTS = ("high-res", "low-res only", "naive")


def variant_kwargs(variant: str, low: int, high: int) -> dict:
    """`build_vlm` arguments of a variant; 14 px is one patch, i.e. an encoder that costs nothing."""
    if variant == "high-res":
        return {"image_size": low, "high_res_image_size": high}
    if variant == "low-res only":
        return {"image_size": low, "high_res_image_size": 14, "cross_attn_layers": []}
    return {"image_size": high, "high_res_image_size": 14, "cross_attn_layers": []}


def sample_flops(model, processor, store: Path) -> tuple[int, int]:
    """Forward FLOPs of one training sample (prompt + action) and of one decision's prefill (prompt only)."""
    store_obj = TrajectoryStore(store)
    sample = vision_dataset(list(store_obj.read())[:1], store_obj.folder)[0]
    batch = VisionSFTCollator(processor)([sample])
    messages = json.loads(sample["conversation"])
    prompt = processor(text=[processor.render(messages[:-1], add_generation_prompt=True)],
                       images=[Image.open(sample["screenshot"]).convert("RGB")])
    model.eval()
    with torch.no_grad():
        train = flops(lambda: model(**{k: v for k, v in batch.items() if k != "labels"}))
        decide = flops(lambda: model(**prompt))
    return train, decide


def run_variant(variant: str, seed: int, args: argparse.Namespace, tokenizer, store: Path, suite: Path) -> dict:
    out = args.out / f"{variant.replace(' ', '-')}-seed{seed}"
    model, processor = build_vlm(tokenizer, hidden_size=args.hidden, layers=args.layers, seed=seed,
                                 **variant_kwargs(variant, args.low, args.high))
    train_flops, decide_flops = sample_flops(model, processor, store)
    init = save_tiny(model, processor, out / "init")
    started = time.perf_counter()
    final = out / "sft" / "final"
    if not final.exists():
        run_sft(SFTRunConfig(model=init, output_dir=final.parent, data=[DataSource(path=store)], max_steps=args.steps,
                             vision=True, learning_rate=3e-3, batch_size=8, max_length=1024, seed=seed,
                             logging_steps=10_000, save_steps=10_000, report_to="none", progress=False))
    sft_s = time.perf_counter() - started
    started = time.perf_counter()
    run_eval(EvalConfig(suite=str(suite), agent=f"hf:{final.resolve()}?temperature=0&max_new_tokens=64",
                        out=out / "eval", workers=1, timeout_s=300, resume=True))
    eval_s = time.perf_counter() - started
    results = read_results(out / "eval")
    return {"variant": variant, "seed": seed, "success": results.metrics.success_rate,
            "train_gflop_per_sample": 3 * train_flops / 1e9,  # forward + backward ~ 3x forward
            "decide_gflop": decide_flops / 1e9, "sft_s": sft_s, "eval_s": eval_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/hires-ablation"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=300, help="SFT steps (batches of 8 step samples).")
    parser.add_argument("--train-layouts", type=int, default=40)
    parser.add_argument("--test-layouts", type=int, default=8)
    parser.add_argument("--low", type=int, default=56, help="Low-res encoder input in px.")
    parser.add_argument("--high", type=int, default=224, help="High-res encoder input in px.")
    parser.add_argument("--hidden", type=int, default=96)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    suite = args.out / "open-product.json"
    gui_suite(args.train_layouts, args.test_layouts, per_layout=2, families=["open-product"]).save(suite)
    store = args.out / "trajectories"
    collect(CollectConfig(env="phone", suite=str(suite), agent="scripted", out=store, splits=["train"], workers=1),
            progress=False)
    tokenizer = build_vlm_tokenizer(m["content"] for t in TrajectoryStore(store).read() for m in to_messages(t))
    rows = [run_variant(v, seed, args, tokenizer, store, suite) for v in args.variants for seed in args.seeds]
    (args.out / "results.json").write_text(json.dumps(rows, indent=1))
    naive = [r for r in rows if r["variant"] == "naive"]
    print(f"open-product, {args.steps} SFT steps, {args.low} px low-res / {args.high} px high-res, seeds {args.seeds}")
    print(f"{'variant':14s} {'success':>16s} {'train GFLOP/sample':>19s} {'decide GFLOP':>13s} {'x naive':>8s} "
          f"{'SFT s':>7s} {'eval s':>7s}  per seed")
    for variant in args.variants:
        mine = [r for r in rows if r["variant"] == variant]
        rates = [r["success"] for r in mine]
        spread = statistics.stdev(rates) if len(rates) > 1 else 0.0
        ratio = mine[0]["decide_gflop"] / naive[0]["decide_gflop"] if naive else float("nan")
        print(f"{variant:14s} {statistics.mean(rates):9.0%} ± {spread:4.0%} {mine[0]['train_gflop_per_sample']:19.3f} "
              f"{mine[0]['decide_gflop']:13.3f} {ratio:8.2f} {statistics.mean(r['sft_s'] for r in mine):7.0f} "
              f"{statistics.mean(r['eval_s'] for r in mine):7.0f}  {' '.join(f'{r:.0%}' for r in rates)}")


if __name__ == "__main__":
    main()
