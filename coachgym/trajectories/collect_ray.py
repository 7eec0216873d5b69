"""The collection workers as Ray actors (the `coachgym[ray]` extra), for clusters.

Each actor runs the same player a local worker process runs (for collection, `collect.EpisodeWorker`:
one env and one agent that play the episodes they are given), built from the same factory. The
driver hands one episode to each idle actor and yields trajectories as they finish, so the store,
resume and progress bar behave exactly as with processes. Screenshots are written by the actors
into the store folder, which must therefore be on storage every node can reach. This module must
not configure a cluster: it uses the Ray runtime already initialised, or starts a local one with
`workers` CPUs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from coachgym.trajectories.pool import Player
from coachgym.trajectories.records import Trajectory


class _Actor:
    """Holds one player in a Ray actor process (Ray builds actors from a class and its arguments)."""

    def __init__(self, factory: Callable[[], Player]):
        self.player = factory()

    def play(self, *episode: object) -> Trajectory:
        return self.player.play(*episode)

    def close(self) -> None:
        self.player.close()


def play_on_ray(factory: Callable[[], Player], episodes: Sequence[tuple], workers: int) -> Iterator[Trajectory]:
    try:
        import ray
    except ImportError:
        raise RuntimeError("backend='ray' needs Ray: pip install 'coachgym[ray]'.") from None
    if not ray.is_initialized():
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    actor_class = ray.remote(num_cpus=1)(_Actor)
    actors = [actor_class.remote(factory) for _ in range(min(workers, len(episodes)))]
    pending = list(episodes)
    running = {actor.play.remote(*pending.pop(0)): actor for actor in actors}
    try:
        while running:
            done, _ = ray.wait(list(running), num_returns=1)
            actor = running.pop(done[0])
            yield ray.get(done[0])
            if pending:
                running[actor.play.remote(*pending.pop(0))] = actor
    finally:
        closing = [actor.close.remote() for actor in actors]
        ray.wait(closing, num_returns=len(closing), timeout=30)
        for actor in actors:
            ray.kill(actor)
