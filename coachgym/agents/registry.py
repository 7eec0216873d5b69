"""Agents by spec string, so CLI flags, worker processes and resume keys share one naming.

Specs: `scripted`, `random`, and `<kind>:<argument>` for kinds other modules register
(e.g. `hf:/path/to/model`, `openai:model@http://host/v1`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from coachgym.agents.base import Agent

# kind -> "module:factory"; each factory takes the part after the colon (or "" when absent).
AGENT_KINDS: dict[str, str] = {
    "scripted": "coachgym.agents.scripted:ScriptedAgent",
    "random": "coachgym.agents.scripted:RandomAgent",
}


def make_agent(spec: str) -> Agent:
    kind, _, argument = spec.partition(":")
    if kind not in AGENT_KINDS:
        raise ValueError(f"Unknown agent {spec!r}; use one of: {', '.join(AGENT_KINDS)} (as kind or kind:argument).")
    module, _, attr = AGENT_KINDS[kind].partition(":")
    factory: Callable[..., Agent] = getattr(importlib.import_module(module), attr)
    agent = factory(argument) if argument else factory()
    agent.name = spec
    return agent
