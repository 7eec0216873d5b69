"""A number-guessing env: the smallest complete `AgentEnv`.

It has no system dependencies, so it is what the core's tests, the CLI's smoke tests and the
docs use to show the contract: a vocabulary declared as data, state-based evaluation, a scripted
expert that reads only observations, and a random baseline that almost never wins.

With `screen=N` (or tasks whose setup sets `screen`, so a suite file alone turns it on for
collection, evaluation and training alike) every observation also carries an N x N screenshot of
the game: the range as a row of cells with the eliminated ones shaded and the last guess marked,
plus the feedback in text. It is the smallest env a VLM agent can be trained on in CPU minutes.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

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

    def __init__(self, *args: Any, screen: int | None = None, **kwargs: Any):
        """`screen=N` adds an N x N screenshot of the numbers still possible (`render_screen`) to
        every observation; None takes the suite's `setup["screen"]` (default: text only)."""
        super().__init__(*args, **kwargs)
        size = screen if screen is not None else suite_screen(self.suite)
        if size:
            self.screenshot_shape = (size, size)
            self.observation_space = self._observation_space()

    def _setup(self, task: Task, seed: int) -> str:
        self.low, self.high = int(task.setup["low"]), int(task.setup["high"])
        self.secret = int(task.setup["secret"])
        self.found = False
        self.possible = (self.low, self.high)
        self.last: tuple[int, str] | None = None
        return f"I am thinking of a number between {self.low} and {self.high}. Make your first guess."

    def _execute(self, action: ParsedAction) -> StepResult:
        if action.name == "give_up":
            return StepResult(text=f"You gave up. The number was {self.secret}.", done=True)
        number = action.args["number"]
        if not self.low <= number <= self.high:
            raise ActionError(f"{number} is outside the range {self.low}..{self.high}.")
        if number == self.secret:
            self.found = True
            self.last, self.possible = (number, "correct"), (number, number)
            return StepResult(text=f"Correct! The number is {number}.", done=True)
        direction = "higher" if self.secret > number else "lower"
        low, high = self.possible
        self.possible = (max(low, number + 1), high) if direction == "higher" else (low, min(high, number - 1))
        self.last = (number, direction)
        return StepResult(text=f"{number} is wrong; the number is {direction}. Range: {self.low}..{self.high}.")

    def _evaluate(self) -> Evaluation:
        return Evaluation(reward=float(self.found), success=self.found, detail=f"secret={self.secret}")

    def _screenshot(self) -> np.ndarray | None:
        return render_screen(self.screenshot_shape[0], (self.low, self.high), self.possible, self.last)


def suite_screen(suite: TaskSuite) -> int | None:
    """The screen size the suite's tasks ask for (`setup["screen"]`); one env has one observation
    space, so tasks that disagree are refused."""
    sizes = {task.setup.get("screen") for task in suite.tasks}
    if len(sizes) > 1:
        raise ValueError(f"Suite {suite.name!r} mixes screen sizes {sorted(sizes, key=str)}; give every task the "
                         "same setup['screen'] (or none), or pass screen= to the env.")
    return sizes.pop()


def render_screen(size: int, bounds: tuple[int, int], possible: tuple[int, int],
                  last: tuple[int, str] | None) -> np.ndarray:
    """A `size` x `size` picture of the game: one cell per number of `bounds` (eliminated ones
    shaded, the last guess in red, or green when it was right) above the feedback in text."""
    from coachgym.envs.phone.render import font

    image = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    low, high = bounds
    count = high - low + 1
    columns = min(count, 8)
    rows = -(-count // columns)
    cell = size // columns
    for index in range(count):
        number = low + index
        box = (index % columns * cell, index // columns * cell, (index % columns + 1) * cell - 1,
               (index // columns + 1) * cell - 1)
        fill = (255, 255, 255) if possible[0] <= number <= possible[1] else (90, 90, 90)
        if last is not None and number == last[0]:
            fill = (40, 170, 60) if last[1] == "correct" else (220, 40, 40)
        draw.rectangle(box, fill=fill, outline=(0, 0, 0))
    face = font(max(6, size // 8))
    lines = ["first guess" if last is None else f"{last[0]}: {last[1]}", f"left {possible[0]}..{possible[1]}"]
    top = rows * cell + 2
    for line in lines:
        draw.text((2, top), line, fill=(0, 0, 0), font=face)
        top += size // 8 + 2
    return np.asarray(image, dtype=np.uint8)


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
