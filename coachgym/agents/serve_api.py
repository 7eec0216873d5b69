"""What the OpenAI-compatible model server (`coachgym.agents.serve`) accepts and how it refuses.

Request bodies are pydantic models, so a malformed request (a text part without text, a negative
`max_tokens`) is a 400 that names the field, never a 500. Errors have OpenAI's shape
(`{"error": {"message", "type", "param", "code"}}`), which the `openai` SDK turns into its typed
exceptions. `to_chat_request` turns a validated body into coachgym's `ChatRequest`; it decodes
`data:` images only after checking their pixel count from the image header against a budget, so
a small PNG that would decode to gigabytes is refused first. This module must not touch the model.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from PIL import Image
from pydantic import BaseModel, Discriminator, Field, Tag, model_validator

from coachgym.agents.chat import ChatRequest, SamplingParams

DEFAULT_MAX_TOKENS = SamplingParams().max_new_tokens  # a request that names no limit
DEFAULT_MAX_TOKENS_LIMIT = 4096  # the server's cap on any request's max_tokens
DEFAULT_MAX_IMAGE_PIXELS = 4096 * 4096  # per request, all images together (about 50 MB decoded)
_INT64 = 2**63


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class ImageURL(BaseModel):
    url: str
    detail: str | None = None


class ImagePart(BaseModel):
    type: Literal["image_url"]
    image_url: ImageURL


def _content_kind(content: Any) -> str | None:
    return "text" if isinstance(content, str) else "parts" if isinstance(content, list) else None


Part = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class Message(BaseModel):
    model_config = {"extra": "ignore"}

    role: Literal["system", "user", "assistant"]
    # one branch by the content's JSON type, so errors name the field that is wrong, not every union branch
    content: Annotated[Annotated[str, Tag("text")] | Annotated[list[Part], Tag("parts")],
                       Discriminator(_content_kind, custom_error_type="content_type",
                                     custom_error_message="content must be a string or a list of parts")]


class StreamOptions(BaseModel):
    include_usage: bool = False


class CompletionBody(BaseModel):
    """The chat-completions fields this server reads (other OpenAI fields are accepted and ignored)."""

    model_config = {"extra": "ignore"}

    model: str
    messages: list[Message] = Field(min_length=1)
    temperature: float = Field(default=1.0, ge=0, le=2)
    top_p: float = Field(default=1.0, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = Field(default=None, ge=-_INT64, lt=_INT64)
    logprobs: bool = False
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    return_tokens_as_token_ids: bool = False
    n: int = Field(default=1, ge=1, le=1, description="Only one choice per request is generated.")
    stream: bool = False
    stream_options: StreamOptions | None = None

    @model_validator(mode="after")
    def _top_needs_logprobs(self) -> CompletionBody:
        if self.top_logprobs and not self.logprobs:
            raise ValueError("top_logprobs needs logprobs: true")
        return self


class TokenizeBody(BaseModel):
    model: str | None = None
    prompt: str
    add_special_tokens: bool = True


class ScoreBody(BaseModel):
    """The legacy completions fields a scoring client (vLLM-style prompt log-probs) sends."""

    model_config = {"extra": "ignore"}

    model: str
    prompt: list[list[int]] | list[int] | str = Field(description="One prompt, or a batch of token-id prompts.")
    max_tokens: int = Field(default=1, ge=0)
    temperature: float = Field(default=0.0, ge=0, le=2)
    prompt_logprobs: int | None = None


# --------------------------------------------------------------------------- errors
_ERROR_TYPES = {401: "authentication_error", 404: "not_found_error", 429: "rate_limit_error"}


class APIError(HTTPException):
    """An HTTP error whose OpenAI body also names the offending `param` and a machine-readable `code`."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(status, message, headers)
        self.param, self.code = param, code


def error_body(status: int, message: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


async def http_error(request: Request, error: HTTPException) -> JSONResponse:
    body = error_body(error.status_code, str(error.detail), getattr(error, "param", None), getattr(error, "code", None))
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """A body that does not fit the schema: 400, naming each wrong field and what is wrong with it."""
    problems = [(".".join(str(p) for p in problem["loc"][1:]), problem["msg"]) for problem in error.errors()]
    message = "Invalid request: " + "; ".join(f"{where or 'body'}: {what}" for where, what in problems)
    return JSONResponse(error_body(400, message, problems[0][0] if problems else None), status_code=400)


# --------------------------------------------------------------------------- conversion
class _PixelBudget:
    """Counts the decoded pixels of one request's images against the server's limit."""

    def __init__(self, limit: int):
        self.limit, self.used = limit, 0

    def decode(self, url: str) -> np.ndarray:
        if not url.startswith("data:"):
            raise APIError(400, "Only data: image URLs are accepted (base64 PNG/JPEG); this server fetches nothing.",
                           "messages")
        try:
            image = Image.open(io.BytesIO(base64.b64decode(url.partition(",")[2], validate=True)))
            self.used += image.width * image.height  # from the header: nothing is decoded yet
            if self.used > self.limit:
                raise APIError(400, f"The request's images hold {self.used:,} pixels or more, over this server's "
                                    f"limit of {self.limit:,}; send smaller or fewer screenshots.", "messages")
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
        except (binascii.Error, ValueError, OSError, Image.DecompressionBombError) as error:
            raise APIError(400, f"Could not decode an image part: {error}", "messages") from None


def to_chat_request(body: CompletionBody, max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
                    max_tokens: int = DEFAULT_MAX_TOKENS_LIMIT) -> ChatRequest:
    """OpenAI messages -> internal messages with `{"type": "image", "step": k}` parts; the completion
    length is what the body asks for (default `DEFAULT_MAX_TOKENS`), capped at `max_tokens`."""
    budget = _PixelBudget(max_image_pixels)
    messages: list[dict[str, Any]] = []
    images: dict[int, np.ndarray] = {}
    for message in body.messages:
        content: Any = message.content
        if isinstance(content, list):
            parts: list[dict[str, Any]] = []
            for part in content:
                if isinstance(part, ImagePart):
                    images[len(images)] = budget.decode(part.image_url.url)
                    parts.append({"type": "image", "step": len(images) - 1})
                else:
                    parts.append({"type": "text", "text": part.text})
            content = parts
        messages.append({"role": message.role, "content": content})
    wanted = body.max_completion_tokens or body.max_tokens or DEFAULT_MAX_TOKENS
    sampling = SamplingParams(temperature=body.temperature, top_p=body.top_p, seed=body.seed,
                              max_new_tokens=min(wanted, max_tokens))
    return ChatRequest(messages=messages, images=images, sampling=sampling,
                       top_logprobs=(body.top_logprobs or 0) if body.logprobs else 0)
