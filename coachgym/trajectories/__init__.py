"""Trajectory records, the append-only store, conversion to training data, and collection."""

from coachgym.trajectories.convert import from_agentinstruct, to_agentinstruct, to_dataset, to_messages
from coachgym.trajectories.filters import TrajectoryFilter
from coachgym.trajectories.records import Step, Trajectory
from coachgym.trajectories.store import TrajectoryStore

__all__ = [
    "Step",
    "Trajectory",
    "TrajectoryFilter",
    "TrajectoryStore",
    "from_agentinstruct",
    "to_agentinstruct",
    "to_dataset",
    "to_messages",
]
