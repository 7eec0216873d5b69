"""`coachgym quickstart`: the whole coachgym story on GUI tasks, in one command, on CPU, offline.

1. tasks: the phone env's GUI families (`coachgym.envs.phone.gui_tasks`: open an app, a note or a
   product found on the screenshot alone), or the browser's MiniWoB++ ones
   (`coachgym.envs.browser.gui_tasks`: click a named button or colour box), train layouts and
   held-out test layouts never trained on;
2. collect: the scripted expert plays the train tasks into a trajectory store, screenshots included;
3. models: a tokenizer trained on that text, a tiny CrossAttnVLM teacher and a smaller student
   sharing it (random init);
4. SFT: the teacher is fine-tuned on the expert's screenshots and actions (`coachgym.training.sft`
   with `vision`), and the student gets a short SFT warm start so its first rollouts are well-formed;
5. distill: the student learns on-policy from the teacher, both reading the screenshots
   (`coachgym.training.distill`);
6. evaluate: the student before and after distillation, the teacher, and the expert as the
   ceiling, each with `coachgym eval` on the held-out layouts, one benchmark component per family;
7. report: one HTML page comparing them (`coachgym.benchmarks.report`), whose episode pages draw
   each tap on its screenshot; if more than 10% of any run's episodes ended in `agent_error` or
   `env_error`, the quickstart fails and says why.

Every stage reuses the public API of its area; this module only wires them and must not grow
training or evaluation logic of its own. Stages whose output exists are skipped, so re-running
after an interruption continues where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, model_validator

from coachgym.benchmarks.report import write_report
from coachgym.benchmarks.runner import EvalConfig, read_results, run_eval
from coachgym.benchmarks.suites import BenchSuite, Component, warn_evaluation_overlap
from coachgym.envs.browser.gui_tasks import FAMILIES as MINIWOB_FAMILIES
from coachgym.envs.browser.gui_tasks import miniwob_gui_suite
from coachgym.envs.core import TaskSuite
from coachgym.envs.phone.gui_tasks import FAMILIES, gui_suite
from coachgym.strict import StrictModel
from coachgym.trajectories.stats import check_error_share

Log = Callable[[str], None]


class ModelSize(StrictModel):
    """A tiny random CrossAttnVLM (`coachgym.training.tiny.build_vlm`) around a tokenizer trained on the data."""

    hidden_size: int = Field(description="LM width (a multiple of 4: the tiny LM has 4 heads).")
    layers: int = Field(description="LM layers, each with a cross-attention block.")

    def label(self) -> str:
        return f"tiny random {self.hidden_size}x{self.layers}"


class PretrainedParts(StrictModel):
    """Pretrained checkpoints (hub ids or local folders) composed with `from_parts`: how a quickstart
    config swaps the tiny models for real ones. The teacher's and the student's LMs must share a
    tokenizer, since the teacher scores the student's tokens."""

    lm: str = Field(description="Causal LM (Llama-family layers, e.g. Qwen2.5); its tokenizer is used.")
    vision: str = Field(description="CLIP/SigLIP checkpoint whose patch tokens enter the LM (low-res).")
    high_res_vision: str = Field(description="CLIP/SigLIP checkpoint read through cross-attention (high-res).")
    image_size: int | None = Field(default=None, description="Low-res input px; default: the checkpoint's.")
    high_res_image_size: int | None = Field(default=None, description="High-res input px (position embeddings "
                                            "interpolated); default: the checkpoint's.")
    cross_attn_hidden_size: int = Field(default=512, description="Cross-attention width, at most the LM's.")
    cross_attn_num_heads: int = 8

    def label(self) -> str:
        return f"from_parts({self.lm}, {self.vision}, {self.high_res_vision})"


