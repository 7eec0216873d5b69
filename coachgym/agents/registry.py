"""Agents by spec string, so CLI flags, worker processes and resume keys share one naming.

Specs: `scripted`, `random`, and `<kind>:<argument>[?key=value&...]`:
`hf:/path/to/model?temperature=0.7&max_new_tokens=128`, `openai:MODEL@http://host:8000/v1`,
`human` (terminal) and `human-web` (a page for screen envs). Options after `?` become keyword
arguments of the agent's constructor (numbers are parsed; everything else stays text). The spec
string is recorded as `Trajectory.agent`, so the same spec is the same agent for resuming.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from coachgym.agents.base import Agent

# kind -> "module:factory"; each factory takes the part after the colon (when given) and options.
AGENT_KINDS: dict[str, str] = {
    "scripted": "coachgym.agents.scripted:ScriptedAgent",
    "random": "coachgym.agents.scripted:RandomAgent",
    "hf": "coachgym.agents.hf:HFAgent",
    "openai": "coachgym.agents.openai:OpenAIAgent.from_spec",
    "human": "coachgym.agents.human:TerminalHumanAgent",
    "human-web": "coachgym.agents.human:WebHumanAgent",
}


def _option(value: str) -> Any:
    for convert in (int, float):
        try:
            return convert(value)
        except ValueError:
            pass
    return value


def parse_spec(spec: str) -> tuple[str, str, dict[str, Any]]:
    """`kind:argument?options` -> (kind, argument, options)."""
    head, _, query = spec.partition("?")
    kind, _, argument = head.partition(":")
    if kind not in AGENT_KINDS:
        raise ValueError(f"Unknown agent {spec!r}; use one of: {', '.join(AGENT_KINDS)} (as kind or kind:argument).")
    return kind, argument, {key: _option(value) for key, value in parse_qsl(query, keep_blank_values=True)}


def make_agent(spec: str) -> Agent:
    kind, argument, options = parse_spec(spec)
    module, _, attr = AGENT_KINDS[kind].partition(":")
    factory: Any = importlib.import_module(module)
    for part in attr.split("."):
        factory = getattr(factory, part)
    build: Callable[..., Agent] = factory
    agent = build(argument, **options) if argument else build(**options)
    agent.name = spec
    return agent
