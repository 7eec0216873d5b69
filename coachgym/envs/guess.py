"""A number-guessing env: the smallest complete `AgentEnv`.

It has no system dependencies, so it is what the core's tests, the CLI's smoke tests and the
docs use to show the contract: a vocabulary declared as data, state-based evaluation, a scripted
expert that reads only observations, and a random baseline that almost never wins.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from coachgym.envs.actions import ActionArg, ActionError, ActionSet, ActionSpec, ParsedAction
from coachgym.envs.core import AgentEnv, Evaluation, Expert, StepResult, Task, TaskSuite

GUESS_ACTIONS = ActionSet(
    [
        ActionSpec(
            name="guess",
            doc="Guess the secret number; the reply says whether it is higher or lower.",
            args=[ActionArg(name="number", type="int", doc="Your guess.", low=-1_000_000, high=1_000_000)],
            terminal=False,
            examples=["guess(50)"],
        ),
        ActionSpec(name="give_up", doc="End the episode without finding the number.", terminal=True),
    ]
)


class GuessEnv(AgentEnv):
    """Find a secret integer in [low, high] by guessing.

    Observation: the feedback on the last guess ("higher", "lower") and the range.
    Actions: `guess(number)`, `give_up()`.
    Reward: 1 when the secret was guessed, else 0; the episode ends on a correct guess, on
    `give_up`, after three invalid actions in a row, or when the step budget runs out.
    """

    name = "guess"
    actions = GUESS_ACTIONS
    default_max_steps = 12

    def _setup(self, task: Task, seed: int) -> str:
        self.low, self.high = int(task.setup["low"]), int(task.setup["high"])
        self.secret = int(task.setup["secret"])
        self.found = False
        return f"I am thinking of a number between {self.low} and {self.high}. Make your first guess."

    def _execute(self, action: ParsedAction) -> StepResult:
        if action.name == "give_up":
            return StepResult(text=f"You gave up. The number was {self.secret}.", done=True)
        number = action.args["number"]
        if not self.low <= number <= self.high:
            raise ActionError(f"{number} is outside the range {self.low}..{self.high}.")
        if number == self.secret:
            self.found = True
            return StepResult(text=f"Correct! The number is {number}.", done=True)
        direction = "higher" if self.secret > number else "lower"
        return StepResult(text=f"{number} is wrong; the number is {direction}. Range: {self.low}..{self.high}.")

    def _evaluate(self) -> Evaluation:
        return Evaluation(reward=float(self.found), success=self.found, detail=f"secret={self.secret}")


class GuessExpert(Expert):
    """Binary search driven by the feedback text alone."""

    def __init__(self, task: Task):
        super().__init__(task)
        self.low, self.high = int(task.setup["low"]), int(task.setup["high"])
        self.last: int | None = None

    def act(self, observation: dict[str, Any]) -> str:
        feedback = re.search(r"the number is (higher|lower)", observation["text"])
        if self.last is not None and feedback:
            if feedback.group(1) == "higher":
                self.low = self.last + 1
            else:
                self.high = self.last - 1
        self.last = (self.low + self.high) // 2
        return f"Thought: the number is in {self.low}..{self.high}; I try the middle.\nAction: " + GUESS_ACTIONS.format(
            "guess", self.last
        )


def builtin_suite() -> TaskSuite:
    """40 fixed tasks; ranges grow so step budgets matter. Split 60/20/20."""
    rng = np.random.default_rng(1234)
    tasks = []
    for index in range(40):
        high = int(rng.choice([100, 500, 1000]))
        split = "train" if index < 24 else ("dev" if index < 32 else "test")
        tasks.append(
            Task(
                id=f"guess-{index:03d}",
                env="guess",
                goal=f"Find the secret number between 1 and {high}.",
                setup={"low": 1, "high": high, "secret": int(rng.integers(1, high + 1))},
                split=split,
                tags=[f"range-{high}"],
            )
        )
    return TaskSuite(name="guess", env="guess", description="Number guessing by bisection.", tasks=tasks,
                     reference_score=1.0)
