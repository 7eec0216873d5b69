"""Trajectories as chat training data.

The exchange format is AgentInstruct's `conversations` rows (ShareGPT style: `from` is `system`,
`human` or `gpt`, `loss` marks the turns to learn), which AgentTuning, FastChat and TRL
pipelines read. Conversion is lossless for every field that format carries, both ways:
leading system turns <-> `system_prompt`; each human/gpt pair <-> one `Step`; a trailing human
turn <-> `final_observation`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coachgym.trajectories.records import Step, Trajectory

if TYPE_CHECKING:
    from datasets import Dataset


def to_agentinstruct(trajectory: Trajectory) -> dict[str, Any]:
    turns: list[dict[str, Any]] = []
    if trajectory.system_prompt is not None:
        turns.append({"from": "system", "loss": False, "value": trajectory.system_prompt})
    for step in trajectory.steps:
        turns.append({"from": "human", "loss": False, "value": step.observation})
        turns.append({"from": "gpt", "loss": step.train, "value": step.action})
    if trajectory.final_observation is not None:
        turns.append({"from": "human", "loss": False, "value": trajectory.final_observation})
    return {"id": trajectory.id, "conversations": turns}


def from_agentinstruct(row: dict[str, Any], env: str = "unknown", agent: str = "dataset") -> Trajectory:
    """Read one AgentInstruct row. Rows must alternate human/gpt after optional system turns."""
    turns = list(row["conversations"])
    system = []
    while turns and turns[0]["from"] == "system":
        system.append(turns.pop(0)["value"])
    steps: list[Step] = []
    final = None
    index = 0
    while index < len(turns):
        human = turns[index]
        if human["from"] != "human":
            raise ValueError(f"Row {row.get('id')!r}: expected a human turn at position {index}, got {human['from']!r}.")
        if index + 1 == len(turns):
            final = human["value"]
            break
        gpt = turns[index + 1]
        if gpt["from"] != "gpt":
            raise ValueError(f"Row {row.get('id')!r}: expected a gpt turn at position {index + 1}, got {gpt['from']!r}.")
        steps.append(Step(index=len(steps), observation=human["value"], action=gpt["value"], train=bool(gpt.get("loss", True))))
        index += 2
    row_id = str(row.get("id", ""))
    return Trajectory(
        id=row_id or Trajectory.model_fields["id"].default_factory(),
        task_id=row_id,
        env=env,
        agent=agent,
        system_prompt="\n\n".join(system) if system else None,
        steps=steps,
        final_observation=final,
    )


def to_messages(trajectory: Trajectory) -> list[dict[str, str]]:
    """OpenAI/transformers chat messages (`role`/`content`) for the same conversation."""
    roles = {"system": "system", "human": "user", "gpt": "assistant"}
    return [{"role": roles[t["from"]], "content": t["value"]} for t in to_agentinstruct(trajectory)["conversations"]]


def to_dataset(trajectories: list[Trajectory]) -> Dataset:
    """A `datasets.Dataset` with AgentInstruct `conversations`, chat `messages` and metadata columns."""
    from datasets import Dataset  # imported here: it costs seconds, and rollout workers never need it

    rows = []
    for trajectory in trajectories:
        row = to_agentinstruct(trajectory)
        rows.append(
            {
                **row,
                "messages": to_messages(trajectory),
                "task_id": trajectory.task_id,
                "env": trajectory.env,
                "agent": trajectory.agent,
                "reward": trajectory.reward,
                "success": trajectory.success,
                "outcome": trajectory.outcome.value,
                "num_steps": len(trajectory.steps),
                "images": [s.image for s in trajectory.steps],
            }
        )
    return Dataset.from_list(rows)
