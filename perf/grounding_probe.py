"""Which part of pointing does the tiny quickstart teacher fail to learn? Held-out accuracy per skill.

The quickstart's tiny CrossAttnVLM teacher taps the phone GUI families at chance
(docs/quickstart.md). To find out why, this script trains the teacher's model (the quickstart's
sizes, learning rate and batch) from scratch on one skill at a time, on `open-app` launcher
layouts, and reports the share of reply lines ("'Notes' at (383, 487)") that held-out layouts get
exactly right, teacher-forced:

* `locate`: a white square on a black screen at one of the layout's launcher slots; the reply is
  its point. Reading a position off the screen, nothing else.
* `fixed`: the real launcher screen; the reply lists every app with its point in alphabetical
  order, so the k-th line always names the same app.
* `shuffled`: the same list in a random order per screen, so a line's point can only come from
  binding the app's name (text tokens) to its icon (pixels), which is what an action needs;
* `colours`: `shuffled` on screens where each app is a plain square of its own saturated colour,
  to tell "the encoder cannot see the icons apart" from "the model cannot bind";
* `spatial`: the real launcher screen; the reply lists the slots in screen order, each point
  before its app ("(149, 487) 'Notes'"), so a line asks what is at a point, not where a name is;
* `query`: the real launcher screen and "Where is Notes?", one example per app; the reply is the
  app's point. This is what "Open the Notes app." needs, with nothing else to learn.

Each probe runs in four variants, (`build_vlm`'s `fan_in_init`, `standardize_patch_features`):
the transformers default init (std 0.02 in every linear layer); a fan-in init (std
1/sqrt(fan_in)) of the LM, projector and cross-attention, the encoders keeping their own;
`standardized-only`, each encoder feature standardized over the image's patches with the default
init (what the quickstart's tiny models were until the fan-in init joined it); and `standardized`,
both (what `build_vlm` makes now). Only a line's
answer is scored, from its first digit on: the app before a point in `shuffled` and `colours` is
the next of a random order, which nothing can predict. A point is right by chance 1 time in 6; in
the lists, a model that only avoids the slots already named gets about 41%. Run from the
repository root: `python perf/grounding_probe.py [--probes query] [--steps 3000] [--batch 32]`.
This script must not be imported by the package or by tests.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from coachgym.benchmarks.quickstart import QuickstartConfig
from coachgym.envs.core import TaskSuite
from coachgym.envs.phone.gui_tasks import TEST_LAYOUT_BASE, gui_task, visible_targets
from coachgym.envs.phone.world import APPS
from coachgym.envs.registry import make
from coachgym.training.data import IGNORE
from coachgym.training.tiny import build_vlm, build_vlm_tokenizer
from coachgym.training.vision_sft import VisionSFTCollator

PROBES = ("locate", "fixed", "shuffled", "colours", "spatial", "query")
#: variant -> (fan-in init, standardize_patch_features)
VARIANTS = {"default": (False, False), "fan-in": (True, False), "standardized-only": (False, True),
            "standardized": (True, True)}
PROMPT = "Locate the targets."
COLOURS = {app: f"hsv({index * 360 // len(APPS)}, 100%, 100%)" for index, app in enumerate(APPS)}


def render_launchers(layouts: list[int], folder: Path) -> list[dict]:
    """Screenshot and (label, x, y) targets of each `open-app` layout, as the quickstart's tasks show it."""
    tasks = [gui_task("open-app", seed, 0, "train") for seed in layouts]
    env = make("phone", suite=TaskSuite(name="launchers", env="phone", tasks=tasks))
    screens = []
    for seed, task in zip(layouts, tasks):
        observation, _ = env.reset(options={"task_id": task.id})
        path = folder / f"launcher-{seed}.png"
        Image.fromarray(observation["screenshot"]).save(path)
        screens.append({"layout": seed, "screenshot": str(path),
                        "targets": [(label, x, y) for label, _, (x, y) in visible_targets("open-app", seed)]})
    env.close()
    return screens


def squares_screen(screen: dict, folder: Path, probe: str) -> dict:
    """A black screen with squares at the layout's slots: for `locate` one white square at a slot
    the layout picks, for `colours` every app's square in its own colour."""
    targets = screen["targets"]
    if probe == "locate":
        targets = [("square", *random.Random(screen["layout"]).choice(targets)[1:])]
    image = Image.new("RGB", Image.open(screen["screenshot"]).size)
    draw = ImageDraw.Draw(image)
    for label, x, y in targets:
        cx, cy = x * image.width // 1000, y * image.height // 1000
        draw.rectangle((cx - 30, cy - 30, cx + 30, cy + 30), fill=COLOURS.get(label, "white"))
    path = folder / f"{probe}-{screen['layout']}.png"
    image.save(path)
    return {**screen, "screenshot": str(path), "targets": targets}


