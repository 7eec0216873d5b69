"""Gymnasium environments for agents, and the task suites they run."""

from coachgym.envs.actions import ActionArg, ActionError, ActionSet, ActionSpec, ParsedAction
from coachgym.envs.core import AgentEnv, Evaluation, Outcome, StepResult, Task, TaskSuite
from coachgym.envs.registry import ENVS, load_suite, make

__all__ = [
    "ENVS",
    "ActionArg",
    "ActionError",
    "ActionSet",
    "ActionSpec",
    "AgentEnv",
    "Evaluation",
    "Outcome",
    "ParsedAction",
    "StepResult",
    "Task",
    "TaskSuite",
    "load_suite",
    "make",
]
