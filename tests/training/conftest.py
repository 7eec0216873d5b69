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