class QuickstartConfig(StrictModel):
    out: Path = Field(default=Path("runs/quickstart"), description="Folder for tasks, trajectories, models, eval runs "
                      "and the report.")
    families: list[str] = Field(default=list(FAMILIES), description="GUI task families of one env: the phone's "
                                f"{sorted(FAMILIES)} or MiniWoB++'s {sorted(MINIWOB_FAMILIES)} (one problem per "
                                "layout, the page's seed).")
    train_layouts: int = Field(default=200, ge=1, description="Train layouts per family (launcher/list orders).")
    test_layouts: int = Field(default=8, ge=1, description="Held-out layouts per family, never trained on.")
    per_layout: int = Field(default=2, ge=1, description="Target tasks per layout.")
    image_size: int = Field(default=56, description="Tiny models' low-res input (14 px patches become LM tokens).")
    high_res_image_size: int = Field(default=224, description="Tiny models' high-res input, read by cross-attention.")
    teacher: ModelSize | PretrainedParts = ModelSize(hidden_size=96, layers=2)
    student: ModelSize | PretrainedParts = ModelSize(hidden_size=48, layers=1)
    sft_steps: int = Field(default=600, description="Teacher SFT steps (batches of `sft_batch` step samples).")
    warmup_steps: int = Field(default=200, description="Student SFT warm start before distillation.")
    sft_batch: int = Field(default=8, description="Step samples (one screenshot each) per SFT step.")
    learning_rate: float = Field(default=2e-3, gt=0, description="SFT learning rate (teacher and warm start).")
    distill_steps: int = Field(default=16, description="On-policy distillation rounds.")
    distill_learning_rate: float = Field(default=2e-4, gt=0, description="Distillation learning rate (at 1e-3 the "
                                         "tiny student's actions fell apart into repeated keys within 16 rounds).")
    eval_repeats: int = Field(default=1, description="Episodes per held-out task (each its own seed).")
    workers: int = Field(default=2, ge=1)

    @model_validator(mode="after")
    def _families_of_one_env(self) -> QuickstartConfig:
        if not (set(self.families) <= set(FAMILIES) or set(self.families) <= set(MINIWOB_FAMILIES)):
            raise ValueError(f"families {self.families} must all be phone families {sorted(FAMILIES)} or all "
                             f"MiniWoB++ families {sorted(MINIWOB_FAMILIES)}: one quickstart runs one env.")
        return self

    @property
    def env(self) -> str:
        """The env the families run in (`_families_of_one_env` keeps them to one)."""
        return "browser" if set(self.families) <= set(MINIWOB_FAMILIES) else "phone"

    @model_validator(mode="after")
    def _same_kind_of_models(self) -> QuickstartConfig:
        if type(self.teacher) is not type(self.student):
            raise ValueError("teacher and student must both be tiny (hidden_size, layers) or both pretrained parts "
                             "(lm, vision, high_res_vision): the teacher scores the student's tokens, so they share "
                             "one tokenizer and image layout.")
        if isinstance(self.teacher, PretrainedParts) and (self.teacher.vision, self.teacher.image_size) != (
                self.student.vision, self.student.image_size):
            raise ValueError("teacher and student need the same low-res `vision` and `image_size`: its patches are "
                             "tokens of the rows the teacher scores.")
        return self

    @classmethod
    def small(cls) -> QuickstartConfig:
        """The CI configuration: one family, a few layouts and updates (under two minutes on 2 cores)."""
        return cls(families=["open-app"], train_layouts=12, test_layouts=3, per_layout=1, sft_steps=30,
                   warmup_steps=20, distill_steps=2, workers=1)


def write_tasks(config: QuickstartConfig) -> tuple[TaskSuite, Path, Path]:
    """The GUI suite (what the expert plays and the student distils on) and a benchmark of its
    held-out split with one component per family, so the report shows each family's success."""
    folder = config.out / "tasks"
    folder.mkdir(parents=True, exist_ok=True)
    if config.env == "browser":
        suite_path = folder / "miniwob-gui.json"
        suite = _solved_before(suite_path, config)  # solving takes a while in Chromium: keep what was solved
        if suite is None:
            suite = miniwob_gui_suite(config.train_layouts, config.test_layouts, config.families, progress=False)
            suite.save(suite_path)
    else:
        suite_path = folder / "phone-gui.json"
        suite = gui_suite(config.train_layouts, config.test_layouts, config.per_layout, config.families)
        suite.save(suite_path)
    components = []
    for family in config.families:
        part_path = folder / f"{suite.name}-{family}.json"
        suite.model_copy(update={"name": part_path.stem, "tasks": [t for t in suite.tasks if family in t.tags]}
                         ).save(part_path)
        components.append(Component(name=family, suite=str(part_path.resolve())))
    bench_path = folder / f"{suite.name}-bench.yaml"
    bench = BenchSuite(name=suite.name, description=suite.description, split="test", components=components)
    bench_path.write_text(yaml.safe_dump(bench.model_dump(exclude_none=True), sort_keys=False), encoding="utf-8")
    return suite, suite_path, bench_path


