"""A task suite a tiny model can learn on CPU in minutes, on a real built-in env.

The built-in guess suite spans ranges up to 1000, which a 0.1M-parameter model cannot learn to
bisect in CPU minutes. The same env with small ranges keeps everything real (the env parses the
model's text and judges success from its own state) while the expert's policy becomes a short,
learnable decision tree conditioned on the env's feedback, so "training raises success" can be
shown with numbers. This module only builds suites; it must not define envs.
"""

from __future__ import annotations

from coachgym.envs.core import Task, TaskSuite


def small_guess_suite(highs: tuple[int, ...] = (8,), max_steps: int = 5, screen: int | None = None) -> TaskSuite:
    """Every secret of every range [1, high]. `max_steps` leaves one spare step over bisection;
    `screen` gives every observation a screenshot of that many pixels square (for VLM agents)."""
    extra = {"screen": screen} if screen else {}
    tasks = [
        Task(id=f"small-guess-{high}-{secret}", env="guess", goal=f"Find the secret number between 1 and {high}.",
             setup={"low": 1, "high": high, "secret": secret} | extra, max_steps=max_steps, tags=[f"range-{high}"])
        for high in highs
        for secret in range(1, high + 1)
    ]
    return TaskSuite(name="small-guess", env="guess", description="Guess with small ranges: learnable by tiny LMs.",
                     tasks=tasks, reference_score=1.0)
