"""Teachers for on-policy distillation: score the student's own tokens.

A teacher returns `log p_teacher(token_t | tokens_<t)` for every position of sequences of token
ids, so it must share the student's tokenizer: ids from one vocabulary are meaningless in
another. Both teachers check this up front and refuse with the reason instead of producing
silently wrong advantages. `HFTeacher` runs a local transformers model; `ServerTeacher` asks an
OpenAI-compatible completions endpoint for prompt log-probs (vLLM's `prompt_logprobs`, or the
legacy `echo` + `logprobs` form), one request per batch of sequences (a list of token-id prompts). A CrossAttnVLM student's rows come with screenshots: a local
CrossAttnVLM teacher (same tokenizer, same image placeholder count) scores them with those images,
preprocessed by its own processor. This module must not update weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol

import httpx
import numpy as np
import torch
from pydantic import Field
from transformers import PreTrainedTokenizerBase

from coachgym.strict import StrictModel
from coachgym.training.models import load_model
from coachgym.training.policy import policy_logits, text_tokenizer, vision_inputs, vlm_processor

TOKENIZER_PROBE = "Thought: check 0123456789 ()[]{} <|im_start|>user\nÄ→ guess(42)<|im_end|>"


class TeacherSettings(StrictModel):
    """Which teacher scores the student (config field `teacher`)."""

    kind: Literal["hf", "server"] = Field(default="hf", description="'hf': local checkpoint; 'server': an "
                                          "OpenAI-compatible endpoint returning prompt logprobs.")
    model: str = Field(description="Checkpoint folder (hf) or the served model name (server).")
    base_url: str | None = Field(default=None, description="Server base URL, e.g. http://host:8000/v1.")
    api_key: str = Field(default="EMPTY", description="Server API key (vLLM ignores it).")
    batch_size: int = Field(default=8, ge=1, description="Sequences scored per forward pass (hf).")


Images = list[np.ndarray | None] | None


class Teacher(Protocol):
    def score(self, sequences: list[list[int]], images: Images = None) -> list[list[float]]:
        """Per-position log-probs; position 0 has no context and scores 0. `images`: one screenshot
        (or None) per sequence, for sequences with image placeholders."""


class TokenizerMismatch(ValueError):
    """Teacher and student tokenize differently, so the teacher cannot score the student's ids."""


def same_tokenizer(student: PreTrainedTokenizerBase, teacher: PreTrainedTokenizerBase) -> str | None:
    """None when both map every token to the same id; else what differs."""
    if student.get_vocab() != teacher.get_vocab():
        return f"vocabularies differ ({len(student)} vs {len(teacher)} tokens)"
    if student.eos_token_id != teacher.eos_token_id:
        return f"EOS ids differ ({student.eos_token_id} vs {teacher.eos_token_id})"
    return None


def _image_tokens(tokenizer: Any) -> int | None:
    """Placeholder tokens per image when `tokenizer` is a VLM processor, else None."""
    return getattr(vlm_processor(tokenizer), "image_seq_length", None)


class HFTeacher:
    """A local checkpoint: a causal LM, or a CrossAttnVLM (loaded with its processor)."""

    def __init__(self, path: str | Path, student_tokenizer: PreTrainedTokenizerBase | Any, batch_size: int = 8,
                 device: torch.device | str | None = None):
        from accelerate import PartialState

        model, tokenizer = load_model(Path(path), device=device or PartialState().device)
        self.processor = vlm_processor(tokenizer)
        problem = same_tokenizer(text_tokenizer(student_tokenizer), text_tokenizer(tokenizer))
        student_images, teacher_images = _image_tokens(student_tokenizer), _image_tokens(tokenizer)
        if not problem and student_images is not None and student_images != teacher_images:
            problem = (f"the student reads screenshots as {student_images} image tokens, the teacher as "
                       f"{teacher_images or 'none (a text-only model)'}")
        if problem:
            raise TokenizerMismatch(f"Teacher {path} cannot score the student's tokens: {problem}. On-policy "
                                    "distillation needs a teacher with the student's tokenizer (and, for a VLM "
                                    "student, a CrossAttnVLM with the same image token count).")
        self.model = model.eval()
        self.batch_size = batch_size
        self.vocab = len(text_tokenizer(student_tokenizer))

    @torch.no_grad()
    def score(self, sequences: list[list[int]], images: Images = None) -> list[list[float]]:
        """`batch_size` sequences per forward pass."""
        scores: list[list[float]] = []
        for start in range(0, len(sequences), self.batch_size):
            chunk = sequences[start:start + self.batch_size]
            length = max(map(len, chunk))
            ids = torch.tensor([s + [0] * (length - len(s)) for s in chunk])
            attention = torch.tensor([[1] * len(s) + [0] * (length - len(s)) for s in chunk])
            distributions = self.distributions(ids, attention, images[start:start + self.batch_size] if images else None)
            picked = distributions.gather(-1, ids[:, 1:, None].to(distributions.device)).squeeze(-1).float().cpu()
            scores += [[0.0] + row[: len(s) - 1].tolist() for row, s in zip(picked, chunk)]
        return scores

    @torch.no_grad()
    def distributions(self, ids: torch.Tensor, attention_mask: torch.Tensor, images: Images = None) -> torch.Tensor:
        """The teacher's whole next-token log-distribution (fp32) at every position of padded rows
        (`out[b, t]` for token t + 1), over the student tokenizer's ids only, with a VLM's image
        placeholder excluded (never sampled): what the exact reverse KL
        (`losses.reverse_kl_loss`) compares the student with."""
        device = self.model.device
        vision = vision_inputs(self.processor, images) if images else {}
        logits = self.model(input_ids=ids.to(device), attention_mask=attention_mask.to(device), use_cache=False,
                            **{k: v.to(device) for k, v in vision.items()}).logits[:, :-1].float()
        logits = policy_logits(self.model, logits)
        return torch.log_softmax(logits[..., : self.vocab], dim=-1)


