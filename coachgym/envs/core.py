"""The contract every coachgym environment follows.

`AgentEnv` is a `gymnasium.Env` whose action is the model's raw text and whose observation is a
dict (`text`, `goal`, `step`, and `screenshot` for screen envs). The base class owns everything
that must behave the same in every env: task selection from a suite, the step budget, parsing
actions against the env's declared vocabulary, turning bad actions into explanatory observations
(never exceptions), AgentBench outcome categories, and evaluation at episode end. Subclasses
implement only the world: `_setup`, `_execute`, `_evaluate`, and optionally `_screenshot`.

Rewards come from evaluators that read env state, never from what the agent claims.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pydantic import BaseModel, ConfigDict

from coachgym.envs.actions import ActionError, ActionSet, ParsedAction
from coachgym.envs.registry import load_suite
from coachgym.envs.spaces import UnicodeText
from coachgym.envs.tasks import Task, TaskSuite

MAX_TEXT_CHARS = 200_000


class Outcome(str, Enum):
    """How an episode ended: AgentBench's categories, plus `agent_error` (set by the rollout when the
    agent itself raised: model load, generate, HTTP), so agent faults are not blamed on the env."""

    COMPLETED = "completed"
    INVALID_FORMAT = "invalid_format"
    INVALID_ACTION = "invalid_action"
    TASK_LIMIT_REACHED = "task_limit_reached"
    CONTEXT_LIMIT = "context_limit"
    ENV_ERROR = "env_error"
    AGENT_ERROR = "agent_error"


class Evaluation(BaseModel):
    reward: float
    success: bool
    detail: str = ""


class StepResult(BaseModel):
    """What an env's `_execute` returns for a valid action."""

    text: str
    reward: float = 0.0
    done: bool = False


class Expert:
    """A scripted policy that solves one task. It may read the task's privileged setup; it must
    act only through the same action text a model would emit."""

    def __init__(self, task: Task):
        self.task = task

    def act(self, observation: dict[str, Any]) -> str:
        raise NotImplementedError


class ReplayExpert(Expert):
    """Replays the fixed action list a task stores under `setup["solution"]`."""

    def __init__(self, task: Task):
        super().__init__(task)
        self._remaining = list(task.setup.get("solution", []))

    def act(self, observation: dict[str, Any]) -> str:
        if not self._remaining:
            raise RuntimeError(f"Task {self.task.id!r} has no scripted action left.")
        return self._remaining.pop(0)


class ResetOptions(BaseModel):
    """Everything `reset(options=...)` takes, here and over the env server: a silently ignored option
    would run some other task and look like a result, so any other key is refused."""

    model_config = ConfigDict(extra="forbid")

    task_id: str | None = None


