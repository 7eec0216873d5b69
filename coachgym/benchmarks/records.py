"""The records a benchmark run keeps per component and per episode, which metrics and reports read.

`EpisodeResult` is derived from a stored trajectory, so a run's results can always be rebuilt
from its stores. This module must not run episodes or compute metrics.
"""

from __future__ import annotations

from pydantic import BaseModel

from coachgym.envs.core import Outcome
from coachgym.trajectories.records import Trajectory


class ComponentStatus(BaseModel):
    name: str
    suite: str
    env: str | None
    split: str
    tasks: int
    reference: float | None
    unavailable: str | None = None


class EpisodeResult(BaseModel):
    """What the metrics and reports need from one episode; the trajectory has everything else."""

    component: str
    env: str
    task_id: str
    seed: int
    agent: str
    success: bool
    reward: float
    outcome: Outcome
    steps: int
    invalid_actions: int
    tokens: int
    wall_time_s: float
    trajectory_id: str
    error: str | None = None

    @classmethod
    def from_trajectory(cls, component: str, trajectory: Trajectory) -> EpisodeResult:
        usage = trajectory.usage
        tokens = usage.get("total_tokens", usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0))
        if not tokens:
            tokens = sum(len(step.token_ids or ()) for step in trajectory.steps)
        return cls(component=component, env=trajectory.env, task_id=trajectory.task_id, seed=trajectory.seed,
                   agent=trajectory.agent, success=trajectory.success, reward=trajectory.reward,
                   outcome=trajectory.outcome, steps=len(trajectory.steps), invalid_actions=trajectory.invalid_actions,
                   tokens=tokens, wall_time_s=trajectory.duration_s, trajectory_id=trajectory.id,
                   error=trajectory.metadata.get("error"))

    def verdict(self) -> tuple:
        """The fields a rerun with the same seeds must reproduce (not timings or record ids)."""
        return (self.component, self.task_id, self.seed, self.success, self.reward, self.outcome, self.steps,
                self.invalid_actions, self.tokens)