class ServerTeacher:
    """Prompt log-probs from an OpenAI-compatible server (vLLM, SGLang) given token-id prompts."""

    def __init__(self, base_url: str, model: str, student_tokenizer: PreTrainedTokenizerBase, api_key: str = "EMPTY",
                 timeout_s: float = 120.0):
        self.base_url, self.model = base_url.rstrip("/"), model
        self.client = httpx.Client(headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout_s)
        self._check_tokenizer(student_tokenizer)

    def _check_tokenizer(self, student: PreTrainedTokenizerBase) -> None:
        """Compare the server's tokenization of a probe string with the student's (vLLM `/tokenize`)."""
        expected = student(TOKENIZER_PROBE, add_special_tokens=False)["input_ids"]
        root = self.base_url.removesuffix("/v1")
        try:
            response = self.client.post(f"{root}/tokenize", json={"model": self.model, "prompt": TOKENIZER_PROBE,
                                                                  "add_special_tokens": False})
            response.raise_for_status()
            served = response.json()["tokens"]
        except (httpx.HTTPError, KeyError, ValueError) as error:
            raise TokenizerMismatch(f"Cannot verify the teacher server's tokenizer at {root}/tokenize ({error}); "
                                    "on-policy distillation needs a server exposing /tokenize (vLLM does) and "
                                    "sharing the student's tokenizer.") from None
        if served != expected:
            raise TokenizerMismatch(f"Teacher server {self.model!r} tokenizes differently from the student "
                                    f"(probe gives {served[:8]}... vs {expected[:8]}...); use a teacher with "
                                    "the student's tokenizer.")

    def score(self, sequences: list[list[int]], images: Images = None) -> list[list[float]]:
        if images and any(image is not None for image in images):
            raise ValueError("A teacher server cannot score screenshots; use teacher kind 'hf' with a "
                             "CrossAttnVLM checkpoint for a VLM student.")
        body = {"model": self.model, "prompt": sequences, "max_tokens": 1, "temperature": 0.0, "prompt_logprobs": 0,
                "echo": True, "logprobs": 0}
        try:
            response = self.client.post(f"{self.base_url}/completions", json=body)
            response.raise_for_status()
            choices = sorted(response.json()["choices"], key=lambda choice: choice["index"])
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as error:
            raise RuntimeError(f"Teacher server {self.base_url} failed to score a batch: {error}") from None
        if len(choices) != len(sequences):
            raise RuntimeError(f"Teacher server {self.base_url} returned {len(choices)} choices for {len(sequences)} "
                               "prompts; it must accept a batch of token-id prompts (vLLM does).")
        return [self._values(ids, choice) for ids, choice in zip(sequences, choices)]

    def _values(self, ids: list[int], choice: dict) -> list[float]:
        if choice.get("prompt_logprobs") is not None:
            values = [0.0 if entry is None else float(entry[str(token)]["logprob"])
                      for token, entry in zip(ids, choice["prompt_logprobs"])]
        else:
            values = [0.0 if v is None else float(v) for v in (choice.get("logprobs") or {}).get("token_logprobs", [])]
        if len(values) < len(ids):
            raise RuntimeError(f"Teacher server returned {len(values)} prompt log-probs for {len(ids)} tokens; it must "
                               "support prompt logprobs (vLLM `prompt_logprobs` or `echo` with `logprobs`).")
        return values[: len(ids)]


def make_teacher(settings: TeacherSettings, student_tokenizer: PreTrainedTokenizerBase | Any) -> Teacher:
    """The configured teacher; `student_tokenizer` is the student's tokenizer or VLM processor."""
    if settings.kind == "hf":
        return HFTeacher(settings.model, student_tokenizer, settings.batch_size)
    if not settings.base_url:
        raise ValueError("teacher.kind 'server' needs teacher.base_url (e.g. http://localhost:8000/v1).")
    if _image_tokens(student_tokenizer) is not None:
        raise ValueError("A VLM student needs a teacher that sees its screenshots; teacher kind 'server' scores "
                         "text only. Use kind 'hf' with a CrossAttnVLM checkpoint.")
    return ServerTeacher(settings.base_url, settings.model, student_tokenizer, settings.api_key)
