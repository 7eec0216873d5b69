"""`coachgym quickstart`: the whole coachgym story in one command, on CPU, offline, in minutes.

1. tasks: a built-in env (guess) with small ranges and a screen, split into train and held-out
   test tasks;
2. collect: the scripted expert plays the train tasks into a trajectory store, screenshots included;
3. models: a tokenizer trained on that text, a tiny CrossAttnVLM teacher and a smaller student
   sharing it (random init);
4. SFT: the teacher is fine-tuned on the expert's screenshots and actions (`coachgym.training.sft`
   with `vision`), and the student gets a short SFT warm start so its first rollouts are well-formed;
5. distill: the student learns on-policy from the teacher, both reading the screenshots
   (`coachgym.training.distill`);
6. evaluate: the student before and after distillation, the teacher, and the expert as the
   ceiling, each with `coachgym eval` on the held-out split;
7. report: one HTML page comparing them (`coachgym.benchmarks.report`); if more than 10% of any
   run's episodes ended in `agent_error` or `env_error`, the quickstart fails and says why.

Every stage reuses the public API of its area; this module only wires them and must not grow
training or evaluation logic of its own. Stages whose output exists are skipped, so re-running
after an interruption continues where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pydantic import Field

from coachgym.benchmarks.report import write_report
from coachgym.benchmarks.runner import EvalConfig, read_results, run_eval
from coachgym.benchmarks.suites import warn_evaluation_overlap
from coachgym.envs.core import TaskSuite
from coachgym.strict import StrictModel
from coachgym.trajectories.stats import check_error_share

Log = Callable[[str], None]


class ModelSize(StrictModel):
    hidden_size: int = Field(description="LM width (a multiple of 4: the tiny LM has 4 heads).")
    layers: int = Field(description="LM layers, each with a cross-attention block.")


class QuickstartConfig(StrictModel):
    out: Path = Field(description="Folder for tasks, trajectories, models, eval runs and the report.")
    highs: list[int] = Field(default=[8, 16], description="Guess ranges [1, high]; every secret is one task.")
    test_every: int = Field(default=4, description="Every Nth secret is a held-out test task.")
    screen: int = Field(default=56, description="Screenshot size in pixels (square).")
    image_size: int = Field(default=28, description="Low-res encoder input (14 px patches become LM tokens).")
    high_res_image_size: int = Field(default=56, description="High-res encoder input, read by cross-attention.")
    teacher: ModelSize = ModelSize(hidden_size=96, layers=2)
    student: ModelSize = ModelSize(hidden_size=48, layers=1)
    sft_steps: int = Field(default=200, description="Teacher SFT steps (batches of `sft_batch` step samples).")
    warmup_steps: int = Field(default=150, description="Student SFT warm start before distillation.")
    sft_batch: int = Field(default=8, description="Step samples (one screenshot each) per SFT step.")
    distill_steps: int = Field(default=16, description="On-policy distillation rounds.")
    eval_repeats: int = Field(default=2, description="Episodes per held-out task (each its own seed).")
    workers: int = Field(default=2, ge=1)

    @classmethod
    def small(cls, out: Path) -> QuickstartConfig:
        """The CI configuration: one range, fewer updates (a few minutes on 2 cores)."""
        return cls(out=out, highs=[8], sft_steps=60, warmup_steps=30, distill_steps=2, eval_repeats=1, workers=1)


def quickstart_suite(config: QuickstartConfig) -> TaskSuite:
    """The learnable guess suite on screen, with every `test_every`-th secret held out for evaluation."""
    from coachgym.training.tasks import small_guess_suite

    suite = small_guess_suite(highs=tuple(config.highs), screen=config.screen)
    tasks = [t.model_copy(update={"split": "test" if int(t.setup["secret"]) % config.test_every == 0 else "train"})
             for t in suite.tasks]
    return suite.model_copy(update={"name": "quickstart-guess", "tasks": tasks})


def collect_expert(config: QuickstartConfig, suite_path: Path) -> Path:
    from coachgym.trajectories.collect import CollectConfig, collect

    out = config.out / "trajectories"
    collect(CollectConfig(env="guess", suite=str(suite_path), agent="scripted", out=out, splits=["train"],
                          workers=1), progress=False)
    return out


def build_models(config: QuickstartConfig, store: Path) -> tuple[Path, Path]:
    """Random-init CrossAttnVLM teacher and student checkpoints sharing one tokenizer trained on
    the data and one image layout (so the teacher can score the student's rows)."""
    from coachgym.training.tiny import build_vlm, build_vlm_tokenizer, save_tiny
    from coachgym.trajectories.convert import to_messages
    from coachgym.trajectories.store import TrajectoryStore

    texts = [m["content"] for t in TrajectoryStore(store).read() for m in to_messages(t)]
    tokenizer = build_vlm_tokenizer(texts)
    paths = []
    for name, size in (("teacher-init", config.teacher), ("student-init", config.student)):
        model, processor = build_vlm(tokenizer, hidden_size=size.hidden_size, layers=size.layers,
                                     image_size=config.image_size, high_res_image_size=config.high_res_image_size)
        paths.append(save_tiny(model, processor, config.out / "models" / name))
    return paths[0], paths[1]


def sft(config: QuickstartConfig, init: Path, store: Path, name: str, steps: int) -> Path:
    """Vision SFT of `init` on the expert's steps: each sample is one step with its screenshot."""
    from coachgym.training.data import DataSource
    from coachgym.training.sft import SFTRunConfig
    from coachgym.training.vision_sft import run_vision_sft

    final = config.out / "models" / name / "final"
    if final.exists():
        return final
    return run_vision_sft(SFTRunConfig(model=init, output_dir=final.parent, data=[DataSource(path=store)],
                                       max_steps=steps, vision=True, learning_rate=3e-3, batch_size=config.sft_batch,
                                       max_length=1024, logging_steps=50, save_steps=10_000, report_to="none",
                                       progress=False))


def distill(config: QuickstartConfig, student: Path, teacher: Path, suite_path: Path) -> Path:
    """On-policy distillation of the teacher into the student on the train split."""
    from coachgym.training.distill import DistillConfig, run_distill
    from coachgym.training.teacher import TeacherSettings

    final = config.out / "models" / "student-distilled" / "final"
    if final.exists():
        return final
    return run_distill(DistillConfig(model=student, output_dir=final.parent, suite=str(suite_path),
                                     teacher=TeacherSettings(model=str(teacher)), iterations=config.distill_steps,
                                     tasks_per_iteration=4, samples_per_task=2, max_new_tokens=32,
                                     learning_rate=1e-3, save_every=10_000, report_to="none", progress=False))


def evaluate(config: QuickstartConfig, suite_path: Path, name: str, agent: str) -> Path:
    out = config.out / "eval" / name
    run_eval(EvalConfig(suite=str(suite_path), agent=agent, out=out, workers=config.workers, timeout_s=300,
                        repeats=config.eval_repeats, resume=True))
    return out


def check_runs(runs: dict[str, Path], page: Path, log: Log = print) -> None:
    """Log every run's failed episodes; raise `UserError` when more than 10% of a run's failed, since
    its numbers would measure the failure, not the model."""
    results = {label: read_results(folder).metrics for label, folder in runs.items()}
    for label, metrics in results.items():
        for line in metrics.errors:
            log(f"problem: {label}: {line}")
    for label, metrics in results.items():
        check_error_share(metrics.error_episodes(), metrics.episodes,
                          f"the quickstart's {label!r} run (report: {page})",
                          "run the quickstart again: it keeps what finished and plays the failed episodes again")


def _model_agent(path: Path) -> str:
    return f"hf:{path.resolve()}?temperature=0&max_new_tokens=48"


def run_quickstart(config: QuickstartConfig, log: Log = print) -> Path:
    """Run every stage; return the HTML report's path."""
    started = time.monotonic()

    def stage(message: str) -> None:
        log(f"[{time.monotonic() - started:6.1f}s] {message}")

    config.out.mkdir(parents=True, exist_ok=True)
    suite = quickstart_suite(config)
    suite_path = config.out / "tasks" / "quickstart-guess.json"
    suite_path.parent.mkdir(parents=True, exist_ok=True)
    suite.save(suite_path)
    stage(f"tasks: {len(suite.split('train').tasks)} train, {len(suite.split('test').tasks)} held-out test -> "
          f"{suite_path}")
    store = collect_expert(config, suite_path)
    from coachgym.trajectories.store import TrajectoryStore

    warn_evaluation_overlap(TrajectoryStore(store).read(), str(suite_path))
    stage(f"collect: {len(TrajectoryStore(store))} expert trajectories -> {store}")
    teacher_init, student_init = build_models(config, store)
    stage(f"models: CrossAttnVLM teacher {config.teacher.hidden_size}x{config.teacher.layers}, "
          f"student {config.student.hidden_size}x{config.student.layers}, screenshots {config.screen} px -> "
          f"{teacher_init.parent}")
    teacher = sft(config, teacher_init, store, "teacher-sft", config.sft_steps)
    stage(f"SFT: teacher fine-tuned for {config.sft_steps} steps -> {teacher}")
    student = sft(config, student_init, store, "student-warm", config.warmup_steps)
    stage(f"SFT: student warm-started for {config.warmup_steps} steps -> {student}")
    distilled = distill(config, student, teacher, suite_path)
    stage(f"distill: {config.distill_steps} on-policy rounds from the teacher -> {distilled}")
    runs = {"student before distillation": evaluate(config, suite_path, "student-before", _model_agent(student)),
            "student after distillation": evaluate(config, suite_path, "student-after", _model_agent(distilled)),
            "teacher after SFT": evaluate(config, suite_path, "teacher-sft", _model_agent(teacher)),
            "expert": evaluate(config, suite_path, "expert", "scripted")}
    stage("evaluate: " + ", ".join(runs))
    _, page = write_report(list(runs.values()), config.out / "report", labels=list(runs))
    stage(f"report -> {page}")
    check_runs(runs, page, log)
    return page
