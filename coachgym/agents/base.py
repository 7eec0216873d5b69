"""The agent contract the rollout loop relies on.

An agent is told which task an episode is about (`start_episode`), then maps each observation
dict to an `AgentOutput`. LM agents keep their own chat history and report exactly what they were
fed: the user-turn text (`prompt`), the full chat `messages` (images as `{"type": "image", "step": j}`
parts), which earlier observations were kept in full (`context`), and the prompt token ids when they
tokenized locally. They also report the token ids and log-probs they sampled, so training never
re-tokenizes sampled text. At the end the agent hears how the episode ended (`end_episode`).
This module defines the contract only; it must not import model code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from coachgym.envs.core import Outcome, Task


class ContextLimitExceeded(Exception):
    """The conversation no longer fits the model's context; the episode ends as `context_limit`."""


class AgentServerError(RuntimeError):
    """A model server could not be used (unreachable, refused, kept failing); the message names the fix."""


class AgentOutput(BaseModel):
    text: str
    prompt: str | None = Field(default=None, description="The user-turn text of this step.")
    token_ids: list[int] | None = Field(default=None, description="Sampled completion token ids (EOS included).")
    logprobs: list[float] | None = Field(default=None, description="Log-prob of each sampled token.")
    top_logprobs: list[dict[int, float]] | None = Field(
        default=None, description="The likeliest tokens and their log-probs at each position, when asked for.")
    messages: list[dict[str, Any]] | None = Field(default=None, description="Exact chat messages the model got.")
    context: list[int] | None = Field(default=None, description="Earlier steps kept in full; None = all.")
    prompt_token_ids: list[int] | None = Field(default=None, description="Tokenized `messages`, when known.")
    usage: dict[str, int] = {}


class EpisodeEnd(BaseModel):
    """How an episode ended, as the rollout tells the agent."""

    outcome: Outcome
    success: bool
    reward: float
    steps: int
    final_text: str | None = Field(default=None, description="What the env answered to the last action.")
    error: str | None = Field(default=None, description="Why an errored episode ended.")


class Agent(ABC):
    #: Spec string identifying the agent in trajectories and resume keys (e.g. "scripted").
    name: str = "agent"
    #: Model identifier when a model is behind the agent.
    model: str | None = None
    #: The system prompt of the current episode, if the agent uses one.
    system_prompt: str | None = None
    #: Fixed turns the current episode's chat holds between the system prompt and the first observation.
    preamble: Sequence[dict[str, str]] = ()

    @abstractmethod
    def start_episode(self, task: Task, env_info: dict[str, Any]) -> None:
        """Forget the previous episode and prepare for `task`."""

    @abstractmethod
    def act(self, observation: dict[str, Any]) -> AgentOutput:
        """Return the next action for this observation."""

    def end_episode(self, observation: dict[str, Any], end: EpisodeEnd) -> None:
        """Hear how the episode ended, with the last observation (a person is shown it; models need not)."""

    def reseed(self, seed: int) -> None:
        """Make the coming episode's sampling reproducible from `seed` (no-op for deterministic agents)."""

    def close(self) -> None:
        """Release resources (model servers, sessions)."""