def _solved_before(suite_path: Path, config: QuickstartConfig) -> TaskSuite | None:
    """The MiniWoB++ suite saved there, if it holds this config's problems (its seeds are counted from 0
    and from the held-out base, so the counts and families pin them)."""
    if not suite_path.exists():
        return None
    suite = TaskSuite.load(suite_path)
    same = ({t.setup["page"] for t in suite.tasks} == set(config.families)
            and len(suite.split("train").tasks) == config.train_layouts * len(config.families)
            and len(suite.split("test").tasks) == config.test_layouts * len(config.families))
    return suite if same else None


def collect_expert(config: QuickstartConfig, suite_path: Path) -> Path:
    from coachgym.trajectories.collect import CollectConfig, collect

    out = config.out / "trajectories"
    collect(CollectConfig(env=config.env, suite=str(suite_path), agent="scripted", out=out, splits=["train"],
                          workers=config.workers), progress=False)
    return out


def build_models(config: QuickstartConfig, store: Path) -> tuple[Path, Path]:
    """Teacher and student checkpoints sharing one tokenizer and image layout (so the teacher can
    score the student's rows): tiny random VLMs around a tokenizer trained on the data, or the
    configured pretrained parts around their LM's tokenizer."""
    from coachgym.training.tiny import build_vlm, build_vlm_tokenizer, save_tiny
    from coachgym.trajectories.convert import to_messages
    from coachgym.trajectories.store import TrajectoryStore

    paths = []
    if isinstance(config.teacher, PretrainedParts):
        tokenizer = parts_tokenizer(config.teacher.lm, config.student.lm)
    else:
        tokenizer = build_vlm_tokenizer(m["content"] for t in TrajectoryStore(store).read() for m in to_messages(t))
    for name, size in (("teacher-init", config.teacher), ("student-init", config.student)):
        path = config.out / "models" / name
        if (path / "config.json").exists():
            paths.append(path)
            continue
        if isinstance(size, PretrainedParts):
            model, processor = compose_parts(size, tokenizer)
        else:
            model, processor = build_vlm(tokenizer, hidden_size=size.hidden_size, layers=size.layers,
                                         image_size=config.image_size, high_res_image_size=config.high_res_image_size)
        paths.append(save_tiny(model, processor, path))
    return paths[0], paths[1]


def parts_tokenizer(teacher_lm: str, student_lm: str) -> Any:
    """The teacher LM's tokenizer with the image token added and coachgym's ChatML template, which
    renders screenshot parts as that token; refused when the student's LM tokenizes differently."""
    from transformers import AutoTokenizer

    from coachgym.vision.tokenizer import CHAT_TEMPLATE, IMAGE

    tokenizer = AutoTokenizer.from_pretrained(teacher_lm)
    if AutoTokenizer.from_pretrained(student_lm).get_vocab() != tokenizer.get_vocab():
        raise ValueError(f"The student LM {student_lm} and the teacher LM {teacher_lm} have different tokenizers; "
                         "distillation scores the student's tokens with the teacher, so pick LMs of one family.")
    if IMAGE not in tokenizer.get_vocab():
        tokenizer.add_tokens([IMAGE], special_tokens=True)
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def compose_parts(parts: PretrainedParts, tokenizer: Any) -> tuple[Any, Any]:
    """`from_parts` of the configured checkpoints, its embeddings grown for an added image token."""
    from coachgym.vision import CrossAttnVLMForConditionalGeneration, CrossAttnVLMProcessor
    from coachgym.vision.tokenizer import IMAGE

    model = CrossAttnVLMForConditionalGeneration.from_parts(
        lm=parts.lm, vision=parts.vision, high_res_vision=parts.high_res_vision,
        image_token_id=tokenizer.convert_tokens_to_ids(IMAGE), image_size=parts.image_size,
        high_res_image_size=parts.high_res_image_size, cross_attn_hidden_size=parts.cross_attn_hidden_size,
        cross_attn_num_heads=parts.cross_attn_num_heads)
    if model.get_input_embeddings().num_embeddings < len(tokenizer):
        model.resize_token_embeddings(len(tokenizer))
    return model, CrossAttnVLMProcessor.for_config(model.config, tokenizer)


