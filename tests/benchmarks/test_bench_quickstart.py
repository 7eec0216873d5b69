"""`coachgym quickstart` end to end on phone GUI tasks (collect, SFT, distil, evaluate, report; CPU, offline)
and its config file, which swaps in pretrained parts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from bench_browser import assert_plots_shown, render
from coachgym.benchmarks.runner import read_results
from coachgym.envs.registry import load_suite
from coachgym.trajectories.store import TrajectoryStore


@pytest.mark.slow
def test_quickstart_small_runs_the_whole_story_and_its_report_renders(quickstart_small, tmp_path):
    out, output = quickstart_small  # `coachgym quickstart --small --out DIR`, run once per session
    printed = re.search(r"Report: (\S+report\.html)", output.replace("\n", ""))
    assert printed, output
    page = Path(printed.group(1))
    assert page.exists()
    for stage in ("tasks:", "collect:", "SFT: teacher", "SFT: student", "distill:", "evaluate:"):
        assert stage in output
    for label in ("expert", "teacher after SFT", "student before distillation", "student after distillation"):
        assert re.search(rf"{label} +[0-9.]+% of \d+ episodes \(open-app [0-9]+%\)", output), (label, output)
    suite = load_suite(str(out / "tasks" / "phone-gui.json"))
    held_out, trained = set(suite.split("test").ids()), set(suite.split("train").ids())
    assert held_out and trained and all(t.setup["screen_only"] for t in suite.tasks)
    runs = {name: read_results(out / "eval" / name)
            for name in ("student-before", "student-after", "teacher-sft", "expert")}
    assert runs["expert"].metrics.success_rate == 1.0
    for results in runs.values():  # every model played every held-out layout, and nothing else
        assert {e.task_id for e in results.episodes} == held_out
        assert sum(results.metrics.components[0].outcomes.values()) == len(results.episodes)
    models = out / "models"
    for name in ("teacher-sft", "student-warm", "student-distilled"):  # every trained model is the VLM
        config = json.loads((models / name / "final" / "config.json").read_text())
        assert config["model_type"] == "coachgym_crossattn_vlm", name
        assert (models / name / "final" / "processor_config.json").exists()
    teacher = json.loads((models / "teacher-sft" / "final" / "config.json").read_text())
    student = json.loads((models / "student-distilled" / "final" / "config.json").read_text())
    assert student["text_config"]["hidden_size"] < teacher["text_config"]["hidden_size"]
    demos, _ = TrajectoryStore(out / "trajectories").load()
    assert {t.task_id for t in demos} == trained  # the expert played the train layouts only
    assert all(step.image for t in demos for step in t.steps)  # SFT data has screenshots
    for name in ("student-after", "teacher-sft"):  # and the models played with them
        played, _ = TrajectoryStore(out / "eval" / name / "open-app").load()
        assert played and all(step.image and "[screenshot attached" in step.observation
                              for t in played for step in t.steps)
    expert, _ = TrajectoryStore(out / "eval" / "expert" / "open-app").load()
    taps = [step for t in expert for step in t.steps if '"click"' in step.action]
    assert taps and all(step.pointer for step in taps)  # where each tap landed, for the episode pages
    episode_pages = list((out / "eval" / "expert" / "views" / "open-app" / "episodes").glob("*.html"))
    assert len(episode_pages) == len(expert) and all('class="touch"' in p.read_text() for p in episode_pages)
    shown = render(page, tmp_path / "quickstart.png")
    assert_plots_shown(shown, tmp_path / "quickstart.png")


@pytest.fixture(scope="module")
def pretrained_parts(tmp_path_factory) -> dict[str, str]:
    """Locally saved stand-ins for a hub LM pair and SigLIP encoders: a teacher and a smaller student
    LM sharing a BPE tokenizer without the image token (as a real LM's lacks it)."""
    from transformers import AutoConfig, AutoModel

    from coachgym.envs.phone.gui_tasks import gui_suite
    from coachgym.training.tiny import build_model, build_tokenizer
    from coachgym.vision.tiny import tiny_vision_config

    root = tmp_path_factory.mktemp("parts")
    suite = gui_suite(2, 1, per_layout=1, families=["open-app"])
    texts = [f"{t.goal} Thought: I tap it. Action: {{\"action_type\": \"click\", \"x\": 123, \"y\": 456}}"
             for t in suite.tasks]
    tokenizer = build_tokenizer(texts * 20 + [open(__file__).read()], vocab_size=400)
    for name, hidden in (("teacher-lm", 64), ("student-lm", 32)):
        build_model(tokenizer, hidden_size=hidden, layers=1).save_pretrained(root / name)
        tokenizer.save_pretrained(root / name)
    for name, size in (("vision", 28), ("high-res", 56)):
        AutoModel.from_config(AutoConfig.for_model(**tiny_vision_config(size))).save_pretrained(root / name)
    return {name: str(root / name) for name in ("teacher-lm", "student-lm", "vision", "high-res")}


@pytest.mark.slow
def test_one_config_file_swaps_the_tiny_models_for_pretrained_parts(pretrained_parts, tmp_path):
    from typer.testing import CliRunner

    from coachgym.cli import app

    parts = {"vision": pretrained_parts["vision"], "high_res_vision": pretrained_parts["high-res"],
             "high_res_image_size": 112, "cross_attn_hidden_size": 32, "cross_attn_num_heads": 4}
    config = {"families": ["open-app"], "train_layouts": 3, "test_layouts": 1, "per_layout": 1, "sft_steps": 3,
              "warmup_steps": 2, "distill_steps": 1, "workers": 1,
              "teacher": {"lm": pretrained_parts["teacher-lm"], **parts},
              "student": {"lm": pretrained_parts["student-lm"], **parts}}
    (tmp_path / "quickstart.yaml").write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(app, ["quickstart", "--config", str(tmp_path / "quickstart.yaml"),
                                      "--out", str(tmp_path / "qs")])
    assert result.exit_code == 0, result.output
    for name, lm in (("teacher-sft", "teacher-lm"), ("student-distilled", "student-lm")):
        final = tmp_path / "qs" / "models" / name / "final"
        config = json.loads((final / "config.json").read_text())
        assert config["model_type"] == "coachgym_crossattn_vlm"
        assert config["text_config"]["hidden_size"] == json.loads(
            (Path(pretrained_parts[lm]) / "config.json").read_text())["hidden_size"]
        assert config["high_res_vision_config"]["image_size"] == 112
        assert "<image>" in json.loads((final / "tokenizer.json").read_text())["added_tokens"][-1]["content"]


def test_a_quickstart_config_refuses_models_that_cannot_distil_into_each_other(tmp_path, one_line_error):
    from typer.testing import CliRunner

    from coachgym.cli import app

    tiny = {"hidden_size": 32, "layers": 1}
    parts = {"lm": "Qwen/Qwen2.5-1.5B-Instruct", "vision": "google/siglip-base-patch16-224",
             "high_res_vision": "google/siglip-base-patch16-384"}
    for teacher, student, says in ((parts, tiny, "both be tiny"),
                                   (parts, parts | {"image_size": 448}, "same low-res")):
        (tmp_path / "q.yaml").write_text(yaml.safe_dump({"teacher": teacher, "student": student}))
        result = CliRunner().invoke(app, ["quickstart", "--config", str(tmp_path / "q.yaml")])
        assert says in one_line_error(result.exit_code, result.output)


def test_a_quickstart_of_miniwob_families_writes_their_benchmark_and_keeps_solved_problems(tmp_path, monkeypatch):
    from coachgym.benchmarks import quickstart
    from coachgym.benchmarks.quickstart import QuickstartConfig, write_tasks

    config = QuickstartConfig(out=tmp_path, families=["click-test-2", "click-color"], train_layouts=2, test_layouts=1)
    suite, suite_path, bench_path = write_tasks(config)
    assert suite.env == "browser" and suite_path.name == "miniwob-gui.json"
    assert len(suite.split("train").tasks) == 4 and len(suite.split("test").tasks) == 2
    bench = yaml.safe_load(bench_path.read_text())
    assert bench["split"] == "test" and [c["name"] for c in bench["components"]] == ["click-test-2", "click-color"]
    monkeypatch.setattr(quickstart, "miniwob_gui_suite", lambda *a, **k: pytest.fail("solved again"))
    assert write_tasks(config)[0] == suite  # a re-run keeps the problems solved in Chromium
    with pytest.raises(BaseException, match="solved again"):  # a changed config solves its own problems
        write_tasks(config.model_copy(update={"test_layouts": 2}))


def test_a_quickstart_config_refuses_families_of_two_envs(tmp_path, one_line_error):
    from typer.testing import CliRunner

    from coachgym.cli import app

    (tmp_path / "q.yaml").write_text(yaml.safe_dump({"families": ["open-app", "click-color"]}))
    result = CliRunner().invoke(app, ["quickstart", "--config", str(tmp_path / "q.yaml")])
    assert "one quickstart runs one env" in one_line_error(result.exit_code, result.output)
