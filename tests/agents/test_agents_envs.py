"""Collection from every env with the scripted expert, a local HF model and a served model.

Text envs run the tiny Qwen2; screen envs (browser, phone) run the tiny coachgym VLM, so the
screenshots really reach a model, locally and over the OpenAI-compatible API.
"""

from __future__ import annotations

import pytest

from coachgym.agents.hf import HFModel
from coachgym.agents.serve import ModelServer
from coachgym.envs.registry import ENVS, load_suite
from coachgym.envs.server import ThreadedServer
from coachgym.trajectories.collect import CollectConfig, collect
from coachgym.trajectories.convert import step_messages
from coachgym.trajectories.store import TrajectoryStore

ENV_NAMES = ["guess", "shell", "database", "browser", "phone"]
SCREEN_ENVS = {"browser", "phone"}


def test_agents_envs_every_registered_env_is_covered():
    assert sorted(ENVS) == sorted(ENV_NAMES)


def first_train_tasks(env: str, count: int) -> list[str]:
    return [t.id for t in load_suite(env).tasks if t.split == "train"][:count]


def collected(tmp_path, env: str, agent: str, tasks: list[str], **env_kwargs) -> list:
    config = CollectConfig(env=env, agent=agent, out=tmp_path, tasks=tasks, env_kwargs=env_kwargs)
    summary = collect(config, progress=False)
    trajectories, report = TrajectoryStore(tmp_path).load()
    assert summary.collected == len(tasks) == len(trajectories) and not report.problems
    for trajectory in trajectories:
        assert trajectory.env == env and trajectory.agent == agent and trajectory.steps
        assert trajectory.system_prompt and trajectory.steps[0].observation.startswith("Task: ")
        if env in SCREEN_ENVS:
            assert all((tmp_path / step.image).is_file() for step in trajectory.steps)
    return trajectories


def assert_sampled(trajectories: list, max_tokens: int) -> None:
    for trajectory in trajectories:
        assert trajectory.outcome.value != "env_error", trajectory.metadata
        for step in trajectory.steps:
            assert step.token_ids and len(step.token_ids) == len(step.logprobs) <= max_tokens
            assert all(lp <= 0 for lp in step.logprobs)


@pytest.fixture(scope="module")
def servers(tiny_model_path, tiny_vlm_path):
    """One OpenAI-compatible server for the text model, one for the VLM."""
    running = {}
    for kind, path in (("text", tiny_model_path), ("vlm", tiny_vlm_path)):
        server = ModelServer(HFModel(path), kind)
        running[kind] = (server, ThreadedServer(server.app))
    yield {kind: http.url + "/v1" for kind, (_, http) in running.items()}
    for server, http in running.values():
        http.stop()
        server.stop()


@pytest.mark.parametrize("env", ENV_NAMES)
def test_agents_envs_scripted_collection_succeeds(env, tmp_path):
    trajectories = collected(tmp_path, env, "scripted", first_train_tasks(env, 1 if env in SCREEN_ENVS else 2))
    assert all(t.success and t.outcome.value == "completed" for t in trajectories)


@pytest.mark.parametrize("env", ENV_NAMES)
def test_agents_envs_hf_and_openai_agents_collect(env, tmp_path, tiny_model_path, tiny_vlm_path, servers):
    screen = env in SCREEN_ENVS
    path = tiny_vlm_path if screen else tiny_model_path
    task = first_train_tasks(env, 1)
    local = collected(tmp_path / "hf", env, f"hf:{path}?max_new_tokens=4&seed=1", task, max_steps=2)
    assert_sampled(local, 4)
    (trajectory,) = local
    messages = step_messages(trajectory, len(trajectory.steps) - 1)
    assert messages[0]["role"] == "system" and messages[-1]["role"] == "user"
    assert isinstance(messages[-1]["content"], list) == screen  # the screenshot is part of the model's input
    served = collected(tmp_path / "openai", env, f"openai:{'vlm' if screen else 'text'}@"
                       f"{servers['vlm' if screen else 'text']}?max_new_tokens=4", task, max_steps=2)
    assert_sampled(served, 4)
