"""One episode of one agent in one env, recorded as a `Trajectory`.

This loop is shared by collection, evaluation and on-policy training so that all three see the
same episodes. It never lets an env or agent fault lose the run: a world that cannot be set up
is recorded as an `env_error` episode, an agent that raises (model load, generate, HTTP) as an
`agent_error` episode with the error in `metadata["error"]`, and a conversation that outgrows the
context ends as `context_limit`. Training passes `raise_agent_errors`, because a policy that
fails must stop the run rather than become empty episodes.

The agent is reseeded with the episode seed, so a sampled episode is reproducible. `on_step` sees
each recorded `Step` with the agent's full `AgentOutput` (exact chat messages, prompt token ids),
for in-process consumers such as on-policy training; the stored record keeps only the compact
`Step.context` from which `coachgym.trajectories.convert.step_messages` rebuilds those messages.

Once the episode has its verdict the agent hears it (`Agent.end_episode`), so a person playing on
a page sees the result.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from coachgym.agents.base import Agent, AgentOutput, ContextLimitExceeded, EpisodeEnd
from coachgym.envs.core import Outcome
from coachgym.trajectories.records import Step, Trajectory
from coachgym.trajectories.store import TrajectoryStore


def run_episode(
    env: gym.Env,
    agent: Agent,
    task_id: str,
    seed: int = 0,
    store: TrajectoryStore | None = None,
    on_step: Callable[[Step, AgentOutput], None] | None = None,
    raise_agent_errors: bool = False,
) -> Trajectory:
    """Play `task_id` to the end. Screenshots are written to `store` when one is given."""
    base: Any = env.unwrapped
    started = time.time()
    trajectory = Trajectory(task_id=task_id, env=base.name, agent=agent.name, model=agent.model, seed=seed,
                            started_at=started)
    try:
        observation, _ = env.reset(seed=seed, options={"task_id": task_id})
    except Exception as error:  # noqa: BLE001 - recorded, so the run goes on and the report shows it
        return _failed(trajectory, Outcome.ENV_ERROR, error, "reset failed: ")
    task = base.task
    trajectory.goal, trajectory.split = task.goal, task.split
    try:
        agent.reseed(seed)
        agent.start_episode(task, base.prompt_info())
    except Exception as error:  # noqa: BLE001 - the agent's fault, recorded as such
        if raise_agent_errors:
            raise
        return _failed(trajectory, Outcome.AGENT_ERROR, error, "start_episode failed: ")
    trajectory.system_prompt, trajectory.preamble = agent.system_prompt, list(agent.preamble)
    usage: dict[str, int] = {}
    while True:
        agent_started = time.perf_counter()
        try:
            output = agent.act(observation)
        except ContextLimitExceeded as error:
            trajectory.outcome = Outcome.CONTEXT_LIMIT
            trajectory.metadata["error"] = str(error)
            break
        except Exception as error:  # noqa: BLE001 - the agent's fault, recorded as such
            if raise_agent_errors:
                raise
            _failed(trajectory, Outcome.AGENT_ERROR, error)
            break
        agent_time = time.perf_counter() - agent_started
        for key, value in output.usage.items():
            usage[key] = usage.get(key, 0) + value
        image = None
        if store is not None and "screenshot" in observation:
            image = store.save_image(trajectory.id, len(trajectory.steps), observation["screenshot"])
        seen = output.prompt if output.prompt is not None else observation["text"]
        env_started = time.perf_counter()
        observation, reward, terminated, truncated, info = env.step(output.text)
        step = Step(
            index=len(trajectory.steps),
            observation=seen,
            image=image,
            action=output.text,
            token_ids=output.token_ids,
            logprobs=output.logprobs,
            context=output.context,
            reward=reward,
            action_error=info.get("action_error"),
            pointer=info.get("pointer"),
            env_time_s=time.perf_counter() - env_started,
            agent_time_s=agent_time,
        )
        trajectory.steps.append(step)
        if on_step is not None:
            on_step(step, output)
        trajectory.reward += reward
        if terminated or truncated:
            trajectory.final_observation = observation["text"]
            trajectory.outcome = Outcome(info["outcome"])
            trajectory.success = bool(info.get("success", False))
            trajectory.metadata["evaluation"] = info.get("evaluation", {}).get("detail", "")
            break
    trajectory.invalid_actions = base.invalid_actions
    trajectory.usage = usage
    trajectory.duration_s = time.time() - started
    end = EpisodeEnd(outcome=trajectory.outcome, success=trajectory.success, reward=trajectory.reward,
                     steps=len(trajectory.steps), final_text=trajectory.final_observation,
                     error=trajectory.metadata.get("error"))
    try:
        agent.end_episode(observation, end)
    except Exception as error:  # noqa: BLE001 - the verdict stands; the agent's fault is noted
        if raise_agent_errors:
            raise
        trajectory.metadata["end_episode_error"] = f"{type(error).__name__}: {error}"
    return trajectory


def _failed(trajectory: Trajectory, outcome: Outcome, error: Exception, context: str = "") -> Trajectory:
    """End `trajectory` as `outcome`, keeping the error's one-line text and its traceback."""
    trajectory.outcome = outcome
    trajectory.metadata["error"] = f"{context}{type(error).__name__}: {error}"
    trajectory.metadata["traceback"] = traceback.format_exc()
    trajectory.duration_s = time.time() - trajectory.started_at
    return trajectory
