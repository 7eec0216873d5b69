"""The guess env's optional screen: off by default, on by kwarg or by the suite, and informative."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from coachgym.envs.registry import make
from coachgym.training.tasks import small_guess_suite
from coachgym.trajectories.collect import CollectConfig, collect
from coachgym.trajectories.store import TrajectoryStore

SHADED = (90, 90, 90)


def shaded_cells(shot: np.ndarray, cells: int, cell: int) -> int:
    """How many cells of the first row are shaded (read at each cell's centre)."""
    return sum(tuple(shot[cell // 2, i * cell + cell // 2]) == SHADED for i in range(cells))


def test_guess_is_text_only_by_default():
    env = make("guess", suite=small_guess_suite())
    observation, _ = env.reset(options={"task_id": "small-guess-8-3"})
    assert "screenshot" not in observation and "screenshot" not in env.observation_space.spaces


def test_guess_screen_shows_the_eliminated_range_and_is_deterministic():
    env = make("guess", suite=small_guess_suite(), screen=64)
    assert env.observation_space["screenshot"].shape == (64, 64, 3)
    first, _ = env.reset(options={"task_id": "small-guess-8-3"})
    assert first["screenshot"].shape == (64, 64, 3) and shaded_cells(first["screenshot"], 8, 8) == 0
    after, *_ = env.step("Action: guess(5)")  # lower: 5..8 eliminated, 5 drawn as the last guess
    shot = after["screenshot"]
    assert shaded_cells(shot, 8, 8) == 3 and tuple(shot[4, 4 * 8 + 4]) == (220, 40, 40)
    after, *_ = env.step("Action: guess(2)")  # higher: 1..2 eliminated too
    assert shaded_cells(after["screenshot"], 8, 8) == 5
    again = make("guess", suite=small_guess_suite(), screen=64)
    again.reset(options={"task_id": "small-guess-8-3"})
    again.step("Action: guess(5)")
    replay, *_ = again.step("Action: guess(2)")
    assert np.array_equal(replay["screenshot"], after["screenshot"])


def test_guess_screen_comes_from_the_suite_through_collection(tmp_path):
    suite_path = tmp_path / "suite.json"
    small_guess_suite(screen=48).save(suite_path)
    collect(CollectConfig(env="guess", suite=str(suite_path), agent="scripted", out=tmp_path / "demos",
                          tasks=["small-guess-8-6"]), progress=False)
    store = TrajectoryStore(tmp_path / "demos")
    (trajectory,), _ = store.load()
    assert trajectory.success and all(step.image for step in trajectory.steps)
    assert Image.open(store.folder / trajectory.steps[-1].image).size == (48, 48)


def test_guess_suite_with_mixed_screens_is_refused():
    suite = small_guess_suite(screen=48)
    tasks = suite.tasks[:1] + [t.model_copy(update={"setup": {**t.setup, "screen": 32}}) for t in suite.tasks[1:]]
    with pytest.raises(ValueError, match="mixes screen sizes"):
        make("guess", suite=suite.model_copy(update={"tasks": tasks}))
