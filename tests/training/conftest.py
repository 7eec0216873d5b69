"""Shared fixtures for training tests: expert demos of the small guess suite, a tokenizer trained
on them, and tiny random checkpoints saved locally (no hub downloads)."""

from __future__ import annotations

import pytest
import torch

from coachgym.agents.scripted import ScriptedAgent
from coachgym.training.evaluate import make_env
from coachgym.training.tasks import small_guess_suite
from coachgym.training.tiny import build_model, build_tokenizer, save_tiny, trajectory_texts
from coachgym.trajectories.rollout import run_episode
from coachgym.trajectories.store import TrajectoryStore


@pytest.fixture(scope="session")
def suite():
    return small_guess_suite()


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory, suite):
    store = TrajectoryStore(tmp_path_factory.mktemp("demos"))
    env = make_env(suite)
    for task_id in suite.ids():
        store.append(run_episode(env, ScriptedAgent(), task_id, 0))
    env.close()
    return store


@pytest.fixture(scope="session")
def tokenizer(demo_store):
    trajectories, _ = demo_store.load()
    return build_tokenizer(trajectory_texts(trajectories))


@pytest.fixture(scope="session")
def student_path(tmp_path_factory, tokenizer):
    return save_tiny(build_model(tokenizer, hidden_size=32, layers=1, seed=1), tokenizer,
                     tmp_path_factory.mktemp("student"))


@pytest.fixture(scope="session")
def teacher_path(tmp_path_factory, tokenizer):
    return save_tiny(build_model(tokenizer, hidden_size=48, layers=2, seed=2), tokenizer,
                     tmp_path_factory.mktemp("teacher"))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def screen_suite(tmp_path_factory):
    """The small guess suite with a 32-pixel screenshot in every observation (for VLM students)."""
    from coachgym.training.tasks import small_guess_suite

    path = tmp_path_factory.mktemp("suite") / "screen-guess.json"
    small_guess_suite(screen=32).save(path)
    return str(path)


@pytest.fixture(scope="session")
def vlm_tokenizer(demo_store):
    from coachgym.training.tiny import build_vlm_tokenizer

    trajectories, _ = demo_store.load()
    return build_vlm_tokenizer(trajectory_texts(trajectories))


@pytest.fixture(scope="session")
def vlm_student(tmp_path_factory, vlm_tokenizer):
    from coachgym.training.tiny import build_vlm

    model, processor = build_vlm(vlm_tokenizer, hidden_size=32, layers=1, high_res_image_size=28, seed=1)
    return save_tiny(model, processor, tmp_path_factory.mktemp("vlm-student"))


@pytest.fixture(scope="session")
def vlm_teacher(tmp_path_factory, vlm_tokenizer):
    from coachgym.training.tiny import build_vlm

    model, processor = build_vlm(vlm_tokenizer, hidden_size=48, layers=2, high_res_image_size=42, seed=2)
    return save_tiny(model, processor, tmp_path_factory.mktemp("vlm-teacher"))
