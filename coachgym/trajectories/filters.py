"""Selecting trajectories for training or analysis."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pydantic import BaseModel

from coachgym.trajectories.records import Trajectory


class TrajectoryFilter(BaseModel):
    """All set conditions must hold. Unset fields do not filter."""

    success: bool | None = None
    min_reward: float | None = None
    envs: list[str] | None = None
    splits: list[str] | None = None
    min_steps: int | None = None
    max_steps: int | None = None
    agents: list[str] | None = None

    def accepts(self, t: Trajectory) -> bool:
        return (
            (self.success is None or t.success == self.success)
            and (self.min_reward is None or t.reward >= self.min_reward)
            and (self.envs is None or t.env in self.envs)
            and (self.splits is None or t.split in self.splits)
            and (self.min_steps is None or len(t.steps) >= self.min_steps)
            and (self.max_steps is None or len(t.steps) <= self.max_steps)
            and (self.agents is None or t.agent in self.agents)
        )

    def apply(self, trajectories: Iterable[Trajectory]) -> Iterator[Trajectory]:
        return (t for t in trajectories if self.accepts(t))
