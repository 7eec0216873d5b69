"""On-policy distillation vs GRPO RL for a tiny student on held-out guess tasks (issue #17 item 5).

Task. The real guess env with ranges 1..H for H in `HIGHS` and every secret (126 tasks, step
budget = bisection depth + 1). A fixed shuffle holds out one third of them (42 tasks) for
evaluation only: no arm, teacher or warm start ever plays or trains on them. Success is greedy
(deterministic), one episode per held-out task, so its resolution is 1/42 = 2.4 points.

Models (built from random configs, nothing downloaded). A byte-level BPE trained on the training
demos; a teacher (Qwen2, hidden 64, 2 layers) SFT-trained on the scripted expert's demos of the
training tasks; a student (hidden 48, 2 layers) briefly SFT-trained on the same demos as the
shared warm start. Both arms start from that warm start.

Arms, in the same engine (`OnPolicyTrainer`, a TRL `GRPOTrainer`), with the same round shape:
every round plays `TASKS_PER_ROUND` training tasks x `samples` episodes at temperature 0.6 and
takes `STEPS_PER_ROUND` optimizer steps on them (two minibatches, one epoch, so the second step
is off-policy and TRL's PPO clip at 1 +- 0.2 applies), so both take the same optimizer steps per
episode. Every run gets the same budget of `--episodes` training episodes.
  - distill: on-policy distillation with the published one-sample estimator (advantage
    teacher_lp - student_lp on each sampled token), no env reward;
  - rl: GRPO on the env reward, advantage = reward - mean reward of the task's group (group
    baseline); `samples` is the group size.
Both arms get one sweep, the same for each: learning rate x `--lrs` and samples per task x
`--samples` on seed 0. The best setting (fewest env steps to the target; if none reaches it,
the highest best success) then runs on the other seeds; the table is the median over all seeds.

Target ("teacher level"): held-out greedy success >= teacher's held-out success - 5 points,
at one of the evaluations every `--eval-every` training episodes. For each arm the table gives, at the first
evaluation reaching it: student env steps (actions sent to the env in training rollouts), total
FLOPs and training wall time (evaluation excluded). A median is "not reached" unless most
seeds reached the target; the best success is printed either way.

FLOPs (N_s, N_t: student and teacher parameter counts, the tied embedding counted once, which
stands for the LM-head matmul; attention-score FLOPs are left out for both arms alike, and at
these lengths (hundreds of tokens, width 48-64) they are not small, so the totals understate the
absolute cost, not the ratio between arms; per round, with T = tokens of the round's training sequences, pad copies included):
  sampling  2 N_s x sum over turns of (context re-read + tokens generated): `generate` has no
            prefix cache across turns, so each turn reads its whole episode so far;
  old logps 2 N_s T when the round takes more than one optimizer step (TRL's PPO ratio) or the
            sampled distillation estimator needs the student's log-probs;
  training  6 N_s T per epoch (forward + backward of every token; only agent tokens carry loss);
  teacher   2 N_t T once per round (distillation only: it scores every token of the sequences).

Run: python perf/opd_vs_rl.py            (3 seeds; docs/training.md has the measured run and its time)
     python perf/opd_vs_rl.py --quick    (smoke run of the same code path: one round per run)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import tempfile
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedModel

from coachgym.agents.scripted import ScriptedAgent
from coachgym.envs.tasks import TaskSuite
from coachgym.training.data import DataSource, mix_sources
from coachgym.training.distill import DistillConfig
from coachgym.training.evaluate import evaluate_lockstep, make_env
from coachgym.training.models import load_model
from coachgym.training.onpolicy import OnPolicyTrainer, build_trainer
from coachgym.training.rl import RLConfig
from coachgym.training.sft import SFTRunConfig, train_sft
from coachgym.training.tasks import small_guess_suite
from coachgym.training.teacher import TeacherSettings, make_teacher
from coachgym.training.tiny import build_model, build_tokenizer, save_tiny, trajectory_texts
from coachgym.trajectories.rollout import run_episode
from coachgym.trajectories.store import TrajectoryStore

HIGHS = tuple(range(5, 17))
MAX_STEPS = 6  # bisection of 1..16 takes at most 5 guesses; one spare
TASKS_PER_ROUND = 8
STEPS_PER_ROUND = 2
TEMPERATURE = 0.6  # at 1.0 a tiny student derails into random bytes after one unlikely token
MAX_NEW_TOKENS = 32
ARMS = ("distill", "rl")


def split_suite() -> TaskSuite:
    """Every (range, secret) task; a fixed shuffle marks one third 'test' (held out), the rest 'train'."""
    suite = small_guess_suite(HIGHS, MAX_STEPS)
    tasks = list(suite.tasks)
    held_out = set(random.Random(0).sample(range(len(tasks)), len(tasks) // 3))
    return suite.model_copy(update={"name": "guess-5-16", "tasks": [
        task.model_copy(update={"split": "test" if index in held_out else "train"}) for index, task in enumerate(tasks)]})


@dataclass
class Setup:
    """What every run shares: the suite file, its two splits, the teacher and the warm start."""

    suite: Path
    train: list[str]
    test: list[str]
    teacher: Path
    warm: Path
    n_teacher: int
    n_student: int
    teacher_success: float
    warm_success: float
    episodes: int
    eval_episodes: int
    runs: Path


@dataclass
class Run:
    """One arm x setting x seed: held-out success at every evaluation against its costs so far."""

    arm: str
    lr: float
    samples: int
    seed: int
    points: list[dict] = field(default_factory=list)

    def first_reaching(self, target: float) -> dict | None:
        return next((p for p in self.points if p["success"] >= target), None)

    @property
    def best(self) -> float:
        return max(p["success"] for p in self.points)


def held_out_success(model: PreTrainedModel, tokenizer: Any, suite: Path, task_ids: list[str]) -> float:
    return evaluate_lockstep(model, tokenizer, str(suite), task_ids, MAX_NEW_TOKENS).success_rate


def checkpoint_success(path: Path, suite: Path, task_ids: list[str]) -> float:
    model, tokenizer = load_model(path)
    return held_out_success(model, tokenizer, suite, task_ids)


def parameter_count(path: Path) -> int:
    model, _ = load_model(path)
    return sum(p.numel() for p in model.parameters())


def round_flops(trainer: OnPolicyTrainer, arm: str, n_student: int, n_teacher: int) -> float:
    """FLOPs of the round `trainer` just trained on (formula in the module docstring)."""
    rows = trainer.rows
    tokens = sum(len(p) + len(c) for p, c in zip(rows.prompt_ids, rows.completion_ids))
    sampled = 0
    for prompt, mask in zip(rows.prompt_ids, rows.env_mask):
        full = [0] * len(prompt) + mask
        starts = [i for i, m in enumerate(full) if m and (i == 0 or not full[i - 1])]
        sampled += sum(starts) + sum(full)  # each turn re-reads its context, then generates
    steps = trainer.args.steps_per_generation * trainer.args.num_iterations
    old_logps = steps > 1 or arm == "distill"
    teacher = 2 * n_teacher * tokens if arm == "distill" else 0
    return 2 * n_student * sampled + 2 * n_student * tokens * old_logps \
        + 6 * n_student * tokens * trainer.args.num_iterations + teacher


def run_arm(setup: Setup, arm: str, lr: float, samples: int, seed: int) -> Run:
    """Train from the warm start for `setup.episodes` episodes, evaluating on the held-out tasks."""
    torch.set_num_threads(1)  # each run is one process of the pool; the box is shared
    run = Run(arm, lr, samples, seed, [{"round": 0, "env_steps": 0, "flops": 0.0, "wall_s": 0.0,
                                         "success": setup.warm_success}])
    per_round = TASKS_PER_ROUND * samples
    eval_rounds = max(1, setup.eval_episodes // per_round)
    common = {"model": setup.warm, "output_dir": setup.runs / f"{arm}-{lr:g}-{samples}-{seed}",
              "suite": str(setup.suite), "tasks": setup.train, "iterations": max(1, setup.episodes // per_round),
              "tasks_per_iteration": TASKS_PER_ROUND, "samples_per_task": samples,
              "minibatch_size": per_round // STEPS_PER_ROUND, "epochs_per_batch": 1, "temperature": TEMPERATURE,
              "max_new_tokens": MAX_NEW_TOKENS, "learning_rate": lr, "eval_every": 0, "save_every": 10**6,
              "report_to": "none", "progress": False, "resume": False, "seed": seed}
    if arm == "distill":
        config = DistillConfig(teacher=TeacherSettings(model=str(setup.teacher)), kl_estimator="sampled", **common)
        trainer = build_trainer(config, lambda tokenizer: make_teacher(config.teacher, tokenizer), "sampled")
    else:
        trainer = build_trainer(RLConfig(**common), scale_rewards="none")
    state = {"flops": 0.0, "eval_s": 0.0}

    def record(log: dict) -> None:
        state["flops"] += round_flops(trainer, arm, setup.n_student, setup.n_teacher)
        if log["round"] % eval_rounds and log["round"] != common["iterations"]:
            return
        wall = time.perf_counter() - state["start"] - state["eval_s"]
        began = time.perf_counter()
        model = trainer.accelerator.unwrap_model(trainer.model)
        was_training = model.training
        success = held_out_success(model, trainer.processing_class, setup.suite, setup.test)
        model.train(was_training)
        state["eval_s"] += time.perf_counter() - began
        run.points.append({"round": log["round"], "env_steps": int(log["env_steps"]), "flops": state["flops"],
                           "wall_s": wall, "success": success, "rollout_success": log["rollout_success"],
                           "groups_without_signal": log.get("frac_reward_zero_std")})
        print(f"    {arm} lr {lr:g} samples {samples} seed {seed} round {log['round']:3d}: env steps "
              f"{int(log['env_steps']):5d}  held-out {success:.1%}  rollouts {log['rollout_success']:.0%}", flush=True)

    trainer.on_round = record
    state["start"] = time.perf_counter()
    try:
        trainer.train()
    finally:
        for env in trainer.envs:
            env.close()
    return run


def sft(start: Path, demos: Path, out: Path, steps: int) -> Path:
    torch.set_num_threads(1)
    model, tokenizer = load_model(start)
    config = SFTRunConfig(model=start, output_dir=out, data=[DataSource(path=demos)], max_steps=steps,
                          learning_rate=3e-3, batch_size=4, max_length=1024, report_to="none", progress=False,
                          save_steps=10**6, resume=False)
    return train_sft(config, model, tokenizer, mix_sources(config.data))


def prepare(work: Path, args: argparse.Namespace, pool: Executor) -> tuple[Path, list[str], list[str], Path, Path]:
    """The split suite, expert demos of its training tasks, the teacher and the warm start (trained
    side by side in `pool`); each is reused when `work` already holds it (a rerun shares them)."""
    suite = split_suite()
    work.mkdir(parents=True, exist_ok=True)
    path = work / "suite.json"
    suite.save(path)
    train = [t.id for t in suite.tasks if t.split == "train"]
    test = [t.id for t in suite.tasks if t.split == "test"]
    store = TrajectoryStore(work / "demos")
    if not store.load()[0]:
        env = make_env(suite)
        for task_id in train:
            store.append(run_episode(env, ScriptedAgent(), task_id, 0))
        env.close()
    tokenizer = build_tokenizer(trajectory_texts(store.load()[0]))
    checkpoints = []
    for name, hidden, seed, steps in (("teacher", 64, 0, args.teacher_steps), ("warm", 48, 1, args.warm_steps)):
        final = work / f"{name}-{hidden}-{steps}" / "final"
        if final.exists():
            checkpoints.append(pool.submit(Path, final))
        else:
            start = save_tiny(build_model(tokenizer, hidden, 2, seed=seed), tokenizer, work / f"{name}-{hidden}-init")
            checkpoints.append(pool.submit(sft, start, store.folder, final.parent, steps))
    teacher, warm = (job.result() for job in checkpoints)
    return path, train, test, teacher, warm

def choose(runs: list[Run], target: float) -> Run:
    """The sweep's best run: fewest env steps to the target; if none reached it, the highest best success."""
    reached = [r for r in runs if r.first_reaching(target)]
    if reached:
        return min(reached, key=lambda r: r.first_reaching(target)["env_steps"])
    return max(runs, key=lambda r: r.best)


