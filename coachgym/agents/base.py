"""The agent contract the rollout loop relies on.

An agent is told which task an episode is about (`start_episode`), then maps each observation
dict to an `AgentOutput`. LM agents keep their own chat history and report the exact user-turn
text they were fed (`prompt`) so trajectories train on precisely what the model saw, and the
token ids and log-probs they sampled so training never re-tokenizes sampled text.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from pydantic import BaseModel

from coachgym.envs.core import Task


class ContextLimitExceeded(Exception):
    """The conversation no longer fits the model's context; the episode ends as `context_limit`."""


class AgentOutput(BaseModel):
    text: str
    prompt: str | None = None
    token_ids: list[int] | None = None
    logprobs: list[float] | None = None
    usage: dict[str, int] = {}


class Agent(ABC):
    #: Spec string identifying the agent in trajectories and resume keys (e.g. "scripted").
    name: str = "agent"
    #: Model identifier when a model is behind the agent.
    model: str | None = None
    #: The system prompt of the current episode, if the agent uses one.
    system_prompt: str | None = None

    @abstractmethod
    def start_episode(self, task: Task, env_info: dict[str, Any]) -> None:
        """Forget the previous episode and prepare for `task`."""

    @abstractmethod
    def act(self, observation: dict[str, Any]) -> AgentOutput:
        """Return the next action for this observation."""

    def close(self) -> None:
        """Release resources (model servers, sessions)."""
