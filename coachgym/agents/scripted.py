"""Non-learning agents: each env's scripted expert, and the random baseline.

`PromptedAgent` renders the same system prompt and user turns a model agent gets for the env
(`prompts.prompt_builder`), so expert and human trajectories are training data in exactly the
format a model sees at inference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coachgym.agents.base import Agent, AgentOutput
from coachgym.agents.prompts import PromptBuilder, prompt_builder
from coachgym.envs.core import Expert, Task
from coachgym.envs.registry import env_class, expert_class


class PromptedAgent(Agent):
    """Shared bookkeeping: render prompts exactly as a model agent would see them."""

    def __init__(self, prompts: PromptBuilder | None = None):
        self.fixed_prompts = prompts
        self.prompts = prompts or PromptBuilder()
        self._first = True

    def start_episode(self, task: Task, env_info: dict[str, Any]) -> None:
        self.prompts = self.fixed_prompts or prompt_builder(env_info["env"])
        self.system_prompt = self.prompts.system(env_info)
        self.preamble = self.prompts.preamble(env_info)
        self._first = True

    def _prompt(self, observation: dict[str, Any]) -> str:
        prompt = self.prompts.user_turn(observation, self._first)
        self._first = False
        return prompt


class ScriptedAgent(PromptedAgent):
    """Runs the env's expert for each task (privileged: it may know the task's setup)."""

    name = "scripted"

    def start_episode(self, task: Task, env_info: dict[str, Any]) -> None:
        super().start_episode(task, env_info)
        self.expert: Expert = expert_class(task.env)(task)

    def act(self, observation: dict[str, Any]) -> AgentOutput:
        prompt = self._prompt(observation)
        return AgentOutput(text=self.expert.act(observation), prompt=prompt)


class RandomAgent(PromptedAgent):
    """Well-formed actions with random arguments: the floor every benchmark should report."""

    name = "random"

    def __init__(self, seed: int | str = 0, prompts: PromptBuilder | None = None):
        super().__init__(prompts)
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)

    def reseed(self, seed: int) -> None:
        self.rng = np.random.default_rng([self.seed, seed])

    def start_episode(self, task: Task, env_info: dict[str, Any]) -> None:
        super().start_episode(task, env_info)
        self.actions = env_class(task.env).actions

    def act(self, observation: dict[str, Any]) -> AgentOutput:
        prompt = self._prompt(observation)
        return AgentOutput(text=self.actions.sample(self.rng), prompt=prompt)