def median_cost(runs: list[Run], target: float, key: str) -> float | None:
    """Median over seeds of `key` at the first evaluation reaching the target; a seed that never
    reached it counts as infinite, so the median is None unless most seeds reached it."""
    values = [r.first_reaching(target)[key] if r.first_reaching(target) else float("inf") for r in runs]
    value = statistics.median(values)
    return None if value == float("inf") else value


def report(setup: Setup, sweep: dict[str, list[Run]], finals: dict[str, list[Run]]) -> dict:
    target = setup.teacher_success - 0.05
    print(f"\nteacher held-out success {setup.teacher_success:.1%}; target (teacher - 5 points) {target:.1%}; "
          f"warm start {setup.warm_success:.1%}; {len(setup.test)} held-out tasks, {len(setup.train)} training tasks")
    print(f"\nsweep (seed 0, budget {setup.episodes} episodes per run)")
    print(f"{'arm':<9}{'lr':>8}{'samples':>9}{'best success':>14}{'final':>8}{'env steps to target':>21}")
    for arm, runs in sweep.items():
        for r in runs:
            hit = r.first_reaching(target)
            print(f"{arm:<9}{r.lr:>8g}{r.samples:>9}{r.best:>14.1%}{r.points[-1]['success']:>8.1%}"
                  f"{hit['env_steps'] if hit else 'not reached':>21}")
    print(f"\nbest setting per arm, median over seeds {[r.seed for r in next(iter(finals.values()))]}")
    print(f"{'arm':<9}{'lr':>8}{'samples':>9}{'env steps':>12}{'FLOPs':>11}{'wall s':>9}"
          f"{'best success (per seed)':>30}{'reached (seeds)':>17}")
    summary = {}
    for arm, runs in finals.items():
        steps, flops, wall = (median_cost(runs, target, key) for key in ("env_steps", "flops", "wall_s"))
        bests = "/".join(f"{r.best:.0%}" for r in runs)
        reached = sum(r.first_reaching(target) is not None for r in runs)
        cells = (f"{steps:>12.0f}{flops:>11.2e}{wall:>9.0f}" if steps is not None
                 else f"{'not reached within budget':>32}")
        print(f"{arm:<9}{runs[0].lr:>8g}{runs[0].samples:>9}{cells}{bests:>30}{f'{reached}/{len(runs)}':>17}")
        summary[arm] = {"lr": runs[0].lr, "samples": runs[0].samples, "env_steps": steps, "flops": flops,
                        "wall_s": wall, "best_success": [r.best for r in runs], "reached": reached}
    distill, rl = summary.get("distill"), summary.get("rl")
    if distill and rl and distill["env_steps"] is not None:
        if rl["env_steps"] is not None:
            print(f"\nRL / distill: {rl['env_steps'] / max(distill['env_steps'], 1):.1f}x env steps (goal >= 5x), "
                  f"{rl['flops'] / max(distill['flops'], 1):.1f}x FLOPs (goal >= 2x), "
                  f"{rl['wall_s'] / max(distill['wall_s'], 1e-9):.1f}x wall time")
        else:
            budget = max(r.points[-1]["env_steps"] for r in finals["rl"])
            print(f"\nRL did not reach the target within {budget} env steps: >= "
                  f"{budget / max(distill['env_steps'], 1):.1f}x distillation's env steps (goal >= 5x)")
    return {"target": target, **summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Smoke run: a barely trained teacher, one round "
                        "per run, one setting per arm, two seeds (checks the code path, not the result)")
    parser.add_argument("--arms", default=",".join(ARMS), help=f"Comma-separated, from {', '.join(ARMS)}")
    parser.add_argument("--lrs", default="1e-3,3e-3", help="Learning rates of the sweep (every arm)")
    parser.add_argument("--samples", default="2,4", help="Episodes per task per round of the sweep (RL's group)")
    parser.add_argument("--seeds", type=int, default=3, help="Seeds of the best setting (seed 0 is the sweep's)")
    parser.add_argument("--episodes", type=int, default=256, help="Training episodes per run (the env-step budget)")
    parser.add_argument("--eval-every", type=int, default=32, help="Evaluate every this many training episodes")
    parser.add_argument("--teacher-steps", type=int, default=300, help="SFT steps (batch 4) of the teacher")
    parser.add_argument("--warm-steps", type=int, default=90, help="SFT steps (batch 4) of the warm start")
    parser.add_argument("--jobs", type=int, default=2, help="Runs at a time, one process and one thread each")
    parser.add_argument("--work", type=Path, help="Keep the suite, demos, teacher and warm start here and reuse "
                        "them on the next run (default: a temporary folder)")
    parser.add_argument("--out", type=Path, default=Path("perf/out"))
    args = parser.parse_args()
    if args.quick:
        args.lrs, args.samples, args.seeds, args.episodes, args.eval_every, args.jobs = "1e-3", "2", 2, 16, 16, 1
        args.teacher_steps, args.warm_steps = 4, 2
    arms = args.arms.split(",")
    if set(arms) - set(ARMS):
        parser.error(f"unknown arms {sorted(set(arms) - set(ARMS))}; choose from {list(ARMS)}")
    torch.set_num_threads(1)  # the box is shared; one thread per run keeps the wall times comparable
    torch.manual_seed(0)
    started, load = time.perf_counter(), os.getloadavg()
    command = "python perf/opd_vs_rl.py " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
                                                       if v not in (None, False) and k not in ("work", "out", "quick"))
    print(f"{command}\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load[0]:.1f} "
          f"(1 min) {load[1]:.1f} (5 min) on {os.cpu_count()} cores, torch threads 1", flush=True)
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(
            args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        work = args.work or Path(tmp)
        suite, train, test, teacher, warm = prepare(work, args, pool)
        setup = Setup(suite, train, test, teacher, warm, parameter_count(teacher), parameter_count(warm),
                      checkpoint_success(teacher, suite, test), checkpoint_success(warm, suite, test),
                      args.episodes, args.eval_every, Path(tmp) / "runs")
        print(f"data: {len(train)} training tasks (expert demos of them trained the teacher and the warm start), "
              f"{len(test)} held-out tasks, ranges 1..{HIGHS[0]}-{HIGHS[-1]}; teacher {setup.n_teacher} params "
              f"held-out success {setup.teacher_success:.1%}; student {setup.n_student} params warm start "
              f"{setup.warm_success:.1%}", flush=True)
        target = setup.teacher_success - 0.05
        grid = [(arm, lr, samples) for arm in arms for samples in map(int, args.samples.split(","))
                for lr in map(float, args.lrs.split(","))]
        done = [pool.submit(run_arm, setup, *point, 0) for point in grid]
        sweep: dict[str, list[Run]] = {arm: [] for arm in arms}
        for job in done:
            run = job.result()
            sweep[run.arm].append(run)
        best = {arm: choose(runs, target) for arm, runs in sweep.items()}
        seeds = {arm: [pool.submit(run_arm, setup, arm, b.lr, b.samples, seed) for seed in range(1, args.seeds)]
                 for arm, b in best.items()}
        finals = {arm: [best[arm]] + [job.result() for job in jobs] for arm, jobs in seeds.items()}
        summary = report(setup, sweep, finals)
    end_load = os.getloadavg()
    print(f"\ntotal wall {time.perf_counter() - started:.0f} s; load average at the end {end_load[0]:.1f} (1 min) "
          f"{end_load[1]:.1f} (5 min)")
    args.out.mkdir(parents=True, exist_ok=True)
    runs = [vars(r) for group in (*sweep.values(), *(f[1:] for f in finals.values())) for r in group]
    (args.out / "opd_vs_rl.json").write_text(json.dumps(
        {"command": command, "load": [load, end_load], "teacher_success": setup.teacher_success,
         "warm_success": setup.warm_success, "summary": summary, "runs": runs}, indent=1, default=str))


if __name__ == "__main__":
    main()
