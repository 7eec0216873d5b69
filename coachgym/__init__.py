"""coachgym: environments, trajectories, training and benchmarks for GUI and tool-using agents."""

from coachgym.envs.registry import register_all

__version__ = "0.1.0"

register_all()
