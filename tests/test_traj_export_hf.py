"""`coachgym traj export --format hf` on real episodes: TRL's SFTTrainer trains on the text export as
is, and a screenshot export carries Image features lined up with the image parts of `messages`."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from datasets import Image, List, load_from_disk
from PIL import Image as PILImage
from trl import SFTConfig, SFTTrainer
from trl.data_utils import prepare_multimodal_messages
from typer.testing import CliRunner

import coachgym  # noqa: F401
from coachgym.agents import make_agent
from coachgym.cli import app
from coachgym.training.tiny import build_model, build_tokenizer, trajectory_texts
from coachgym.trajectories.rollout import run_episode
from coachgym.trajectories.store import TrajectoryStore


def _store(folder, env_id: str, task_ids: list[str]) -> TrajectoryStore:
    store = TrajectoryStore(folder)
    env = gym.make(env_id)
    for task_id in task_ids:
        store.append(run_episode(env, make_agent("scripted"), task_id, seed=0, store=store))
    env.close()
    return store


def _export(store: TrajectoryStore, out) -> None:
    result = CliRunner().invoke(app, ["traj", "export", str(store.folder), "--out", str(out), "--format", "hf"])
    assert result.exit_code == 0, result.output


def test_text_export_trains_under_trl_sft_trainer_as_is(tmp_path):
    store = _store(tmp_path / "store", "coachgym/Guess-v0", ["guess-000", "guess-001", "guess-002", "guess-003"])
    _export(store, tmp_path / "ds")
    dataset = load_from_disk(str(tmp_path / "ds"))
    assert "images" not in dataset.column_names
    assert all(isinstance(m["content"], str) for m in dataset[0]["messages"])

    trajectories, _ = store.load()
    tokenizer = build_tokenizer(trajectory_texts(trajectories))
    model = build_model(tokenizer, hidden_size=32, layers=1)
    before = model.lm_head.weight.detach().clone()
    args = SFTConfig(output_dir=str(tmp_path / "sft"), max_steps=2, per_device_train_batch_size=2, learning_rate=1e-3,
                     report_to=[], save_strategy="no", logging_steps=1, use_cpu=True)
    result = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer).train()
    assert result.global_step == 2 and np.isfinite(result.training_loss)
    assert not torch.equal(before, model.lm_head.weight)


def test_screenshot_export_has_image_features_aligned_with_image_parts(tmp_path):
    store = _store(tmp_path / "store", "coachgym/Phone-v0", ["phone-contacts-add-priya", "phone-contacts-edit-bob"])
    _export(store, tmp_path / "ds")
    dataset = load_from_disk(str(tmp_path / "ds"))
    assert dataset.features["images"] == List(Image())
    trajectories, _ = store.load()
    for trajectory, row in zip(trajectories, dataset):
        shown = [step for step in trajectory.steps if step.image is not None]
        assert shown and len(row["images"]) == len(shown)
        parts = [part["type"] for message in row["messages"] for part in message["content"]]
        assert parts.count("image") == len(shown)
        users = [m for m in row["messages"] if m["role"] == "user"]
        for step, message in zip(trajectory.steps, users):  # each screenshot leads the turn it was shown with
            assert message["content"][0]["type"] == "image" and message["content"][-1]["text"] == step.observation
        for step, image in zip(shown, row["images"]):
            assert np.array_equal(np.asarray(image), np.asarray(PILImage.open(store.folder / step.image)))
        filled = prepare_multimodal_messages(row["messages"], images=row["images"])  # TRL's own alignment check
        assert [p["image"] for m in filled for p in m["content"] if p["type"] == "image"] == row["images"]


def test_screenshots_missing_from_the_store_are_a_clear_error(tmp_path, one_line_error):
    store = _store(tmp_path / "store", "coachgym/Phone-v0", ["phone-contacts-add-priya"])
    missing = next((store.folder / "images").rglob("*.png"))
    missing.unlink()
    result = CliRunner().invoke(app, ["traj", "export", str(store.folder), "--out", str(tmp_path / "ds")])
    assert missing.name in one_line_error(result.exit_code, result.output)


@pytest.mark.parametrize("suffix", [".jsonl", ""])
def test_format_defaults_to_the_out_suffix(tmp_path, suffix):
    store = _store(tmp_path / "store", "coachgym/Guess-v0", ["guess-000"])
    out = tmp_path / f"export{suffix}"
    result = CliRunner().invoke(app, ["traj", "export", str(store.folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() if suffix == ".jsonl" else (out / "dataset_info.json").is_file()
