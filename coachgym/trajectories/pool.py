"""Play episodes on worker processes, each with its own env and agent, under a per-episode time limit.

The pool is pebble's `ProcessPool`: it runs each episode as a task in a worker process, and when an
episode overruns its limit it kills that worker (the only way to stop a hung browser or model call)
and starts a fresh one; a worker that dies mid-episode fails only that episode. Each worker builds
its `Player` once from a picklable factory (the agent and envs outlive episodes; Playwright's
sync API and many model runtimes are not thread-safe, hence processes), and closes it when the
pool shuts it down. A player that cannot be built fails the run with its error, since no episode
could be played. The time limit counts from the moment a worker takes the episode, so loading
the agent does not eat into the first episode's budget.

Used by collection (`collect`) and benchmark runs (`coachgym.benchmarks.workers`); this module
must not write the store (the parent does, one line per finished episode).
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.util
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any, NamedTuple, Protocol, TypeVar

from pebble import ProcessExpired, ProcessPool

from coachgym.envs.cleanup import at_exit, run_pending
from coachgym.envs.core import Outcome
from coachgym.trajectories.records import Trajectory

EpisodeKey = TypeVar("EpisodeKey", bound=tuple)


class Player(Protocol):
    """What a worker runs: `play(*episode)` one episode after another, then `close()` once."""

    def play(self, *episode: Any) -> Trajectory: ...

    def close(self) -> None: ...


class EpisodeFailure(NamedTuple):
    """An episode that produced no trajectory of its own: it overran its limit, or its worker died."""

    outcome: Outcome
    error: str


def failed_trajectory(task_id: str, seed: int, env: str, agent: str, failure: EpisodeFailure) -> Trajectory:
    """The record of an episode that produced no trajectory of its own."""
    return Trajectory(task_id=task_id, env=env, agent=agent, seed=seed, outcome=failure.outcome,
                      started_at=time.time(), metadata={"error": failure.error})


def play_on_processes(
    factory: Callable[[], Player],
    episodes: Sequence[EpisodeKey],
    workers: int,
    timeout_s: float | None = None,
) -> Iterator[tuple[EpisodeKey, Trajectory | EpisodeFailure]]:
    """Play `episodes` on up to `workers` processes; yield (episode, result) as each finishes.

    Every episode yields exactly once: its trajectory, or an `EpisodeFailure` (`task_limit_reached`
    after `timeout_s`, `env_error` when its worker died). The error a player factory raised is
    raised here.
    """
    if not episodes:
        return
    pool = ProcessPool(max_workers=min(workers, len(episodes)), context=mp.get_context("spawn"),
                       initializer=_start_player, initargs=(factory, os.getpid()))
    futures = {pool.schedule(_play, args=episode, timeout=timeout_s): episode for episode in episodes}
    try:
        for future in as_completed(futures):
            try:
                result: Trajectory | EpisodeFailure = future.result()
            except TimeoutError:
                result = EpisodeFailure(Outcome.TASK_LIMIT_REACHED, f"timed out after {timeout_s:g} s (per-task limit)")
            except ProcessExpired as error:
                result = EpisodeFailure(Outcome.ENV_ERROR, f"the worker process died during the episode "
                                                           f"(exit code {error.exitcode})")
            except BrokenProcessPool as error:
                raise RuntimeError(f"Every worker process died outside an episode ({error}), e.g. while "
                                   "building its agent or env; see their output above.") from error
            yield futures[future], result
    finally:  # every episode is done, or the caller stopped early: end the workers (closing their players)
        pool.stop()
        pool.join()


# Set in each worker process by `_start_player`.
_player: Player | None = None
_start_error: BaseException | None = None


def _start_player(factory: Callable[[], Player], parent_pid: int) -> None:
    """Worker initializer: build the player, keeping the error to raise from the first episode
    (pebble would otherwise only log it and restart the worker forever)."""
    global _player, _start_error
    _exit_with_parent(parent_pid)
    try:
        _player = factory()
    except Exception as error:  # noqa: BLE001 - re-raised in the parent through the episode's future
        _start_error = error
        return
    # The player closes its envs before the cleanups those envs registered (a throwaway server they
    # talk to) run: when the pool ends this worker by SIGTERM (pebble's stop) or normally (Finalize,
    # since multiprocessing children skip atexit); never on SIGKILL.
    at_exit(_player.close, priority=1)
    multiprocessing.util.Finalize(None, run_pending, exitpriority=10)


def _play(*episode: Any) -> Trajectory:
    if _player is None:
        raise _start_error or RuntimeError("the worker's player was not built")
    return _player.play(*episode)


def _exit_with_parent(parent_pid: int) -> None:
    """Workers must not outlive a SIGKILLed parent: they would keep playing and writing images."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()
