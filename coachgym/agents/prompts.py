"""Prompt formats derived from each env's action vocabulary.

The same builder renders prompts for scripted experts (so their trajectories are training data
in exactly the format a model will see at inference) and for model agents.
"""

from __future__ import annotations

from typing import Any


class PromptBuilder:
    """ReAct-style default: a system prompt listing the actions; one user turn per observation."""

    def system(self, env_info: dict[str, Any]) -> str:
        return (
            f"You are an agent acting in the '{env_info['env']}' environment.\n"
            f"{env_info.get('doc', '')}\n\n"
            f"Available actions:\n{env_info['actions']}\n\n"
            "Answer with a short thought, then exactly one action on its own line:\n"
            "Thought: <reasoning>\nAction: <action>"
        )

    def user_turn(self, observation: dict[str, Any], first: bool) -> str:
        if first:
            return f"Task: {observation['goal']}\n\n{observation['text']}"
        return observation["text"]
