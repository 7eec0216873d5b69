"""On-policy distillation vs RL vs continued SFT for a small student, on a real env.

Setup (all tiny, CPU): expert demos of the small guess suite; a teacher (hidden 64, 2 layers)
SFT-trained to high success; a smaller student (hidden 48) briefly SFT-trained as the shared warm
start. From that warm start, three arms run side by side:
  - distill: on-policy distillation from the teacher (advantage = teacher_lp - student_lp);
  - rl: REINFORCE with a group-mean baseline on the env reward (same rollouts and loss);
  - sft: continued SFT on the expert demos (no student env steps).
Greedy success on the suite is measured every `--eval-every` rounds against student env steps
and estimated FLOPs (2N per token sampled or scored, 6N per token trained). Output: a table,
`opd_vs_rl.png` and `opd_vs_rl.json` in `--out`. Goal: distillation reaches the teacher's
success within 5 points with >= 5x fewer student env steps than RL.

Run: python perf/opd_vs_rl.py   (about 10 minutes on 2 idle CPU cores; --iterations to shorten)
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

from coachgym.agents.scripted import ScriptedAgent
from coachgym.training.data import DataSource, mix_sources
from coachgym.training.distill import DistillConfig, distill_advantage
from coachgym.training.evaluate import evaluate_policy, make_env
from coachgym.training.onpolicy import IterationLog, train_on_policy
from coachgym.training.policy import PolicyAgent
from coachgym.training.rl import RLConfig, reward_advantage
from coachgym.training.sft import SFTRunConfig, load_model, train_sft
from coachgym.training.tasks import small_guess_suite
from coachgym.training.teacher import HFTeacher, TeacherSettings
from coachgym.training.tiny import build_model, build_tokenizer, save_tiny, trajectory_texts
from coachgym.trajectories.rollout import run_episode
from coachgym.trajectories.store import TrajectoryStore

SUITE = "small-guess"


def params(path: Path) -> int:
    return sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(path).parameters())


def success(path: Path, temperature: float | None = None, seeds: int = 4) -> float:
    """Greedy success on the suite, or (with `temperature`) mean sampled success over `seeds` runs."""
    model, tokenizer = load_model(path)
    if temperature is None:
        return evaluate_policy(PolicyAgent(model, tokenizer, greedy=True, max_new_tokens=32), SUITE).success_rate
    return sum(evaluate_policy(PolicyAgent(model, tokenizer, temperature=temperature, max_new_tokens=32, seed=seed),
                               SUITE).success_rate for seed in range(seeds)) / seeds


def sft(path: Path, demos: Path, out: Path, steps: int) -> Path:
    model, tokenizer = load_model(path)
    config = SFTRunConfig(model=path, output_dir=out, data=[DataSource(path=demos)], max_steps=steps,
                          learning_rate=3e-3, batch_size=1, max_length=1024, report_to="none", progress=False,
                          save_steps=10**6, resume=False)
    return train_sft(config, model, tokenizer, mix_sources(config.data))


def on_policy_arm(name: str, warm: Path, teacher: Path, out: Path, args: argparse.Namespace,
                  n_student: int, n_teacher: int) -> list[dict]:
    common = dict(model=warm, output_dir=out / name, suite=SUITE, iterations=args.iterations,
                  tasks_per_iteration=args.tasks_per_round, samples_per_task=args.samples_per_task,
                  temperature=args.temperature, max_new_tokens=32, learning_rate=args.lr, minibatch_size=args.minibatch,
                  eval_every=args.eval_every, save_every=10**6, report_to="none", progress=False, resume=False)
    model, tokenizer = load_model(warm)
    if name == "distill":
        config = DistillConfig(teacher=TeacherSettings(model=str(teacher)), **common)
        advantage = distill_advantage(HFTeacher(teacher, tokenizer))
    else:
        config = RLConfig(**common)
        advantage = reward_advantage()
    points = [{"env_steps": 0, "flops": 0.0, "success": args.warm_success}]

    def record(log: IterationLog) -> None:
        if log.eval_success is None:
            return
        per_token = 8 * n_student + (2 * n_teacher if name == "distill" else 0)
        points.append({"env_steps": log.env_steps, "flops": per_token * log.context_tokens, "success": log.eval_success,
                       "rollout_success": log.rollout_success, **log.extra})
        kl = f" reverse KL/token {log.extra['reverse_kl']:.3f}" if "reverse_kl" in log.extra else ""
        print(f"  {name:8s} round {log.iteration:3d}: steps {log.env_steps:5d} greedy success "
              f"{log.eval_success:.0%} sampled {log.rollout_success:.0%}{kl}")

    train_on_policy(config, advantage, model, tokenizer, on_iteration=record)
    return points


def sft_arm(warm: Path, demos: Path, out: Path, args: argparse.Namespace, n_student: int, tokens: int) -> list[dict]:
    points = [{"env_steps": 0, "flops": 0.0, "success": args.warm_success}]
    current = warm
    for chunk in range(1, args.sft_chunks + 1):
        current = sft(current, demos, out / f"sft-{chunk}", args.sft_chunk_steps)
        trained = chunk * args.sft_chunk_steps * tokens
        points.append({"env_steps": 0, "flops": 6.0 * n_student * trained, "success": success(current)})
        print(f"  sft      chunk {chunk}: success {points[-1]['success']:.0%}")
    return points


def first_reaching(points: list[dict], target: float) -> int | None:
    return next((p["env_steps"] for p in points if p["success"] >= target), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--eval-every", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--tasks-per-round", type=int, default=8,
                        help="8 = every task each round: updates that saw only some tasks undid the others")
    parser.add_argument("--samples-per-task", type=int, default=2, help="Episodes per task per round (RL's group)")
    parser.add_argument("--minibatch", type=int, default=16,
                        help="Episodes per update (16 = one Adam step per round: noisier, smaller batches "
                             "perturbed the tiny students' greedy policy more than they taught it)")
    parser.add_argument("--temperature", type=float, default=0.6,
                        help="Student sampling temperature: at 1.0 a tiny student derails into random bytes "
                             "after one unlikely token, and the teacher's verdicts on those bytes swamp the rest")
    parser.add_argument("--teacher-steps", type=int, default=600,
                        help="600 makes the teacher sharp (sampled success near its greedy one); at 300 it "
                             "was mostly right greedily but sampled at 38-47%%: a flat target to distil")
    parser.add_argument("--warm-steps", type=int, default=200)
    parser.add_argument("--sft-chunks", type=int, default=4)
    parser.add_argument("--sft-chunk-steps", type=int, default=25)
    parser.add_argument("--out", type=Path, default=Path("perf/out"))
    args = parser.parse_args()
    torch.manual_seed(0)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        suite, store = small_guess_suite(), TrajectoryStore(tmp / "demos")
        env = make_env(suite)
        for task_id in suite.ids():
            store.append(run_episode(env, ScriptedAgent(), task_id, 0))
        demos, _ = store.load()
        tokenizer = build_tokenizer(trajectory_texts(demos))
        teacher = sft(save_tiny(build_model(tokenizer, 64, 2, seed=0), tokenizer, tmp / "t0"), store.folder,
                      tmp / "teacher", args.teacher_steps)
        warm = sft(save_tiny(build_model(tokenizer, 48, 2, seed=1), tokenizer, tmp / "s0"), store.folder,
                   tmp / "warm", args.warm_steps)
        teacher_success, args.warm_success = success(teacher), success(warm)
        n_teacher, n_student = params(teacher), params(warm)
        print(f"teacher {n_teacher} params greedy success {teacher_success:.0%} (sampled at T={args.temperature}: "
              f"{success(teacher, args.temperature):.0%}); student {n_student} params warm-start greedy success "
              f"{args.warm_success:.0%} (sampled: {success(warm, args.temperature):.0%})")
        tokens_per_step = 1024
        results = {name: on_policy_arm(name, warm, teacher, tmp, args, n_student, n_teacher)
                   for name in ("distill", "rl")}
        results["sft"] = sft_arm(warm, store.folder, tmp, args, n_student, tokens_per_step)
    target = teacher_success - 0.05
    print(f"\n{'arm':<8}{'final success':>14}{'best':>7}{'env steps to teacher-5pt':>26}{'FLOPs at end':>14}")
    for name, points in results.items():
        reach = first_reaching(points, target) if name != "sft" else None
        print(f"{name:<8}{points[-1]['success']:>14.0%}{max(p['success'] for p in points):>7.0%}"
              f"{str(reach) if reach is not None else '-':>26}{points[-1]['flops']:>14.2e}")
    distill_steps, rl_steps = first_reaching(results["distill"], target), first_reaching(results["rl"], target)
    if distill_steps and rl_steps:
        print(f"RL needed {rl_steps / max(distill_steps, 1):.1f}x the student env steps of distillation (goal >= 5x)")
    elif distill_steps:
        budget = results["rl"][-1]["env_steps"]
        print(f"RL did not reach the target within {budget} env steps: >= {budget / max(distill_steps, 1):.1f}x "
              "the student env steps of distillation (goal >= 5x)")
    else:
        print(f"teacher-5pt target {target:.0%} reached by: distill={distill_steps}, rl={rl_steps} "
              "(None = not within the budget)")
    (args.out / "opd_vs_rl.json").write_text(json.dumps({"teacher_success": teacher_success, **results}, indent=1))
    plot(results, teacher_success, args.out / "opd_vs_rl.png")


def plot(results: dict, teacher_success: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (by_steps, by_flops) = plt.subplots(1, 2, figsize=(11, 4))
    for name, points in results.items():
        if name != "sft":
            by_steps.plot([p["env_steps"] for p in points], [p["success"] for p in points], marker="o", label=name)
        by_flops.plot([p["flops"] for p in points], [p["success"] for p in points], marker="o", label=name)
    for axis, label in ((by_steps, "student env steps"), (by_flops, "estimated FLOPs")):
        axis.axhline(teacher_success, color="gray", linestyle="--", label="teacher")
        axis.set_xlabel(label)
        axis.set_ylabel("greedy success")
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    print(f"plot -> {path}")


if __name__ == "__main__":
    main()
