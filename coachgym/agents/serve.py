"""An OpenAI-compatible chat-completions server for a local transformers model, with batching.

`coachgym serve-model PATH` (and the collection engine, when several workers share one model)
runs this: requests from any number of clients are queued, and one thread owning the `HFModel`
drains the queue in batches (up to `max_batch`, waiting at most `batch_wait_s` for company), so
N env workers share one model copy and its batched `generate`. The API is the subset agents use:
`/v1/chat/completions` with text and `data:` image parts, `logprobs`, and vLLM's
`return_tokens_as_token_ids` (tokens come back as `token_id:<id>`, so clients get exact ids);
`/v1/models`. For teachers in on-policy distillation it also scores token sequences the way vLLM
does: `/tokenize`, and `/v1/completions` with `prompt_logprobs` (one token is generated; use chat
completions to generate more). An optional per-second request limit answers 429 with
`Retry-After`, as hosted APIs do. The server never fetches remote image URLs.
"""

from __future__ import annotations

import asyncio
import base64
import io
import queue
import threading
import time
import uuid
from collections import deque
from concurrent.futures import Future
from typing import Any

import numpy as np
import torch
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from PIL import Image
from pydantic import BaseModel

from coachgym.agents.base import AgentOutput
from coachgym.agents.chat import ChatRequest, SamplingParams
from coachgym.agents.hf import HFModel


class TokenizeBody(BaseModel):
    model: str | None = None
    prompt: str
    add_special_tokens: bool = True


class ScoreBody(BaseModel):
    """The legacy completions fields a scoring client (vLLM-style prompt log-probs) sends."""

    model_config = {"extra": "allow"}

    model: str
    prompt: list[int] | str
    max_tokens: int = 1
    temperature: float = 0.0
    prompt_logprobs: int | None = None


class CompletionBody(BaseModel):
    """The chat-completions request fields this server reads (others are accepted and ignored)."""

    model_config = {"extra": "allow"}

    model: str
    messages: list[dict[str, Any]]
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    seed: int | None = None
    logprobs: bool = False
    return_tokens_as_token_ids: bool = False
    n: int = 1


def _decode_image(url: str) -> np.ndarray:
    if not url.startswith("data:"):
        raise HTTPException(400, "Only data: image URLs are accepted (base64 PNG/JPEG); this server fetches nothing.")
    try:
        payload = base64.b64decode(url.split(",", 1)[1])
        return np.asarray(Image.open(io.BytesIO(payload)).convert("RGB"), dtype=np.uint8)
    except (IndexError, ValueError, OSError) as error:
        raise HTTPException(400, f"Could not decode an image part: {error}") from None


def to_chat_request(body: CompletionBody) -> ChatRequest:
    """OpenAI messages -> internal messages with `{"type": "image", "step": k}` parts."""
    messages, images = [], {}
    for message in body.messages:
        content = message.get("content")
        if isinstance(content, list):
            parts = []
            for part in content:
                if part.get("type") == "image_url":
                    images[len(images)] = _decode_image(part["image_url"]["url"])
                    parts.append({"type": "image", "step": len(images) - 1})
                elif part.get("type") == "text":
                    parts.append({"type": "text", "text": part["text"]})
                else:
                    raise HTTPException(400, f"Unsupported content part type {part.get('type')!r}.")
            content = parts
        elif not isinstance(content, str):
            raise HTTPException(400, "Message content must be a string or a list of parts.")
        messages.append({"role": message.get("role", "user"), "content": content})
    sampling = SamplingParams(temperature=body.temperature, top_p=body.top_p, seed=body.seed,
                              max_new_tokens=body.max_completion_tokens or body.max_tokens or 256)
    return ChatRequest(messages=messages, images=images, sampling=sampling)