class AgentEnv(gym.Env[dict, str]):
    """Base class: a task-driven, text-action environment.

    Episode: `reset(seed, options={"task_id": ...})` picks a task (by id, or by seed from the
    suite), builds a fresh world and returns the first observation. Each `step(text)` parses the
    text against `actions`. A valid action changes the world; an invalid one leaves it untouched
    and the observation explains what was wrong (`info["action_error"]`). The episode terminates
    when the agent takes a terminal action (answer/finish), or after `max_invalid_actions`
    consecutive bad actions; it is truncated when the step budget runs out. On either, the
    evaluator scores the world and `info` carries `outcome`, `success` and `evaluation`.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 4}
    name: ClassVar[str]
    actions: ClassVar[ActionSet]
    default_max_steps: ClassVar[int] = 20
    screenshot_shape: tuple[int, int] | None = None

    def __init__(
        self,
        task: str | Task | None = None,
        suite: str | TaskSuite | None = None,
        max_steps: int | None = None,
        max_invalid_actions: int = 3,
        split: str | None = None,
        render_mode: str | None = None,
    ):
        if isinstance(suite, str) or suite is None:
            suite = load_suite(suite or self.name)
        if split is not None:
            suite = suite.split(split)
        if isinstance(task, Task):
            suite = suite.model_copy(update={"tasks": [task]})
        elif isinstance(task, str):
            suite = suite.model_copy(update={"tasks": [suite.get(task)]})
        if not suite.tasks:
            raise ValueError(f"Suite {suite.name!r} has no tasks to run.")
        self.suite = suite
        self.max_steps_override = max_steps
        self.max_invalid_actions = max_invalid_actions
        self.render_mode = render_mode
        self.observation_space = self._observation_space()
        self.action_space = UnicodeText(max_length=MAX_TEXT_CHARS)
        self.task: Task | None = None
        self._last_text = ""
        self._reset_counters()

    # ----------------------------------------------------------------- hooks for subclasses
    def _setup(self, task: Task, seed: int) -> str:
        """Build a fresh world for `task`; return the first observation text."""
        raise NotImplementedError

    def _execute(self, action: ParsedAction) -> StepResult:
        """Apply a validated action. Raise `ActionError` when it cannot apply in this state."""
        raise NotImplementedError

    def _evaluate(self) -> Evaluation:
        """Score the world as it is now (called once, when the episode ends)."""
        raise NotImplementedError

    def _screenshot(self) -> np.ndarray | None:
        return None

    # ----------------------------------------------------------------- gymnasium API
    @property
    def max_steps(self) -> int:
        if self.max_steps_override is not None:
            return self.max_steps_override
        if self.task is not None and self.task.max_steps is not None:
            return self.task.max_steps
        return self.default_max_steps

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        options = options or {}
        unknown = set(options) - set(ResetOptions.model_fields)
        if unknown:  # refused before anything changes, the seeded generator included
            raise ValueError(f"Unknown reset options {sorted(unknown)}; reset takes options={{'task_id': ...}} "
                             "with the id of a task in this env's suite (build the env with suite= to add tasks).")
        super().reset(seed=seed)
        if options.get("task_id") is not None:
            self.task = self.suite.get(options["task_id"])
        else:
            self.task = self.suite.tasks[int(self.np_random.integers(len(self.suite.tasks)))]
        self._reset_counters()
        episode_seed = int(self.np_random.integers(2**31 - 1))
        try:
            text = self._setup(self.task, episode_seed)
        except ActionError as error:  # a task that cannot be set up is an env fault, not the agent's
            raise RuntimeError(f"Task {self.task.id!r} could not be set up: {error.message}") from error
        return self._observation(text), self._info()

    def step(self, action: str) -> tuple[dict, float, bool, bool, dict]:
        if self.task is None:
            raise RuntimeError("Call reset() before step().")
        if self._done:
            raise RuntimeError("The episode has ended; call reset() to start another.")
        self.steps += 1
        self.pointer = []
        info: dict[str, Any] = {}
        reward, terminated = 0.0, False
        try:
            parsed = self.actions.parse(action)
            result = self._execute(parsed)
            text, reward, terminated = result.text, result.reward, result.done
            self.consecutive_invalid = 0
            self.outcome = Outcome.COMPLETED if terminated else None
        except ActionError as error:
            self.invalid_actions += 1
            self.consecutive_invalid += 1
            info["action_error"] = error.message
            text = f"Invalid action: {error.message}\n\n{self._last_text}".rstrip()
            if self.consecutive_invalid >= self.max_invalid_actions:
                terminated = True
                self.outcome = Outcome(error.kind)
        except Exception as error:  # noqa: BLE001 - the env broke, not the agent: end cleanly
            text = f"Environment error: {type(error).__name__}: {error}"
            info["env_error"] = text
            terminated = True
            self.outcome = Outcome.ENV_ERROR
        truncated = not terminated and self.steps >= self.max_steps
        if truncated:
            self.outcome = Outcome.TASK_LIMIT_REACHED
        if terminated or truncated:
            self._done = True
            evaluation = self._safe_evaluate()
            reward += evaluation.reward
            info.update(evaluation=evaluation.model_dump(), success=evaluation.success)
        if self.pointer:
            info["pointer"] = [[round(x, 4), round(y, 4)] for x, y in self.pointer]
        observation = self._observation(text)
        return observation, float(reward), terminated, truncated, self._info() | info

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._last_text
        return None

    # ----------------------------------------------------------------- shared machinery
    def prompt_info(self) -> dict[str, str]:
        """What a prompt builder needs to describe this env to a model."""
        return {"env": self.name, "actions": self.actions.describe(), "doc": (type(self).__doc__ or "").strip()}

    def _reset_counters(self) -> None:
        # Where the step's action touched the screen, as fractions (0..1) of the screenshot's width and
        # height; envs append, `info["pointer"]` reports it, trajectory pages draw it on the screenshot.
        self.pointer: list[tuple[float, float]] = []
        self.steps = 0
        self.invalid_actions = 0
        self.consecutive_invalid = 0
        self.outcome: Outcome | None = None
        self._done = False

    def _safe_evaluate(self) -> Evaluation:
        if self.outcome is Outcome.ENV_ERROR:
            return Evaluation(reward=0.0, success=False, detail="environment error")
        try:
            return self._evaluate()
        except Exception as error:  # noqa: BLE001 - a broken evaluator must not lose the episode
            self.outcome = Outcome.ENV_ERROR
            return Evaluation(reward=0.0, success=False, detail=f"evaluator failed: {type(error).__name__}: {error}")

    def _observation_space(self) -> spaces.Dict:
        fields: dict[str, spaces.Space] = {
            "text": UnicodeText(MAX_TEXT_CHARS),
            "goal": UnicodeText(MAX_TEXT_CHARS),
            "step": spaces.Discrete(1_000_000),
        }
        if self.screenshot_shape is not None:
            height, width = self.screenshot_shape
            fields["screenshot"] = spaces.Box(0, 255, (height, width, 3), np.uint8)
        return spaces.Dict(fields)

    def _observation(self, text: str) -> dict[str, Any]:
        if len(text) > MAX_TEXT_CHARS:
            text = text[: MAX_TEXT_CHARS - 40] + "\n[observation truncated]"
        self._last_text = text
        obs: dict[str, Any] = {"text": text, "goal": self.task.goal if self.task else "", "step": self.steps}
        if self.screenshot_shape is not None:
            shot = self._screenshot()
            obs["screenshot"] = shot if shot is not None else np.zeros((*self.screenshot_shape, 3), np.uint8)
        return obs

    def _info(self) -> dict[str, Any]:
        return {
            "task_id": self.task.id if self.task else None,
            "outcome": self.outcome.value if self.outcome else None,
            "invalid_actions": self.invalid_actions,
            "steps": self.steps,
        }
