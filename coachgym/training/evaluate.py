"""Success rate of a policy in a coachgym env, through the shared rollout loop.

Training loops and perf scripts score models here so every number comes from the same episodes
evaluation and collection play (`trajectories.rollout.run_episode`), judged by the env's own
evaluator. This module must not update weights.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import gymnasium as gym
from pydantic import BaseModel
from transformers import PreTrainedModel

from coachgym.envs.core import TaskSuite
from coachgym.training.policy import EpisodeTokens, PolicyAgent, generate
from coachgym.training.rollouts import play_batch
from coachgym.trajectories.records import Trajectory
from coachgym.trajectories.rollout import run_episode


class EvalResult(BaseModel):
    success_rate: float
    mean_reward: float
    episodes: int
    env_steps: int


def make_env(suite: str | TaskSuite, env_kwargs: dict | None = None) -> gym.Env:
    """The suite's env, limited to that suite (a registered name, a file, or a `TaskSuite`)."""
    from coachgym.envs.registry import load_suite, make

    suite = load_suite(suite) if isinstance(suite, str) else suite
    return make(suite.env, suite=suite, **(env_kwargs or {}))


def play(env: gym.Env, agent: PolicyAgent, episodes: Iterable[tuple[str, int]]) -> list[tuple[Trajectory, EpisodeTokens]]:
    """Run (task_id, seed) episodes; each trajectory comes with the tokens the agent conditioned on.
    A policy that raises stops the caller (a training run) instead of yielding an empty episode."""
    return [(run_episode(env, agent, task_id, seed, raise_agent_errors=True), agent.episode)
            for task_id, seed in episodes]


def summarize(trajectories: list[Trajectory]) -> EvalResult:
    return _result([(t.success, t.reward, len(t.steps)) for t in trajectories])


def _result(episodes: list[tuple[bool, float, int]]) -> EvalResult:
    """Success rate and mean reward over (success, reward, env steps) of each episode."""
    count = max(1, len(episodes))
    return EvalResult(success_rate=sum(e[0] for e in episodes) / count, mean_reward=sum(e[1] for e in episodes) / count,
                      episodes=len(episodes), env_steps=sum(e[2] for e in episodes))


def evaluate_lockstep(model: PreTrainedModel, tokenizer: Any, suite: str | TaskSuite, task_ids: list[str],
                      max_new_tokens: int, seeds: Iterable[int] = (0,)) -> EvalResult:
    """Greedy success of a text model over the same episodes `evaluate_policy` plays, all in lockstep: one env
    each and one batched greedy `generate` per turn (`rollouts.play_batch`), so a held-out sweep costs a few
    batched forward passes per turn instead of one generation per episode and turn."""
    plan = [(task_id, seed) for task_id in task_ids for seed in seeds]
    envs = [make_env(suite) for _ in plan]
    agents = [PolicyAgent(model, tokenizer, greedy=True, max_new_tokens=max_new_tokens) for _ in plan]
    try:
        episodes = play_batch(envs, agents, plan, lambda rows: generate(model, None, rows, tokenizer, greedy=True,
                                                                        max_new_tokens=max_new_tokens))
    finally:
        for env in envs:
            env.close()
    return _result([(e.success, e.reward, e.env_steps) for e in episodes])


def evaluate_policy(agent: PolicyAgent, suite: str | TaskSuite, task_ids: list[str] | None = None,
                    seeds: Iterable[int] = (0,), env: gym.Env | None = None) -> EvalResult:
    """Play every task (default: all of the suite) once per seed and report the success rate."""
    env = env or make_env(suite)
    ids = task_ids or env.unwrapped.suite.ids()
    return summarize([t for t, _ in play(env, agent, [(i, s) for i in ids for s in seeds])])
