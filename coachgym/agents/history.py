"""Chat history of one episode, fitted to a context budget, so it can be rebuilt exactly from a trajectory.

A long episode outgrows any context window. The policy here is deliberately simple and fully
determined by what a trajectory stores, so training can rebuild the exact chat a model saw at
any step (`coachgym.trajectories.convert.step_messages`) without re-tokenizing sampled text:

- the system prompt, the prompt builder's fixed turns (`preamble`), the first user turn (it
  holds the task) and the newest observation are always kept; every assistant turn (the model's own output) is kept;
- when the chat does not fit, the oldest other observations are replaced by `ELIDED` one by one;
- only the newest observation carries its screenshot (older images are dropped);
- if it still does not fit, `ContextLimitExceeded` ends the episode as `context_limit`.

Images appear as `{"type": "image", "step": j}` parts, j indexing the trajectory's steps (whose
`image` field names the file). This module must not know about models or tokenizers: token
counting is a callable passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coachgym.agents.base import ContextLimitExceeded

ELIDED = "[earlier observation elided to fit the context window]"
Messages = list[dict[str, Any]]


def user_message(text: str, image_step: int | None) -> dict[str, Any]:
    """A user turn; with an image it is the multimodal list form that chat templates accept."""
    if image_step is None:
        return {"role": "user", "content": text}
    return {"role": "user", "content": [{"type": "image", "step": image_step}, {"type": "text", "text": text}]}


def render(system: str | None, observations: list[str], actions: list[str], context: list[int] | None,
           image: bool, preamble: Messages = ()) -> Messages:
    """Messages for the step after `actions`: observations[j] is elided unless j is in `context`.
    `preamble` holds fixed turns (an instruction and its answer, one-shot examples) that follow the
    system prompt and are never elided."""
    messages: Messages = [{"role": "system", "content": system}] if system is not None else []
    messages += preamble
    last = len(observations) - 1
    for index, observation in enumerate(observations):
        kept = context is None or index in context or index in (0, last)
        messages.append(user_message(observation if kept else ELIDED, index if (image and index == last) else None))
        if index < last:
            messages.append({"role": "assistant", "content": actions[index]})
    return messages


class History:
    """The growing chat of one episode."""

    def __init__(self, system: str | None, preamble: Messages = ()):
        self.system = system
        self.preamble = list(preamble)
        self.observations: list[str] = []
        self.actions: list[str] = []
        self.image = False

    def observe(self, text: str, image: bool) -> None:
        if len(self.observations) != len(self.actions):
            raise RuntimeError("Each observation must be answered by an action before the next one.")
        self.observations.append(text)
        self.image = image

    def answer(self, text: str) -> None:
        self.actions.append(text)

    def fit(self, count_tokens: Callable[[Messages], int] | None, budget: int | None) -> tuple[Messages, list[int] | None]:
        """The messages to send now and the kept-steps list (None when nothing was elided)."""
        context: list[int] | None = None
        messages = render(self.system, self.observations, self.actions, None, self.image, self.preamble)
        if budget is None or count_tokens is None:
            return messages, None
        droppable = list(range(1, len(self.observations) - 1))
        while count_tokens(messages) > budget:
            if not droppable:
                raise ContextLimitExceeded(
                    f"The chat needs {count_tokens(messages)} tokens with every older observation elided; "
                    f"the budget is {budget}."
                )
            droppable.pop(0)
            context = [i for i in range(len(self.observations) - 1) if i == 0 or i in droppable]
            messages = render(self.system, self.observations, self.actions, context, self.image, self.preamble)
        return messages, context
