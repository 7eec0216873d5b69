"""Agents behind any OpenAI-compatible chat-completions server (vLLM, SGLang, hosted APIs, or
`coachgym serve-model`).

Screenshots are sent as PNG `data:` image parts. Log-probs are requested when the server offers
them, and exact token ids through vLLM's `return_tokens_as_token_ids` (tokens `token_id:<id>`);
a server that rejects either option is asked again without it, once, and remembered. Transient
failures (connection errors, 429 with `Retry-After`, 5xx, timeouts) are retried with exponential
backoff by the `openai` client; what still fails becomes one `AgentServerError` naming the fix,
and a prompt the server says is too long ends the episode as `context_limit`.
"""

from __future__ import annotations

import base64
import io
import os
from typing import Any

import numpy as np
import openai
from PIL import Image

from coachgym.agents.base import AgentOutput, AgentServerError, ContextLimitExceeded
from coachgym.agents.chat import ChatAgent, ChatRequest, SamplingParams
from coachgym.agents.history import Messages
from coachgym.agents.prompts import PromptBuilder

DEFAULT_URL = "http://127.0.0.1:8000/v1"
_CONTEXT_WORDS = ("context length", "maximum context", "too long", "context_length_exceeded")


def image_url(pixels: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def to_openai_messages(messages: Messages, images: dict[int, Any]) -> list[dict[str, Any]]:
    """Internal messages -> OpenAI messages; image parts get their screenshot as a data URL."""
    converted = []
    for message in messages:
        content = message["content"]
        if not isinstance(content, str):
            content = [{"type": "image_url", "image_url": {"url": image_url(images[p["step"]])}} if p["type"] == "image"
                       else {"type": "text", "text": p["text"]} for p in content]
        converted.append({"role": message["role"], "content": content})
    return converted


class OpenAIAgent(ChatAgent):
    """`OpenAIAgent("model-name", base_url="http://host:8000/v1")`; spec `openai:MODEL@URL`.

    `tokenizer` (a local path or hub id) makes the context budget count tokens exactly; without
    it they are estimated from characters.
    """

    def __init__(self, model: str, base_url: str = DEFAULT_URL, api_key: str | None = None, temperature: float = 1.0,
                 top_p: float = 1.0, max_new_tokens: int = 256, context_limit: int | None = None,
                 timeout_s: float = 120.0, max_retries: int = 5, logprobs: bool = True, token_ids: bool = True,
                 prompts: PromptBuilder | None = None, seed: int | None = None, tokenizer: str | None = None):
        super().__init__(SamplingParams(temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens, seed=seed),
                         context_limit, prompts)
        self.model, self.base_url = model, base_url
        self.want_logprobs, self.want_token_ids = logprobs, token_ids
        self.tokenizer = None
        if tokenizer:  # count prompt tokens exactly (the context budget) instead of estimating
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(tokenizer)
        key = api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"  # keyless servers ignore it
        self.client = openai.OpenAI(base_url=base_url, api_key=key, timeout=timeout_s, max_retries=max_retries)

    @classmethod
    def from_spec(cls, argument: str, **options: Any) -> OpenAIAgent:
        model, _, url = argument.partition("@")
        return cls(model, base_url=url or DEFAULT_URL, **options)

    def count_tokens(self, messages: Messages) -> int:
        if self.tokenizer is None:
            return super().count_tokens(messages)
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return len(self.tokenizer(text, add_special_tokens=False).input_ids)

    def reseed(self, seed: int) -> None:
        self.sampling = self.sampling.model_copy(update={"seed": seed})

    def complete(self, requests: list[ChatRequest]) -> list[AgentOutput]:
        return [self._complete_one(request) for request in requests]

    def _complete_one(self, request: ChatRequest) -> AgentOutput:
        while True:
            options: dict[str, Any] = {"logprobs": True} if self.want_logprobs else {}
            if self.want_token_ids:
                options["extra_body"] = {"return_tokens_as_token_ids": True}
            try:
                response = self.client.chat.completions.create(
                    model=self.model, messages=to_openai_messages(request.messages, request.images),
                    temperature=request.sampling.temperature, top_p=request.sampling.top_p,
                    max_tokens=request.sampling.max_new_tokens, seed=request.sampling.seed, **options)
                return self._output(response)
            except openai.BadRequestError as error:
                if not self._drop_rejected_option(str(error)):
                    if any(word in str(error).lower() for word in _CONTEXT_WORDS):
                        raise ContextLimitExceeded(f"The server says the prompt is too long: {error}") from None
                    raise AgentServerError(f"{self.base_url} rejected the request: {error}") from None
            except openai.APITimeoutError:
                raise AgentServerError(f"{self.base_url} did not answer within the timeout, after retries; raise "
                                       "timeout_s (e.g. openai:MODEL@URL?timeout_s=600) or use a faster server.") from None
            except openai.APIConnectionError as error:
                raise AgentServerError(f"Cannot reach the OpenAI-compatible server at {self.base_url} ({error.__cause__ or error}); "
                                       "start it (e.g. `coachgym serve-model PATH --port 8000`, vLLM or SGLang) or fix "
                                       "the URL in openai:MODEL@URL.") from None
            except openai.AuthenticationError:
                raise AgentServerError(f"{self.base_url} refused the API key; pass api_key=... or set "
                                       "OPENAI_API_KEY.") from None
            except openai.RateLimitError:
                raise AgentServerError(f"{self.base_url} kept answering 429 (rate limit) after retries; lower the "
                                       "number of workers or raise max_retries.") from None
            except openai.APIStatusError as error:
                raise AgentServerError(f"{self.base_url} failed: HTTP {error.status_code}: {error.message}") from None

    def _drop_rejected_option(self, message: str) -> bool:
        """A server that does not offer token ids or log-probs is asked again without them."""
        if self.want_token_ids and "return_tokens_as_token_ids" in message:
            self.want_token_ids = False
            return True
        if self.want_logprobs and "logprobs" in message:
            self.want_logprobs = False
            return True
        return False

    def _output(self, response: Any) -> AgentOutput:
        choice = response.choices[0]
        token_ids = logprobs = None
        content = getattr(choice.logprobs, "content", None) if choice.logprobs else None
        if content:
            logprobs = [entry.logprob for entry in content]
            if all(entry.token.startswith("token_id:") for entry in content):
                token_ids = [int(entry.token.removeprefix("token_id:")) for entry in content]
        usage = {}
        if response.usage is not None:
            usage = {"prompt_tokens": response.usage.prompt_tokens, "completion_tokens": response.usage.completion_tokens}
        return AgentOutput(text=choice.message.content or "", token_ids=token_ids, logprobs=logprobs, usage=usage)
