"""The worker pool ends each worker's player before the cleanups of what the player started.

A worker's envs start resources on first use (DBBench's throwaway MariaDB registers its stop with
`coachgym.envs.cleanup`). When the pool stops a worker with SIGTERM, the player must close its
envs while those resources still exist, and the resources must still go away afterwards.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from functools import partial
from pathlib import Path

from coachgym.envs.cleanup import at_exit
from coachgym.trajectories.pool import play_on_processes


class LoggingPlayer:
    """Starts a 'resource' on its first episode, as an env starts its server, and logs the order of ends."""

    def __init__(self, log: Path):
        self.log = log
        self.resource_alive = False

    def play(self, task_id: str, seed: int) -> str:
        if not self.resource_alive:
            self.resource_alive = True
            at_exit(self._stop_resource)
        return f"{task_id}/{seed}"

    def _stop_resource(self) -> None:
        self.resource_alive = False
        self._write("resource stopped")

    def close(self) -> None:
        self._write(f"player closed, resource alive: {self.resource_alive}")

    def _write(self, line: str) -> None:
        with self.log.open("a") as file:
            file.write(line + "\n")


def test_a_stopped_worker_closes_its_player_before_the_resources_its_envs_started(tmp_path):
    log = tmp_path / "ends.log"
    results = list(play_on_processes(partial(LoggingPlayer, log), [("task", 0), ("task", 1)], workers=1))
    assert sorted(result for _, result in results) == ["task/0", "task/1"]
    assert log.read_text().splitlines() == ["player closed, resource alive: True", "resource stopped"]


def test_a_signal_during_a_cleanup_waits_for_it_then_runs_the_rest_and_still_ends_the_process(tmp_path):
    """pebble's stop sends SIGTERM whenever it likes, e.g. while a worker's player is closing."""
    log = tmp_path / "ends.log"
    script = f"""
import os, signal
from coachgym.envs.cleanup import at_exit

def write(line):
    with open({str(log)!r}, "a") as file:
        file.write(line + "\\n")

def close_player():
    os.kill(os.getpid(), signal.SIGTERM)  # arrives halfway through this cleanup
    write("player closed")

at_exit(lambda: write("server stopped"))
at_exit(close_player, priority=1)()
write("not reached: the signal still ends the process")
"""
    child = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert child.returncode == -signal.SIGTERM
    assert log.read_text().splitlines() == ["player closed", "server stopped"]
