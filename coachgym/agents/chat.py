"""What every language-model agent shares: prompts, history, the context budget, bookkeeping.

`ChatAgent.act` turns an observation into a user turn (the env's prompt format), fits the chat
to the context budget (`history.History`), asks the backend for one completion and records the
exact messages, kept context and sampled tokens in the `AgentOutput`. Backends (local
transformers, OpenAI-compatible servers) implement only `complete`, for a batch of requests, so
batching works the same for one agent and for a model server answering many workers. This module
must not import a model runtime.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from coachgym.agents.base import Agent, AgentOutput
from coachgym.agents.history import History, Messages
from coachgym.agents.prompts import PromptBuilder, prompt_builder
from coachgym.envs.core import Task


class SamplingParams(BaseModel):
    """How to sample one completion."""

    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 256
    seed: int | None = None


class ChatRequest(BaseModel):
    """One completion to produce: the chat and the screenshots its image parts refer to (by step)."""

    model_config = {"arbitrary_types_allowed": True}

    messages: Messages
    images: dict[int, Any] = {}
    sampling: SamplingParams = SamplingParams()
    top_logprobs: int = Field(default=0, ge=0, description="Alternatives to report at each sampled position.")


def count_text_tokens(messages: Messages) -> int:
    """A tokenizer-free estimate (about 4 characters a token, plus per-message overhead)."""
    total = 0
    for message in messages:
        content = message["content"]
        text = content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)
        total += len(text) // 4 + 4 + (0 if isinstance(content, str) else 256 * sum(p["type"] == "image" for p in content))
    return total


class ChatAgent(Agent):
    """An agent backed by a chat model; subclasses implement `complete`."""

    def __init__(self, sampling: SamplingParams | None = None, context_limit: int | None = None,
                 prompts: PromptBuilder | None = None):
        self.sampling = sampling or SamplingParams()
        self.context_limit = context_limit
        self.fixed_prompts = prompts
        self.history = History(None)

    @abstractmethod
    def complete(self, requests: list[ChatRequest]) -> list[AgentOutput]:
        """One completion per request (text, and token ids/log-probs when the backend has them)."""

    def count_tokens(self, messages: Messages) -> int:
        return count_text_tokens(messages)

    def start_episode(self, task: Task, env_info: dict[str, Any]) -> None:
        self.prompts = self.fixed_prompts or prompt_builder(env_info["env"])
        self.system_prompt = self.prompts.system(env_info)
        self.preamble = self.prompts.preamble(env_info)
        self.history = History(self.system_prompt, self.preamble)

    def prepare(self, observation: dict[str, Any]) -> tuple[ChatRequest, str, list[int] | None]:
        """Add the observation to the history and build the request for it (no model call)."""
        prompt = self.prompts.user_turn(observation, first=not self.history.observations)
        screenshot = observation.get("screenshot")
        self.history.observe(prompt, image=screenshot is not None)
        budget = None if self.context_limit is None else self.context_limit - self.sampling.max_new_tokens
        messages, context = self.history.fit(self.count_tokens, budget)
        step = len(self.history.observations) - 1
        images = {step: np.asarray(screenshot)} if screenshot is not None else {}
        sampling = self.sampling
        if sampling.seed is not None:  # a different, reproducible stream for every step
            sampling = sampling.model_copy(update={"seed": sampling.seed * 1_000_003 + step})
        return ChatRequest(messages=messages, images=images, sampling=sampling), prompt, context

    def finish(self, request: ChatRequest, prompt: str, context: list[int] | None, output: AgentOutput) -> AgentOutput:
        """Record the completion in the history and attach what the model saw."""
        self.history.answer(output.text)
        return output.model_copy(update={"prompt": prompt, "messages": request.messages, "context": context})

    def act(self, observation: dict[str, Any]) -> AgentOutput:
        request, prompt, context = self.prepare(observation)
        return self.finish(request, prompt, context, self.complete([request])[0])


def act_batch(agents: Sequence[ChatAgent], observations: Sequence[dict[str, Any]]) -> list[AgentOutput]:
    """One step of several episodes in a single backend call (e.g. `HFAgent`s over one `HFModel`,
    stepping vector envs). Every agent's history and output is exactly what `act` would give."""
    prepared = [agent.prepare(observation) for agent, observation in zip(agents, observations, strict=True)]
    outputs = agents[0].complete([request for request, _, _ in prepared])
    return [agent.finish(*parts, output) for agent, parts, output in zip(agents, prepared, outputs)]