class ModelServer:
    """Owns one `HFModel`; `app` serves it. Call `stop()` to end the batching thread."""

    def __init__(self, model: HFModel, served_name: str | None = None, api_key: str | None = None,
                 max_batch: int = 16, batch_wait_s: float = 0.01, rate_limit_per_s: float | None = None):
        self.model, self.served_name, self.api_key = model, served_name or model.path, api_key
        self.max_batch, self.batch_wait_s, self.rate_limit_per_s = max_batch, batch_wait_s, rate_limit_per_s
        self.batch_sizes: list[int] = []
        self.rate_limited = 0
        self._queue: queue.Queue[tuple[ChatRequest, Future] | None] = queue.Queue()
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()  # generation and scoring share the model one at a time
        self._thread = threading.Thread(target=self._serve_batches, daemon=True, name="model-batcher")
        self._thread.start()
        self.app = self._build_app()

    def _authorize(self, request: Request) -> None:
        if self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}":
            raise HTTPException(401, "Missing or wrong API key (send 'Authorization: Bearer <key>').")

    def _admit(self) -> float | None:
        """None when the request may run, else seconds to wait (the per-second limit is full)."""
        if self.rate_limit_per_s is None:
            return None
        with self._lock:
            now = time.monotonic()
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit_per_s:
                self.rate_limited += 1
                return 1.0 - (now - self._recent[0])
            self._recent.append(now)
        return None

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="coachgym model server", dependencies=[Depends(self._authorize)])

        @app.get("/v1/models")
        def models() -> dict[str, Any]:
            return {"object": "list", "data": [{"id": self.served_name, "object": "model", "owned_by": "coachgym"}]}

        @app.post("/v1/chat/completions")
        async def chat(body: CompletionBody) -> Any:
            wait = self._admit()
            if wait is not None:
                return JSONResponse({"error": {"message": "Rate limit reached; retry later.", "type": "rate_limit"}},
                                    status_code=429, headers={"Retry-After": f"{max(wait, 0.05):.2f}"})
            if body.n != 1:
                raise HTTPException(400, "Only n=1 is supported.")
            request = to_chat_request(body)
            future: Future = Future()
            self._queue.put((request, future))
            output: AgentOutput = await asyncio.wrap_future(future)
            return self._response(body, output)

        @app.post("/tokenize")
        def tokenize(body: TokenizeBody) -> dict[str, Any]:
            ids = self.model.tokenizer(body.prompt, add_special_tokens=body.add_special_tokens).input_ids
            return {"tokens": ids, "count": len(ids)}

        @app.post("/v1/completions")
        def score(body: ScoreBody) -> dict[str, Any]:
            return self._score(body)

        return app

    def _score(self, body: ScoreBody) -> dict[str, Any]:
        if body.max_tokens > 1:
            raise HTTPException(400, "This server's /v1/completions scores prompts (max_tokens <= 1); use "
                                     "/v1/chat/completions to generate.")
        tokenizer = self.model.tokenizer
        ids = body.prompt if isinstance(body.prompt, list) else tokenizer(body.prompt, add_special_tokens=False).input_ids
        if not ids or not all(0 <= i < len(tokenizer) for i in ids):
            raise HTTPException(400, f"The prompt must be a non-empty list of token ids below {len(tokenizer)}.")
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
        return {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()),
                "model": self.served_name, "choices": [{"index": 0, "text": text, "logprobs": None,
                "prompt_logprobs": prompt_logprobs if body.prompt_logprobs is not None else None,
                "finish_reason": "length"}],
                "usage": {"prompt_tokens": len(ids), "completion_tokens": body.max_tokens,
                          "total_tokens": len(ids) + body.max_tokens}}

    def _response(self, body: CompletionBody, output: AgentOutput) -> dict[str, Any]:
        ids = output.token_ids or []
        finished = bool(ids) and ids[-1] in self.model.eos_ids
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": output.text},
                                  "finish_reason": "stop" if finished else "length", "logprobs": None}
        if body.logprobs:
            tokens = ([f"token_id:{t}" for t in ids] if body.return_tokens_as_token_ids else
                      [self.model.tokenizer.decode([t]) for t in ids])
            choice["logprobs"] = {"content": [
                {"token": token, "logprob": logprob, "bytes": list(token.encode()), "top_logprobs": []}
                for token, logprob in zip(tokens, output.logprobs or [])
            ]}
        usage = {"prompt_tokens": output.usage.get("prompt_tokens", 0),
                 "completion_tokens": output.usage.get("completion_tokens", 0)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
                "model": self.served_name, "choices": [choice], "usage": usage}

    def _serve_batches(self) -> None:
        while (item := self._queue.get()) is not None:
            batch = [item]
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
            self.batch_sizes.append(len(batch))
            try:
                with self._model_lock:
                    outputs = self.model.complete([request for request, _ in batch])
            except Exception as error:  # noqa: BLE001 - every waiting client gets the reason
                for _, future in batch:
                    future.set_exception(error)
                continue
            for (_, future), output in zip(batch, outputs):
                future.set_result(output)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)


def serve_model(path: str, host: str = "127.0.0.1", port: int = 8000, served_name: str | None = None,
                api_key: str | None = None, max_batch: int = 16, device: str = "cpu") -> None:
    """Serve a checkpoint until interrupted (the `coachgym serve-model` command)."""
    import uvicorn

    server = ModelServer(HFModel(path, device=device), served_name, api_key, max_batch)
    try:
        uvicorn.run(server.app, host=host, port=port, log_level="warning")
    finally:
        server.stop()
