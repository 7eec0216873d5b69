"""Same seed + same actions -> identical screenshots and state; the seed only moves pixels."""

from __future__ import annotations

import numpy as np

from coachgym.envs.phone import PhoneEnv
from coachgym.envs.phone.expert import PhoneExpert


def _episode(task_id: str, seed: int, actions: list[str] | None = None):
    env = PhoneEnv(task=task_id)
    obs, _ = env.reset(seed=seed)
    shots, snaps, taken = [obs["screenshot"]], [env.device.snapshot()], []
    expert = PhoneExpert(env.task, mode="mixed")
    for i in range(40):
        action = actions[i] if actions is not None else expert.act(obs)
        taken.append(action)
        obs, _, terminated, truncated, _ = env.step(action)
        shots.append(obs["screenshot"])
        snaps.append(env.device.snapshot())
        if terminated or truncated or (actions is not None and i + 1 == len(actions)):
            break
    return shots, snaps, taken


def test_same_seed_and_actions_give_identical_screens_and_state():
    for task_id in ["phone-shop-filter-wallets", "phone-messages-reply-alice"]:
        shots_a, snaps_a, actions = _episode(task_id, seed=11)
        shots_b, snaps_b, _ = _episode(task_id, seed=11, actions=actions)
        assert len(shots_a) == len(shots_b) > 5
        assert all(np.array_equal(a, b) for a, b in zip(shots_a, shots_b))
        assert snaps_a == snaps_b


def test_different_seeds_change_the_launcher_but_not_the_world():
    env_a, env_b = PhoneEnv(task="phone-settings-wifi-off"), PhoneEnv(task="phone-settings-wifi-off")
    shot_a, _ = env_a.reset(seed=1)
    shot_b, _ = env_b.reset(seed=2)
    assert env_a.device.state.launcher != env_b.device.state.launcher
    assert not np.array_equal(shot_a["screenshot"], shot_b["screenshot"])
    strip = lambda env: env.device.state.model_dump(exclude={"launcher"})  # noqa: E731
    assert strip(env_a) == strip(env_b)
