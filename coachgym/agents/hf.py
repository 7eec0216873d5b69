"""Local transformers models as agents: any causal LM, or the coachgym VLM once it is installed.

`HFModel` loads a checkpoint with `from_pretrained` (hub id or local path) and completes a batch
of chat requests in one left-padded `generate` call. It returns the sampled token ids (EOS
included, padding removed) and their log-probs under the *sampling distribution*: the log-softmax
of generate's processed scores, i.e. after temperature and top-p (and, when a request asks, the
likeliest alternatives at each position; a callback can see each token as it is sampled). Pass
`logprobs="model"` to get log-probs under the raw model distribution (temperature 1, no
truncation) instead, which is what an importance ratio against a recomputed policy needs. `HFAgent` is a `ChatAgent` over an
`HFModel`; the OpenAI-compatible model server shares one `HFModel` between many workers. This
module must not know about envs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import torch
from transformers.generation.streamers import BaseStreamer

from coachgym.agents.base import AgentOutput
from coachgym.agents.chat import ChatAgent, ChatRequest, SamplingParams
from coachgym.agents.history import Messages
from coachgym.agents.prompts import PromptBuilder

LogprobSource = Literal["sampling", "model"]


def vlm_classes(path: str | Path) -> tuple[Any, Any] | None:
    """(model class, processor class) when `path` holds a coachgym VLM checkpoint, else None."""
    config_file = Path(path) / "config.json"
    if not config_file.exists():
        return None
    model_type = json.loads(config_file.read_text()).get("model_type")
    try:
        from coachgym import vision
        model_class = vision.CrossAttnVLMForConditionalGeneration
        processor_class = vision.CrossAttnVLMProcessor
    except (ImportError, AttributeError):
        return None
    return (model_class, processor_class) if model_class.config_class.model_type == model_type else None


class HFModel:
    """A transformers model + tokenizer (or processor) that completes batches of chats."""

    def __init__(self, path: str, device: str = "cpu", dtype: str | None = None, logprobs: LogprobSource = "sampling"):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.path, self.device, self.logprob_source = str(path), device, logprobs
        kwargs: dict[str, Any] = {"dtype": getattr(torch, dtype)} if dtype else {}
        vlm = vlm_classes(self.path)
        try:
            if vlm is not None:
                self.model = vlm[0].from_pretrained(self.path, **kwargs)
                self.processor = vlm[1].from_pretrained(self.path)
                self.tokenizer = self.processor.tokenizer
            else:
                self.model = AutoModelForCausalLM.from_pretrained(self.path, **kwargs)
                self.processor = None
                self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        except OSError as error:
            raise OSError(f"Could not load a model from {self.path!r}: {error}. Pass a local folder written by "
                          "save_pretrained or a hub id that is available offline.") from None
        self.model.to(device).eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.eos_ids = self._eos_ids()

    def _eos_ids(self) -> set[int]:
        configured = self.model.generation_config.eos_token_id
        ids = set(configured if isinstance(configured, list) else [configured] if configured is not None else [])
        return ids | ({self.tokenizer.eos_token_id} if self.tokenizer.eos_token_id is not None else set())

    # ----------------------------------------------------------------- prompts
    def template_messages(self, messages: Messages) -> Messages:
        """Messages as the chat template expects them: image parts become plain `{"type": "image"}`
        for the VLM, and are dropped (text only) for a text LM."""
        converted = []
        for message in messages:
            content = message["content"]
            if not isinstance(content, str):
                if self.processor is not None:
                    content = [{"type": "image"} if p["type"] == "image" else p for p in content]
                else:
                    content = "".join(p["text"] for p in content if p["type"] == "text")
            converted.append({"role": message["role"], "content": content})
        return converted

    def prompt_text(self, messages: Messages) -> str:
        if self.processor is not None:
            return self.processor.render(self.template_messages(messages), add_generation_prompt=True)
        return self.tokenizer.apply_chat_template(self.template_messages(messages), add_generation_prompt=True,
                                                  tokenize=False)

    def count_tokens(self, messages: Messages) -> int:
        text = self.prompt_text(messages)
        if self.processor is not None:
            text = self.processor.expand_image_tokens(text)
        return len(self.tokenizer(text, add_special_tokens=False).input_ids)

    def _encode(self, requests: list[ChatRequest]) -> dict[str, torch.Tensor]:
        texts = [self.prompt_text(r.messages) for r in requests]
        if self.processor is None:
            return self.tokenizer(texts, add_special_tokens=False, padding=True, return_tensors="pt")
        # the history keeps only the newest screenshot, so each sample has at most one image
        images = [r.images[max(r.images)] if r.images else None for r in requests]
        return self.processor(text=texts, images=images if any(i is not None for i in images) else None,
                              padding=True, return_tensors="pt")

    # ----------------------------------------------------------------- generation
    @torch.no_grad()
    def complete(self, requests: list[ChatRequest],
                 on_token: Callable[[int, int], None] | None = None) -> list[AgentOutput]:
        """Complete every request; requests with different sampling params are generated apart, and
        a batch is seeded with its first request's seed. `on_token(request_index, token_id)` is told
        each token as soon as it is sampled (a server streams them)."""
        outputs: list[AgentOutput | None] = [None] * len(requests)
        groups: dict[str, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(request.sampling.model_dump_json(exclude={"seed"}), []).append(index)
        for indices in groups.values():
            feed = (_TokenFeed(lambda row, token, rows=indices: on_token(rows[row], token), self.eos_ids)
                    if on_token else None)
            for index, output in zip(indices, self._generate([requests[i] for i in indices], feed)):
                outputs[index] = output
        return outputs  # type: ignore[return-value]

    def _generate(self, requests: list[ChatRequest], feed: _TokenFeed | None = None) -> list[AgentOutput]:
        sampling = requests[0].sampling
        inputs = {k: v.to(self.device) for k, v in self._encode(requests).items()}
        if sampling.seed is not None:
            torch.manual_seed(sampling.seed)
        sample = sampling.temperature > 0
        result = self.model.generate(
            **inputs, do_sample=sample, max_new_tokens=sampling.max_new_tokens,
            **({"temperature": sampling.temperature, "top_p": sampling.top_p} if sample else {}),
            return_dict_in_generate=True, output_scores=self.logprob_source == "sampling",
            output_logits=self.logprob_source == "model", pad_token_id=self.tokenizer.pad_token_id,
            **({"streamer": feed} if feed else {}),
        )
        prompt_length = inputs["input_ids"].shape[1]
        generated = result.sequences[:, prompt_length:]
        scores = torch.stack(result.scores if self.logprob_source == "sampling" else result.logits, dim=1)
        distributions = torch.log_softmax(scores.float(), dim=-1)
        logprobs = distributions.gather(-1, generated.unsqueeze(-1)).squeeze(-1)
        alternatives = min(max(r.top_logprobs for r in requests), distributions.shape[-1])
        top = distributions.topk(alternatives, dim=-1) if alternatives else None
        outputs = []
        for row in range(len(requests)):
            ids = generated[row].tolist()
            end = next((i + 1 for i, token in enumerate(ids) if token in self.eos_ids), len(ids))
            prompt_ids = inputs["input_ids"][row][inputs["attention_mask"][row].bool()].tolist()
            outputs.append(AgentOutput(
                text=self.tokenizer.decode(ids[:end], skip_special_tokens=True),
                token_ids=ids[:end],
                logprobs=logprobs[row, :end].tolist(),
                top_logprobs=_top(top, row, end, requests[row].top_logprobs),
                prompt_token_ids=prompt_ids,
                usage={"prompt_tokens": len(prompt_ids), "completion_tokens": end},
            ))
        return outputs

    @torch.no_grad()
    def next_token_logprobs(self, ids: list[int]) -> torch.Tensor:
        """Log-probs of every token given its prefix (row i scores position i + 1), from one forward pass:
        what a teacher server returns as prompt log-probs."""
        logits = self.model(input_ids=torch.tensor([ids], device=self.device)).logits[0].float()
        return torch.log_softmax(logits, dim=-1)


def _top(top: Any, row: int, end: int, k: int) -> list[dict[int, float]] | None:
    """The `k` likeliest tokens at each of a row's first `end` positions, from `topk` over the
    batch (tokens the sampling distribution rules out, log-prob -inf, are left out)."""
    if top is None or not k:
        return None
    values, ids = top.values[row, :end, :k].tolist(), top.indices[row, :end, :k].tolist()
    return [{i: v for i, v in zip(position_ids, position_values) if v != float("-inf")}
            for position_ids, position_values in zip(ids, values)]


class _TokenFeed(BaseStreamer):
    """A `generate` streamer that hands each newly sampled token of a batch to `on_token(row, token)`;
    it skips the prompt (generate's first `put`) and a row's padding after its EOS."""

    def __init__(self, on_token: Callable[[int, int], None], eos_ids: set[int]):
        self.on_token, self.eos_ids = on_token, eos_ids
        self.prompt_seen = False
        self.finished: set[int] = set()

    def put(self, value: torch.Tensor) -> None:
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        for row, token in enumerate(value.reshape(-1).tolist()):
            if row not in self.finished:
                self.on_token(row, token)
                if token in self.eos_ids:
                    self.finished.add(row)

    def end(self) -> None:
        """Nothing is buffered: every token was handed on in `put`."""


class HFAgent(ChatAgent):
    """A chat agent running a transformers model in this process.

    `HFAgent("path/or/hub-id", temperature=..., max_new_tokens=..., context_limit=...)`; the
    context limit defaults to the model's `max_position_embeddings`.
    """

    def __init__(self, model: str | HFModel, temperature: float = 1.0, top_p: float = 1.0, max_new_tokens: int = 256,
                 context_limit: int | None = None, device: str = "cpu", logprobs: LogprobSource = "sampling",
                 prompts: PromptBuilder | None = None, seed: int | None = None):
        self.backend = model if isinstance(model, HFModel) else HFModel(model, device=device, logprobs=logprobs)
        text_config = self.backend.model.config.get_text_config()
        limit = context_limit or getattr(text_config, "max_position_embeddings", None)
        super().__init__(SamplingParams(temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens, seed=seed),
                         limit, prompts)
        self.model = self.backend.path

    def reseed(self, seed: int) -> None:
        self.sampling = self.sampling.model_copy(update={"seed": seed})

    def count_tokens(self, messages: Messages) -> int:
        return self.backend.count_tokens(messages)

    def complete(self, requests: list[ChatRequest]) -> list[AgentOutput]:
        return self.backend.complete(requests)
