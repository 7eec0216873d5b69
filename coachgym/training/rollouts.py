"""Several coachgym episodes at once, one batched generation per turn, as TRL rollout rows.

On-policy training plays a whole round's episodes in lockstep: every live episode renders its next
user turn (`PolicyAgent.begin_turn`), one `generate` call samples all their actions together
(the trainer's own generation: transformers `generate` under `unwrap_model_for_generation`, or
vLLM), each action goes to its own env, and finished episodes drop out. The result is turned into
what `GRPOTrainer`'s `rollout_func` returns: per sequence, `prompt_ids` (everything before the
first sampled token), `completion_ids` (the rest: sampled tokens and the env's later turns) and
`env_mask` (1 on sampled tokens, 0 on env tokens, so only the policy's own tokens carry loss). A
text episode is one sequence; a CrossAttnVLM episode is one sequence per turn, each with its
screenshot (the model reads one image per sample), and `episode` maps sequences to episodes.
This module plays and packs; it must not compute advantages or losses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from pydantic import BaseModel, ConfigDict

from coachgym.agents.base import ContextLimitExceeded
from coachgym.training.policy import EpisodeTokens, PolicyAgent

Generate = Callable[[list[EpisodeTokens]], list[tuple[list[int], list[float] | None]]]


class Episode(BaseModel):
    """One played episode: what the env judged, and the tokens the policy saw and sampled."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    task_id: str
    tokens: EpisodeTokens
    reward: float = 0.0
    success: bool = False
    env_steps: int = 0
    outcome: str = ""


def play_batch(envs: list[gym.Env], agents: list[PolicyAgent], plan: list[tuple[str, int]],
               generate: Generate, anyone_playing: Callable[[bool], bool] | None = None) -> list[Episode]:
    """Play `plan[i]` = (task_id, seed) in `envs[i]` with `agents[i]`, all episodes in lockstep:
    one `generate(rows)` call per turn for every episode still running. `anyone_playing(playing)`
    tells whether any training process still has a live episode: generation is collective across
    processes (vLLM gathers prompts, ZeRO-3 gathers weights), so a process whose episodes have
    ended keeps calling `generate([])` until every process is done."""
    episodes: list[Episode] = []
    observations: list[Any] = []
    for env, agent, (task_id, seed) in zip(envs, agents, plan, strict=True):
        observation, _ = env.reset(seed=seed, options={"task_id": task_id})
        agent.start_episode(env.unwrapped.task, env.unwrapped.prompt_info())
        episodes.append(Episode(task_id=task_id, tokens=agent.episode))
        observations.append(observation)
    live = list(range(len(plan)))
    while anyone_playing(bool(live)) if anyone_playing else live:
        rows, turn = [], []
        for index in live:
            try:
                rows.append(agents[index].begin_turn(observations[index]))
                turn.append(index)
            except ContextLimitExceeded:
                episodes[index].outcome = "context_limit"
        samples = generate(rows) if rows or anyone_playing else []
        live = []
        for index, (sampled, logprobs) in zip(turn, samples, strict=True):
            action = agents[index].end_turn(sampled, logprobs)
            observation, reward, terminated, truncated, info = envs[index].step(action.text)
            episode = episodes[index]
            episode.reward += float(reward)
            episode.env_steps += 1
            observations[index] = observation
            if terminated or truncated:
                episode.success, episode.outcome = bool(info.get("success", False)), str(info.get("outcome", ""))
            else:
                live.append(index)
    for episode, agent in zip(episodes, agents):
        episode.tokens = agent.episode
    return episodes


class RolloutRows(BaseModel):
    """`GRPOTrainer` rollout rows for a list of episodes (see the module docstring)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    prompt_ids: list[list[int]]
    completion_ids: list[list[int]]
    env_mask: list[list[int]]
    logprobs: list[list[float]] | None
    episode: list[int]
    images: list[np.ndarray | None]


def to_rows(episodes: list[Episode], pad_id: int, multiple: int = 1) -> RolloutRows:
    """Split each sequence at its first sampled token. A sequence in which nothing was sampled (the
    first turn already exceeded the context) becomes one masked pad token, so the batch keeps one
    entry per episode and that episode adds no loss. Fully masked copies of the last sequence pad
    the count to a `multiple` (the trainer splits a round into that many equal minibatches)."""
    rows = RolloutRows(prompt_ids=[], completion_ids=[], env_mask=[], logprobs=[], episode=[], images=[])
    for index, episode in enumerate(episodes):
        for sequence in episode.tokens.rows():
            start = sequence.mask.index(1) if 1 in sequence.mask else len(sequence.ids)
            completion = sequence.ids[start:] or [pad_id]
            rows.prompt_ids.append(sequence.ids[:start] or [pad_id])
            rows.completion_ids.append(completion)
            rows.env_mask.append(sequence.mask[start:] or [0])
            rows.logprobs.append(sequence.sampler_logprobs[start:] or [0.0])
            rows.episode.append(index)
            rows.images.append(sequence.image)
    while len(rows.episode) % multiple:
        for field in ("prompt_ids", "completion_ids", "logprobs", "episode", "images"):
            getattr(rows, field).append(getattr(rows, field)[-1])
        rows.env_mask.append([0] * len(rows.completion_ids[-1]))
    return rows
