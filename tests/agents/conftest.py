"""Shared, expensive fixtures for the agent tests: a tiny locally built chat model (saved with
`save_pretrained`, loaded back through `from_pretrained`), and the registered gym envs."""

from __future__ import annotations

import pytest

from coachgym.envs.registry import register_all


@pytest.fixture(scope="session", autouse=True)
def _gym_envs() -> None:
    register_all()


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    from coachgym.agents.tiny import build_tiny_chat_model

    return str(build_tiny_chat_model(tmp_path_factory.mktemp("tiny-qwen2"), arch="qwen2"))


@pytest.fixture(scope="session")
def tiny_hf_model(tiny_model_path):
    from coachgym.agents.hf import HFModel

    return HFModel(tiny_model_path)


@pytest.fixture(scope="session")
def tiny_vlm_path(tmp_path_factory):
    """The coachgym VLM (tiny, random), saved and loaded like any checkpoint."""
    from coachgym.vision import tiny_vlm

    model, processor = tiny_vlm()
    model.config.text_config.max_position_embeddings = 16384  # screen observations are long in bytes
    path = tmp_path_factory.mktemp("tiny-vlm")
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return str(path)
