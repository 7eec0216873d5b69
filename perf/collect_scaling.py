"""Collection throughput with 1 vs 2 worker processes (goal: >= 1.7x on 2 cores).

Runs the same collection (scripted expert, the env's train tasks x seeds) with 1 and 2 workers,
alternating, several rounds, each into a fresh store, and prints the median episodes/s of each
and their ratio. Two rates are reported: `steady` counts episodes finished per second between
the first and the last finished episode (what a long collection run sees; worker start-up
excluded), `wall` divides by the whole `collect()` call (start-up included, which dominates
short runs). Other processes on the machine make numbers noisy; compare rounds, not runs.

    python perf/collect_scaling.py --env shell --episodes 120 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from coachgym.envs.registry import load_suite
from coachgym.trajectories.collect import CollectConfig, collect
from coachgym.trajectories.store import TrajectoryStore


def plan(env: str, episodes: int) -> tuple[list[str], list[int]]:
    tasks = [t.id for t in load_suite(env).tasks if t.split == "train"]
    seeds = list(range(-(-episodes // len(tasks))))
    return tasks, seeds


def measure(env: str, agent: str, workers: int, tasks: list[str], seeds: list[int]) -> tuple[float, float]:
    """(steady episodes/s, wall episodes/s) for one collection run."""
    with tempfile.TemporaryDirectory() as folder:
        config = CollectConfig(env=env, agent=agent, out=Path(folder), tasks=tasks, seeds=seeds, workers=workers)
        started = time.time()
        collect(config, progress=False)
        wall = time.time() - started
        finished = sorted(t.started_at + t.duration_s for t in TrajectoryStore(folder).read())
    count = len(finished)
    if count != len(tasks) * len(seeds):
        raise RuntimeError(f"expected {len(tasks) * len(seeds)} episodes, stored {count}")
    steady = (count - 1) / (finished[-1] - finished[0])
    return steady, count / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="shell")
    parser.add_argument("--agent", default="scripted")
    parser.add_argument("--episodes", type=int, default=120, help="At least this many episodes per run.")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tasks, seeds = plan(args.env, args.episodes)
    results: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    for round_index in range(args.rounds):
        for workers in (1, 2):
            steady, wall = measure(args.env, args.agent, workers, tasks, seeds)
            results[workers].append((steady, wall))
            print(f"round {round_index}: {workers} worker(s): steady {steady:.2f} ep/s, wall {wall:.2f} ep/s", flush=True)
    one = [statistics.median(r[i] for r in results[1]) for i in (0, 1)]
    two = [statistics.median(r[i] for r in results[2]) for i in (0, 1)]
    episodes = len(tasks) * len(seeds)
    print(f"\n{args.env}, {args.agent}, {episodes} episodes per run, median of {args.rounds} rounds")
    print(f"steady: 1 worker {one[0]:.2f} ep/s, 2 workers {two[0]:.2f} ep/s, ratio {two[0] / one[0]:.2f}x (goal >= 1.7x)")
    print(f"wall:   1 worker {one[1]:.2f} ep/s, 2 workers {two[1]:.2f} ep/s, ratio {two[1] / one[1]:.2f}x")


if __name__ == "__main__":
    main()