def samples(probe: str, screen: dict, folder: Path) -> list[dict]:
    """`VisionSFTCollator` examples of one screen: one question per app for `query`, else one
    list of every target."""
    if probe in ("locate", "colours"):
        screen = squares_screen(screen, folder, probe)
    targets = sorted(screen["targets"])
    if probe == "query":
        return [example(screen, f"Where is {label}?", f"({x}, {y})") for label, x, y in targets]
    if probe in ("shuffled", "colours"):
        random.Random(screen["layout"]).shuffle(targets)
    if probe == "spatial":
        reply = "\n".join(f"({x}, {y}) '{label}'" for label, x, y in sorted(targets, key=lambda t: (t[2], t[1])))
    else:
        reply = "\n".join(f"'{label}' at ({x}, {y})" for label, x, y in targets)
    return [example(screen, PROMPT, reply)]


def example(screen: dict, prompt: str, reply: str) -> dict:
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]},
                {"role": "assistant", "content": reply}]
    return {"conversation": json.dumps(messages), "screenshot": screen["screenshot"]}


def line_accuracy(model: torch.nn.Module, batch: dict, newline: int, digits: set[int]) -> float:
    """Share of reply lines whose answer (every token from the line's first digit on) is the argmax
    of the teacher-forced logits. A name before the digits is not scored: in `shuffled` and
    `colours` it is the next app of a random order, which no model can predict."""
    model.eval()
    with torch.no_grad():
        predicted = model(**{k: v for k, v in batch.items() if k != "labels"}).logits[:, :-1].argmax(-1)
    model.train()
    targets = batch["labels"][:, 1:]
    right = lines = 0
    for row in range(len(targets)):
        positions = (targets[row] != IGNORE).nonzero().flatten().tolist()
        line_ok, answering = True, False
        for position in positions:
            answering |= int(targets[row, position]) in digits
            if answering:
                line_ok &= bool(predicted[row, position] == targets[row, position])
            if targets[row, position] == newline or position == positions[-1]:
                right, lines, line_ok, answering = right + line_ok, lines + 1, True, False
    return right / lines


def teacher(tokenizer, seed: int = 0, fan_in: bool = True, standardize: bool = True) -> tuple:
    """The quickstart teacher's random model and processor (its sizes, as `build_models` makes it)."""
    config = QuickstartConfig()
    return build_vlm(tokenizer, hidden_size=config.teacher.hidden_size, layers=config.teacher.layers,
                     image_size=config.image_size, high_res_image_size=config.high_res_image_size, seed=seed,
                     fan_in_init=fan_in, standardize_patch_features=standardize)


def run(variant: str, seed: int, tokenizer, train_batch: dict, test_batch: dict, args: argparse.Namespace) -> list[float]:
    """Held-out line accuracy after every `args.every` steps (the quickstart's learning rate unless `--lr`)."""
    model, _ = teacher(tokenizer, seed, *VARIANTS[variant])
    newline = tokenizer("\n", add_special_tokens=False)["input_ids"][-1]
    digits = {tokenizer.convert_tokens_to_ids(str(digit)) for digit in range(10)}
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 50))
    rng, curve = random.Random(seed), []
    for step in range(1, args.steps + 1):
        rows = torch.tensor(rng.sample(range(len(train_batch["input_ids"])), args.batch))
        model(**{key: value[rows] for key, value in train_batch.items()}).loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        warmup.step()
        optimizer.zero_grad()
        if step % args.every == 0:
            curve.append(line_accuracy(model, test_batch, newline, digits))
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-layouts", type=int, default=600)
    parser.add_argument("--test-layouts", type=int, default=60)
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--every", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--probes", nargs="+", choices=PROBES, default=list(PROBES))
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--batch", type=int, default=QuickstartConfig().sft_batch)
    parser.add_argument("--lr", type=float, default=QuickstartConfig().learning_rate)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        train_screens = render_launchers(list(range(args.train_layouts)), folder)
        test_screens = render_launchers([TEST_LAYOUT_BASE + i for i in range(args.test_layouts)], folder)
        print(f"rendered {len(train_screens)} train and {len(test_screens)} held-out launcher layouts "
              f"in {time.perf_counter() - started:.0f} s; steps {args.steps}, batch {args.batch}, seeds {args.seeds}")
        print(f"{'probe':<10}{'variant':<14}" + "".join(f"{f'step {s}':>10}" for s in range(args.every, args.steps + 1,
                                                                                              args.every)))
        for probe in args.probes:
            train = [one for screen in train_screens for one in samples(probe, screen, folder)]
            test = [one for screen in test_screens for one in samples(probe, screen, folder)]
            tokenizer = build_vlm_tokenizer([one["conversation"] for one in train + test])
            collator = VisionSFTCollator(teacher(tokenizer)[1])
            train_batch, test_batch = collator(train), collator(test)
            for variant in args.variants:
                curves = [run(variant, seed, tokenizer, train_batch, test_batch, args) for seed in args.seeds]
                medians = [statistics.median(values) for values in zip(*curves)]
                print(f"{probe:<10}{variant:<14}" + "".join(f"{value:>10.0%}" for value in medians), flush=True)


if __name__ == "__main__":
    main()
