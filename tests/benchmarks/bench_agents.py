"""Agents for the benchmark-runner tests, created in worker processes through `agent_factory`."""

from __future__ import annotations

import os
import time
from typing import Any

from coachgym.agents.base import AgentOutput
from coachgym.agents.scripted import ScriptedAgent
from coachgym.envs.core import Task

HANG_TASK = "guess-033"
CRASH_TASK = "guess-035"


class FaultyAgent(ScriptedAgent):
    """The scripted expert, except that it hangs on one task and kills its own process on another."""

    def start_episode(self, task: Task, env_info: dict[str, Any]) -> None:
        super().start_episode(task, env_info)
        self.task_id = task.id

    def act(self, observation: dict[str, Any]) -> AgentOutput:
        if self.task_id == HANG_TASK:
            time.sleep(600)
        if self.task_id == CRASH_TASK:
            os._exit(3)
        return super().act(observation)


class BrokenAgent(ScriptedAgent):
    """An agent with a bug in `act`, as a model agent whose `generate` is missing would have."""

    def act(self, observation: dict[str, Any]) -> AgentOutput:
        raise AttributeError("'NoneType' object has no attribute 'generate'")


class UnloadableAgent(ScriptedAgent):
    """An agent whose weights cannot be found: it fails while being created."""

    def __init__(self):
        raise OSError("no weights at /models/missing; pass a folder written by save_pretrained")


class FlakyAgent(ScriptedAgent):
    """The scripted expert while the file named by $COACHGYM_TEST_OUTAGE is absent; broken while it exists
    (a model server that was down for part of a run)."""

    def act(self, observation: dict[str, Any]) -> AgentOutput:
        if os.path.exists(os.environ["COACHGYM_TEST_OUTAGE"]):
            raise ConnectionError("model server unreachable")
        return super().act(observation)
