"""An OpenAI-compatible chat-completions server for a local transformers model, with batching.

`coachgym serve-model PATH` (and the collection engine, when several workers share one model)
runs this: requests from any number of clients are queued, and one thread owning the `HFModel`
drains the queue in batches (up to `max_batch`, waiting at most `batch_wait_s` for company), so
N env workers share one model copy and its batched `generate`. The API is the subset agents use:
`/v1/chat/completions` with text and `data:` image parts, `stream` (server-sent chunks, each
token sent as soon as it is sampled), `logprobs` with `top_logprobs`, and vLLM's
`return_tokens_as_token_ids` (tokens come back as `token_id:<id>`, so clients get exact ids);
`/v1/models`. For teachers in on-policy distillation it also scores token sequences the way vLLM
does: `/tokenize`, and `/v1/completions` with `prompt_logprobs` (one token is generated; use chat
completions to generate more). An optional per-second request limit answers 429 with
`Retry-After`, as hosted APIs do.

A request meets the gate first (`coachgym.envs.gate`: API key and body size, before the body is
read), then its schema (`serve_api`: a malformed request is a 400), then the server's limits: an
unknown model name is a 404, `max_tokens` is capped at the server's limit, and images beyond the
pixel budget are refused before they are decoded. The server never fetches remote image URLs.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from concurrent.futures import Future
from typing import Any

import torch
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from coachgym.agents.base import AgentOutput
from coachgym.agents.chat import ChatRequest
from coachgym.agents.hf import HFModel
from coachgym.agents.serve_api import (
    DEFAULT_MAX_IMAGE_PIXELS,
    DEFAULT_MAX_TOKENS_LIMIT,
    APIError,
    CompletionBody,
    ScoreBody,
    TokenizeBody,
    error_body,
    http_error,
    to_chat_request,
    validation_error,
)
from coachgym.envs.gate import install_gate

KEY_ENV_VAR = "COACHGYM_MODEL_KEY"
DEFAULT_MAX_BODY_BYTES = 32 * 2**20  # a few full-HD PNG screenshots, base64-encoded


class _Job:
    """One queued chat completion: its request, its result, and, when a client streams it live,
    each token as the batching thread samples it."""

    def __init__(self, request: ChatRequest, live: bool):
        self.request, self.future = request, Future[AgentOutput]()
        self._loop = asyncio.get_running_loop()
        self.tokens: asyncio.Queue[int | None] | None = asyncio.Queue() if live else None

    def feed(self, token: int | None) -> None:
        """Called on the batching thread with each sampled token, then with None once the job is done."""
        if self.tokens is not None:
            try:
                self._loop.call_soon_threadsafe(self.tokens.put_nowait, token)
            except RuntimeError:  # the server's event loop has stopped; nobody is listening
                pass

    async def result(self) -> AgentOutput:
        return await asyncio.wrap_future(self.future)


class _TextDeltas:
    """Turns streamed tokens into the text each adds, holding back a partial UTF-8 character."""

    def __init__(self, tokenizer: Any):
        self.tokenizer, self.ids, self.sent = tokenizer, [], ""

    def add(self, token: int) -> str:
        self.ids.append(token)
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        if text.endswith("\ufffd") or not text.startswith(self.sent):
            return ""
        delta, self.sent = text[len(self.sent):], text
        return delta

    def rest(self, final: str) -> str:
        """What the completion's whole text adds to the text already sent."""
        return final[len(self.sent):] if final.startswith(self.sent) else ""


def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data)}\n\n"


