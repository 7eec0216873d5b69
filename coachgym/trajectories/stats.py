"""Per-(env, agent) summaries of a trajectory set, for `coachgym traj stats`."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from pydantic import BaseModel

from coachgym.trajectories.records import Trajectory


class GroupStats(BaseModel):
    env: str
    agent: str
    episodes: int
    success_rate: float
    avg_reward: float
    avg_steps: float
    invalid_actions: int
    outcomes: dict[str, int]


def summarize(trajectories: Iterable[Trajectory]) -> list[GroupStats]:
    groups: dict[tuple[str, str], list[Trajectory]] = defaultdict(list)
    for trajectory in trajectories:
        groups[(trajectory.env, trajectory.agent)].append(trajectory)
    rows = []
    for (env, agent), items in sorted(groups.items()):
        count = len(items)
        rows.append(
            GroupStats(
                env=env,
                agent=agent,
                episodes=count,
                success_rate=sum(t.success for t in items) / count,
                avg_reward=sum(t.reward for t in items) / count,
                avg_steps=sum(len(t.steps) for t in items) / count,
                invalid_actions=sum(t.invalid_actions for t in items),
                outcomes=dict(Counter(t.outcome.value for t in items)),
            )
        )
    return rows
