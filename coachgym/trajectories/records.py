"""Trajectory records: what one agent did in one episode, step by step.

These are the unit of exchange between collection, training and evaluation, so they keep what
training needs and cannot recover later: the exact text the agent saw and emitted, the token ids
and log-probs it sampled (training must never re-tokenize sampled text), and the env's verdict.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from coachgym.envs.core import Outcome


class Step(BaseModel):
    index: int
    observation: str = Field(description="The user-turn text the agent saw before acting.")
    image: str | None = Field(default=None, description="Screenshot file, relative to the store's folder.")
    action: str = Field(description="The agent's full output (thought and action).")
    train: bool = Field(default=True, description="Whether the action is a training target (AgentInstruct `loss`).")
    token_ids: list[int] | None = None
    logprobs: list[float] | None = None
    context: list[int] | None = Field(
        default=None,
        description="Earlier steps whose observations the model saw in full (the rest were elided to fit its "
        "context); None = all. `coachgym.trajectories.convert.step_messages` rebuilds the exact chat from it.",
    )
    reward: float = 0.0
    action_error: str | None = None
    pointer: list[tuple[float, float]] | None = Field(
        default=None, description="Where the action touched the screen, as fractions (0..1) of the screenshot's "
        "width and height (the env's `info['pointer']`); trajectory pages draw these points on the screenshot.")
    env_time_s: float = 0.0
    agent_time_s: float = 0.0


class Trajectory(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    task_id: str
    env: str
    agent: str = Field(description="Agent spec that produced it, e.g. 'scripted' or 'hf:path'.")
    model: str | None = None
    seed: int = 0
    goal: str = ""
    system_prompt: str | None = None
    preamble: list[dict[str, str]] = Field(
        default=[], description="Fixed chat turns (`role`/`content`) the agent was given after the system prompt "
        "and before the first observation, e.g. AgentBench v0.2's instruction and one-shot turns.",
    )
    steps: list[Step] = []
    final_observation: str | None = Field(default=None, description="What the env answered to the last action.")
    reward: float = 0.0
    success: bool = False
    outcome: Outcome = Outcome.COMPLETED
    invalid_actions: int = 0
    split: str | None = None
    started_at: float = 0.0
    duration_s: float = 0.0
    usage: dict[str, int] = {}
    metadata: dict[str, Any] = {}

    @property
    def key(self) -> tuple[str, int, str]:
        """Identity for resuming: one finished episode per (task, seed, agent)."""
        return (self.task_id, self.seed, self.agent)