class ModelServer:
    """Owns one `HFModel`; `app` serves it. Call `stop()` to end the batching thread.

    `api_key=None` serves without a key (in-process use, tests); `coachgym serve-model` always sets
    one unless told `--no-auth`. `max_tokens` caps every completion's length, `max_body_bytes` every
    request body, and `max_image_pixels` the decoded pixels of one request's images together.
    """

    def __init__(self, model: HFModel, served_name: str | None = None, api_key: str | None = None,
                 max_batch: int = 16, batch_wait_s: float = 0.01, rate_limit_per_s: float | None = None,
                 max_tokens: int = DEFAULT_MAX_TOKENS_LIMIT, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS):
        self.model, self.served_name, self.api_key = model, served_name or model.path, api_key
        self.max_batch, self.batch_wait_s, self.rate_limit_per_s = max_batch, batch_wait_s, rate_limit_per_s
        self.max_tokens, self.max_body_bytes, self.max_image_pixels = max_tokens, max_body_bytes, max_image_pixels
        self.batch_sizes: list[int] = []
        self.rate_limited = 0
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()  # generation and scoring share the model one at a time
        self._thread = threading.Thread(target=self._serve_batches, daemon=True, name="model-batcher")
        self._thread.start()
        self.app = self._build_app()

    def _check_model(self, name: str | None) -> None:
        if name is not None and name != self.served_name:
            raise APIError(404, f"The model {name!r} does not exist on this server; it serves {self.served_name!r} "
                                "(see GET /v1/models).", "model", "model_not_found")

    def _admit(self) -> None:
        """Refuse with 429 and `Retry-After` when the per-second request limit is full."""
        if self.rate_limit_per_s is None:
            return
        with self._lock:
            now = time.monotonic()
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit_per_s:
                self.rate_limited += 1
                wait = 1.0 - (now - self._recent[0])
                raise APIError(429, "Rate limit reached; retry later.", code="rate_limit_exceeded",
                               headers={"Retry-After": f"{max(wait, 0.05):.2f}"})
            self._recent.append(now)

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="coachgym model server", exception_handlers={
            StarletteHTTPException: http_error, RequestValidationError: validation_error})
        install_gate(app, self.api_key, self.max_body_bytes,
                     f"Missing or wrong API key: send 'Authorization: Bearer <key>' (the key `coachgym serve-model` "
                     f"printed or was given, e.g. ${KEY_ENV_VAR}); OpenAI clients take it as api_key or "
                     "$OPENAI_API_KEY.")

        @app.get("/v1/models")
        def models() -> dict[str, Any]:
            return {"object": "list", "data": [{"id": self.served_name, "object": "model", "owned_by": "coachgym"}]}

        @app.post("/v1/chat/completions")
        async def chat(body: CompletionBody) -> Any:
            self._check_model(body.model)
            self._admit()
            request = await run_in_threadpool(to_chat_request, body, self.max_image_pixels, self.max_tokens)
            job = _Job(request, live=body.stream and not body.logprobs)
            self._queue.put(job)
            if body.stream:
                return StreamingResponse(self._stream(body, job), media_type="text/event-stream")
            return self._response(body, await job.result())

        @app.post("/tokenize")
        def tokenize(body: TokenizeBody) -> dict[str, Any]:
            self._check_model(body.model)
            ids = self.model.tokenizer(body.prompt, add_special_tokens=body.add_special_tokens).input_ids
            return {"tokens": ids, "count": len(ids)}

        @app.post("/v1/completions")
        def score(body: ScoreBody) -> dict[str, Any]:
            self._check_model(body.model)
            return self._score(body)

        return app

    def _score(self, body: ScoreBody) -> dict[str, Any]:
        if body.max_tokens > 1:
            raise APIError(400, "This server's /v1/completions scores prompts (max_tokens <= 1); use "
                                "/v1/chat/completions to generate.", "max_tokens")
        batch = body.prompt if isinstance(body.prompt, list) and body.prompt and isinstance(body.prompt[0], list) \
            else [body.prompt]
        choices = [self._score_one(prompt, body, index) for index, prompt in enumerate(batch)]
        tokens = sum(len(choice.pop("ids")) for choice in choices)
        return {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()),
                "model": self.served_name, "choices": choices,
                "usage": {"prompt_tokens": tokens, "completion_tokens": body.max_tokens * len(batch),
                          "total_tokens": tokens + body.max_tokens * len(batch)}}

    def _score_one(self, prompt: list[int] | str, body: ScoreBody, index: int) -> dict[str, Any]:
        tokenizer = self.model.tokenizer
        ids = prompt if isinstance(prompt, list) else tokenizer(prompt, add_special_tokens=False).input_ids
        if not ids or not all(0 <= i < len(tokenizer) for i in ids):
            raise APIError(400, f"The prompt must be a non-empty list of token ids below {len(tokenizer)}.", "prompt")
        with self._model_lock:
            logprobs = self.model.next_token_logprobs(ids)
        prompt_logprobs: list[dict[str, Any] | None] = [None]
        for position, token in enumerate(ids[1:]):
            value = logprobs[position, token].item()
            rank = int((logprobs[position] > value).sum().item()) + 1
            prompt_logprobs.append({str(token): {"logprob": value, "rank": rank,
                                                 "decoded_token": tokenizer.decode([token])}})
        last = logprobs[-1]
        if body.temperature > 0:
            next_id = int(torch.multinomial(torch.softmax(last / body.temperature, -1), 1).item())
        else:
            next_id = int(last.argmax().item())
        text = tokenizer.decode([next_id]) if body.max_tokens == 1 else ""
        return {"index": index, "text": text, "logprobs": None, "ids": ids,
                "prompt_logprobs": prompt_logprobs if body.prompt_logprobs is not None else None,
                "finish_reason": "length"}

    def _finish_reason(self, output: AgentOutput) -> str:
        return "stop" if output.token_ids and output.token_ids[-1] in self.model.eos_ids else "length"

    def _logprobs(self, body: CompletionBody, output: AgentOutput) -> list[dict[str, Any]]:
        """OpenAI's per-token log-prob entries, each with its `top_logprobs` alternatives."""

        def entry(token_id: int, logprob: float) -> dict[str, Any]:
            token = (f"token_id:{token_id}" if body.return_tokens_as_token_ids
                     else self.model.tokenizer.decode([token_id]))
            return {"token": token, "logprob": logprob, "bytes": list(token.encode())}

        ids = output.token_ids or []
        alternatives = output.top_logprobs or [{} for _ in ids]
        return [entry(token, logprob) | {"top_logprobs": [entry(t, lp) for t, lp in top.items()]}
                for token, logprob, top in zip(ids, output.logprobs or [], alternatives)]

    @staticmethod
    def _usage(output: AgentOutput) -> dict[str, int]:
        usage = {"prompt_tokens": output.usage.get("prompt_tokens", 0),
                 "completion_tokens": output.usage.get("completion_tokens", 0)}
        return usage | {"total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}

    def _response(self, body: CompletionBody, output: AgentOutput) -> dict[str, Any]:
        choice = {"index": 0, "message": {"role": "assistant", "content": output.text},
                  "finish_reason": self._finish_reason(output),
                  "logprobs": {"content": self._logprobs(body, output)} if body.logprobs else None}
        return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
                "model": self.served_name, "choices": [choice], "usage": self._usage(output)}

    async def _stream(self, body: CompletionBody, job: _Job) -> AsyncIterator[str]:
        """The completion as `chat.completion.chunk` server-sent events, ending with `data: [DONE]`.
        Live jobs send each token's text as it is sampled; log-probs are known only once the batch is
        done, so a stream that asks for them gets its per-token chunks then."""
        head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": self.served_name}

        def chunk(delta: dict[str, Any], finish_reason: str | None = None, logprobs: Any = None) -> str:
            return _sse(head | {"choices": [{"index": 0, "delta": delta, "logprobs": logprobs,
                                             "finish_reason": finish_reason}]})

        yield chunk({"role": "assistant", "content": ""})
        text = _TextDeltas(self.model.tokenizer)
        if job.tokens is not None:
            while (token := await job.tokens.get()) is not None:
                if delta := text.add(token):
                    yield chunk({"content": delta})
        try:
            output = await job.result()
        except Exception as error:  # noqa: BLE001 - the client gets the reason in the stream
            yield _sse(error_body(500, f"Generation failed: {type(error).__name__}: {error}"))
            return
        if job.tokens is None:
            for token, entry in zip(output.token_ids or [], self._logprobs(body, output)):
                yield chunk({"content": text.add(token)}, logprobs={"content": [entry]})
        if rest := text.rest(output.text):
            yield chunk({"content": rest})
        yield chunk({}, self._finish_reason(output))
        if body.stream_options and body.stream_options.include_usage:
            yield _sse(head | {"choices": [], "usage": self._usage(output)})
        yield "data: [DONE]\n\n"

    # ----------------------------------------------------------------- batching
    def _serve_batches(self) -> None:
        while (job := self._queue.get()) is not None:
            batch = [job]
            deadline = time.monotonic() + self.batch_wait_s
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get(timeout=max(deadline - time.monotonic(), 0))
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                batch.append(more)
            self._run(batch)

    def _run(self, batch: list[_Job]) -> None:
        batch = [job for job in batch if job.future.set_running_or_notify_cancel()]  # skip clients that left
        if not batch:
            return
        self.batch_sizes.append(len(batch))
        live = any(job.tokens is not None for job in batch)
        feed = (lambda index, token: batch[index].feed(token)) if live else None
        try:
            with self._model_lock:
                outputs = self.model.complete([job.request for job in batch], on_token=feed)
        except Exception as error:  # noqa: BLE001 - every waiting client gets the reason
            for job in batch:
                job.future.set_exception(error)
        else:
            for job, output in zip(batch, outputs):
                job.future.set_result(output)
        for job in batch:
            job.feed(None)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)


def serve_model(path: str, api_key: str | None, host: str = "127.0.0.1", port: int = 8000,
                served_name: str | None = None, max_batch: int = 16, device: str = "cpu",
                max_tokens: int = DEFAULT_MAX_TOKENS_LIMIT, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS) -> None:
    """Serve a checkpoint until interrupted (the `coachgym serve-model` command); `api_key=None`
    serves without a key, so the caller decides that explicitly."""
    import uvicorn

    server = ModelServer(HFModel(path, device=device), served_name, api_key, max_batch, max_tokens=max_tokens,
                         max_body_bytes=max_body_bytes, max_image_pixels=max_image_pixels)
    try:
        uvicorn.run(server.app, host=host, port=port, log_level="warning")
    finally:
        server.stop()
