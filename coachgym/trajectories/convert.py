"""Trajectories as chat training data.

The exchange format is AgentInstruct's `conversations` rows (ShareGPT style: `from` is `system`,
`human` or `gpt`, `loss` marks the turns to learn), which AgentTuning, FastChat and TRL
pipelines read. Conversion is lossless for every field that format carries, both ways:
leading system turns <-> `system_prompt`; each human/gpt pair <-> one `Step`; a trailing human
turn <-> `final_observation`. A trajectory's `preamble` turns are exported (untrained) after the
system turns; the format cannot mark them, so they read back as untrained steps. `to_dataset` makes the Hugging Face dataset TRL's `SFTTrainer`
reads as is, multimodal when the steps have screenshots.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from coachgym.agents.history import Messages, render
from coachgym.trajectories.records import Step, Trajectory

if TYPE_CHECKING:
    from datasets import Dataset

ROLES = {"system": "system", "human": "user", "gpt": "assistant"}
SPEAKERS = {role: speaker for speaker, role in ROLES.items()}


class Turn(NamedTuple):
    speaker: str  # AgentInstruct `from`: system, human or gpt
    text: str
    loss: bool
    image: str | None  # screenshot shown with this turn, relative to the store folder


def turns(trajectory: Trajectory) -> Iterator[Turn]:
    """The conversation turn by turn; every export format derives from this one ordering."""
    if trajectory.system_prompt is not None:
        yield Turn("system", trajectory.system_prompt, False, None)
    for message in trajectory.preamble:
        yield Turn(SPEAKERS[message["role"]], message["content"], False, None)
    for step in trajectory.steps:
        yield Turn("human", step.observation, False, step.image)
        yield Turn("gpt", step.action, step.train, None)
    if trajectory.final_observation is not None:
        yield Turn("human", trajectory.final_observation, False, None)


def to_agentinstruct(trajectory: Trajectory) -> dict[str, Any]:
    conversations = [{"from": t.speaker, "loss": t.loss, "value": t.text} for t in turns(trajectory)]
    return {"id": trajectory.id, "conversations": conversations}


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


def to_messages(trajectory: Trajectory, image_parts: bool = False) -> list[dict[str, Any]]:
    """OpenAI/transformers chat messages (`role`/`content`) for the same conversation.

    With `image_parts`, every content is a list of parts (the multimodal chat form) and a turn
    shown with a screenshot starts with an `{"type": "image"}` part, so parts and images line up.
    """
    if not image_parts:
        return [{"role": ROLES[t.speaker], "content": t.text} for t in turns(trajectory)]
    return [
        {
            "role": ROLES[t.speaker],
            "content": [{"type": "image"}] * (t.image is not None) + [{"type": "text", "text": t.text}],
        }
        for t in turns(trajectory)
    ]


def step_messages(trajectory: Trajectory, index: int) -> Messages:
    """The exact chat messages the agent was given before acting at step `index`."""
    steps = trajectory.steps[: index + 1]
    return render(
        trajectory.system_prompt,
        [s.observation for s in steps],
        [s.action for s in steps[:-1]],
        steps[-1].context,
        steps[-1].image is not None,
        trajectory.preamble,
    )


def _image_bytes(relative: str, image_root: Path | None) -> dict[str, Any]:
    if image_root is None:
        raise ValueError(f"Trajectories have screenshots ({relative}, ...); pass image_root=<the store folder>.")
    path = image_root / relative
    if not path.is_file():
        raise FileNotFoundError(
            f"Screenshot {path} is missing; export from the store folder the episodes were collected into."
        )
    return {"bytes": path.read_bytes(), "path": relative}


def to_dataset(trajectories: list[Trajectory], image_root: str | Path | None = None) -> Dataset:
    """A `datasets.Dataset` TRL's `SFTTrainer` trains on as is: chat `messages`, AgentInstruct
    `conversations` (with the per-turn `loss` flags) and metadata columns.

    When any step has a screenshot, the dataset takes TRL's multimodal form: an `images` column of
    `datasets.Image` (the PNG bytes, so the dataset stands alone) and `messages` whose image parts
    match those images in order. Text-only trajectories get plain string contents and no `images`
    column, since SFTTrainer treats any dataset with one as a vision dataset. `image_root` is the
    store folder that step image paths are relative to.
    """
    from datasets import Dataset, Image, List  # imported here: it costs seconds, and rollout workers never need it

    root = Path(image_root) if image_root is not None else None
    multimodal = any(step.image is not None for trajectory in trajectories for step in trajectory.steps)
    rows = []
    for trajectory in trajectories:
        row = {
            **to_agentinstruct(trajectory),
            "messages": to_messages(trajectory, image_parts=multimodal),
            "task_id": trajectory.task_id,
            "env": trajectory.env,
            "agent": trajectory.agent,
            "reward": trajectory.reward,
            "success": trajectory.success,
            "outcome": trajectory.outcome.value,
            "num_steps": len(trajectory.steps),
        }
        if multimodal:
            row["images"] = [_image_bytes(s.image, root) for s in trajectory.steps if s.image is not None]
        rows.append(row)
    dataset = Dataset.from_list(rows)
    return dataset.cast_column("images", List(Image())) if multimodal else dataset
