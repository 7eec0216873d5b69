"""Agents: turn observations into action text (plus sampled token ids and log-probs)."""

from coachgym.agents.base import Agent, AgentOutput, ContextLimitExceeded
from coachgym.agents.registry import make_agent

__all__ = ["Agent", "AgentOutput", "ContextLimitExceeded", "make_agent"]
