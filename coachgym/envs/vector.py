"""Vectorised coachgym envs.

LLM steps are expensive, so a vector env must never spend a step on a reset: we use Gymnasium's
`SAME_STEP` autoreset mode, where an env that finishes is reset inside the same `step` call; the
finished episode's last observation and info arrive in `info["final_obs"]` / `info["final_info"]`
and the returned observation is already the next episode's first one.
"""

from __future__ import annotations

from typing import Any, Literal

import gymnasium as gym
from gymnasium.vector import AutoresetMode

from coachgym.envs.registry import ENVS


def make_vec(
    name: str, num_envs: int, mode: Literal["sync", "async"] = "async", **env_kwargs: Any
) -> gym.vector.VectorEnv:
    """`num_envs` copies of env `name` (short name or gym id); async runs each in its own process."""
    gym_id = ENVS[name].gym_id if name in ENVS else name
    return gym.make_vec(gym_id, num_envs=num_envs, vectorization_mode=mode,
                        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}, **env_kwargs)