def sft(config: QuickstartConfig, init: Path, store: Path, name: str, steps: int) -> Path:
    """Vision SFT of `init` on the expert's steps: each sample is one step with its screenshot."""
    from coachgym.training.data import DataSource
    from coachgym.training.sft import SFTRunConfig
    from coachgym.training.vision_sft import run_vision_sft

    final = config.out / "models" / name / "final"
    if final.exists():
        return final
    return run_vision_sft(SFTRunConfig(model=init, output_dir=final.parent, data=[DataSource(path=store)],
                                       max_steps=steps, vision=True, learning_rate=config.learning_rate,
                                       batch_size=config.sft_batch, max_length=1024, logging_steps=50,
                                       save_steps=10_000, report_to="none", progress=False))


def distill(config: QuickstartConfig, student: Path, teacher: Path, suite_path: Path) -> Path:
    """On-policy distillation of the teacher into the student on the train split."""
    from coachgym.training.distill import DistillConfig, run_distill
    from coachgym.training.teacher import TeacherSettings

    final = config.out / "models" / "student-distilled" / "final"
    if final.exists():
        return final
    return run_distill(DistillConfig(model=student, output_dir=final.parent, suite=str(suite_path),
                                     teacher=TeacherSettings(model=str(teacher)), iterations=config.distill_steps,
                                     tasks_per_iteration=4, samples_per_task=2, max_new_tokens=64,
                                     learning_rate=config.distill_learning_rate, save_every=10_000,
                                     report_to="none", progress=False))


def evaluate(config: QuickstartConfig, bench_path: Path, name: str, agent: str) -> Path:
    out = config.out / "eval" / name
    run_eval(EvalConfig(suite=str(bench_path), agent=agent, out=out, workers=config.workers, timeout_s=300,
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


def held_out_success(runs: dict[str, Path]) -> list[str]:
    """One line per run: its held-out success overall and per family (benchmark component)."""
    lines = []
    for label, folder in runs.items():
        metrics = read_results(folder).metrics
        parts = ", ".join(f"{c.name} {c.success_rate:.0%}" for c in metrics.components)
        lines.append(f"{label:28s} {metrics.success_rate:6.1%} of {metrics.episodes} episodes ({parts})")
    return lines


def _model_agent(path: Path) -> str:
    return f"hf:{path.resolve()}?temperature=0&max_new_tokens=64"


def run_quickstart(config: QuickstartConfig, log: Log = print) -> Path:
    """Run every stage; return the HTML report's path."""
    from coachgym.trajectories.store import TrajectoryStore

    started = time.monotonic()

    def stage(message: str) -> None:
        log(f"[{time.monotonic() - started:6.1f}s] {message}")

    config.out.mkdir(parents=True, exist_ok=True)
    tasks, suite_path, bench_path = write_tasks(config)
    stage(f"tasks: {', '.join(config.families)}: {len(tasks.split('train').tasks)} train, "
          f"{len(tasks.split('test').tasks)} held-out test on layouts never trained on -> {suite_path}")
    store = collect_expert(config, suite_path)
    warn_evaluation_overlap(TrajectoryStore(store).read(), str(suite_path))
    stage(f"collect: {len(TrajectoryStore(store))} expert trajectories -> {store}")
    teacher_init, student_init = build_models(config, store)
    sizes = (f", screenshots at {config.image_size} px low-res (LM tokens) and {config.high_res_image_size} px "
             "high-res (cross-attention)") if isinstance(config.teacher, ModelSize) else ""
    stage(f"models: CrossAttnVLM teacher {config.teacher.label()}, student {config.student.label()}{sizes} -> "
          f"{teacher_init.parent}")
    teacher = sft(config, teacher_init, store, "teacher-sft", config.sft_steps)
    stage(f"SFT: teacher fine-tuned for {config.sft_steps} steps -> {teacher}")
    student = sft(config, student_init, store, "student-warm", config.warmup_steps)
    stage(f"SFT: student warm-started for {config.warmup_steps} steps -> {student}")
    distilled = distill(config, student, teacher, suite_path)
    stage(f"distill: {config.distill_steps} on-policy rounds from the teacher -> {distilled}")
    runs = {"expert": evaluate(config, bench_path, "expert", "scripted"),
            "teacher after SFT": evaluate(config, bench_path, "teacher-sft", _model_agent(teacher)),
            "student before distillation": evaluate(config, bench_path, "student-before", _model_agent(student)),
            "student after distillation": evaluate(config, bench_path, "student-after", _model_agent(distilled))}
    stage("evaluate: held-out greedy success\n  " + "\n  ".join(held_out_success(runs)))
    _, page = write_report(list(runs.values()), config.out / "report", labels=list(runs))
    stage(f"report -> {page}")
    check_runs(runs, page, log)
    return page
