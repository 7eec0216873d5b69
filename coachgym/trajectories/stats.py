"""Per-(env, agent) summaries of a trajectory set, for `coachgym traj stats`, and the one-line
account of failed episodes that `collect`, `eval` and their reports print."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from coachgym.envs.core import Outcome
from coachgym.errors import UserError
from coachgym.trajectories.records import Trajectory

# Outcomes that mean the episode says nothing about the agent's skill: something broke.
ERROR_OUTCOMES = (Outcome.AGENT_ERROR, Outcome.ENV_ERROR)
# Above this share of errored episodes a run measures the breakage, and its command fails.
MAX_ERROR_SHARE = 0.1


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


def error_lines(episodes: Sequence[tuple[Outcome, str | None]], agent: str) -> list[str]:
    """For each error outcome among `episodes` ((outcome, error text) pairs), one line such as
    "agent_error in 36/36 episodes of hf:ckpt: AttributeError: ...", naming its commonest error."""
    lines = []
    for outcome in ERROR_OUTCOMES:
        errors = [error for kind, error in episodes if kind is outcome]
        if errors:
            common = Counter(" ".join((e or "no error text recorded").split()) for e in errors).most_common(1)[0][0]
            lines.append(f"{outcome.value} in {len(errors)}/{len(episodes)} episodes of {agent}: {common}")
    return lines


def check_error_share(errors: int, episodes: int, what: str, rerun: str) -> None:
    """Raise `UserError` when more than `MAX_ERROR_SHARE` of `what`'s episodes ended in an error;
    `rerun` tells how to play them again."""
    if errors > MAX_ERROR_SHARE * episodes:
        raise UserError(f"{errors} of {episodes} episodes of {what} ended in agent_error or env_error (more than "
                        f"{MAX_ERROR_SHARE:.0%}; see the problems above), so its numbers measure the failure, not the "
                        f"agent. Fix the cause, then {rerun}.")
