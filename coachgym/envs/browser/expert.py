"""`BrowserExpert`: solves built-in app tasks by following the task's plan through the observation.

The plan (privileged task data) names elements by role and accessible name; the expert finds
the matching `[id] role 'name'` line in the current observation text and emits the canonical
action with that id, exactly as a model would have to. Screen-only tasks show no outline, so
their plan carries the target's point instead (`{"do": "click_at", "label", "x", "y"}`). When an
element is missing (the page did not react as planned) it ends the episode with an empty answer
rather than guessing.
"""

from __future__ import annotations

import re
from typing import Any

from coachgym.envs.browser.actions import BROWSER_ACTIONS
from coachgym.envs.core import Expert, Task

_LINE = re.compile(r"^\s*\[(?P<id>[^\]]+)\] (?P<role>\S+)(?: '(?P<name>(?:[^'\\]|\\.)*)')?", re.MULTILINE)


def find_element(text: str, role: str, name: str) -> str | None:
    """Id of the first outline element with this role and accessible name (exact, then prefix match)."""
    candidates = [(m.group("id"), (m.group("name") or "").replace("\\'", "'"))
                  for m in _LINE.finditer(text) if m.group("role") == role]
    for element_id, element_name in candidates:
        if element_name == name:
            return element_id
    for element_id, element_name in candidates:
        if element_name.startswith(name):
            return element_id
    return None


class BrowserExpert(Expert):
    """Replays `task.setup["plan"]` step by step, resolving element ids from each observation."""

    def __init__(self, task: Task):
        super().__init__(task)
        self.steps: list[dict[str, Any]] = list(task.setup.get("plan", []))

    def act(self, observation: dict[str, Any]) -> str:
        if not self.steps:
            return BROWSER_ACTIONS.format("answer", "")
        step = self.steps.pop(0)
        if step["do"] == "answer":
            return BROWSER_ACTIONS.format("answer", step.get("text", ""))
        if step["do"] == "click_at":  # a screen-only task: the plan carries the target's point
            return (f"Thought: I click the {step['label']}.\nAction: "
                    + BROWSER_ACTIONS.format("click_xy", step["x"], step["y"]))
        element_id = find_element(observation["text"], step["role"], step["name"])
        if element_id is None:
            self.steps = []
            return (f"Thought: I cannot find the {step['role']} '{step['name']}' on this page.\nAction: "
                    + BROWSER_ACTIONS.format("answer", ""))
        thought = f"Thought: next I {step['do']} the {step['role']} '{step['name']}'.\nAction: "
        if step["do"] == "type":
            extra = {"enter": True} if step.get("enter") else {}
            return thought + BROWSER_ACTIONS.format("type", element_id, step["text"], **extra)
        if step["do"] == "select":
            return thought + BROWSER_ACTIONS.format("select", element_id, step["option"])
        return thought + BROWSER_ACTIONS.format(step["do"], element_id)
