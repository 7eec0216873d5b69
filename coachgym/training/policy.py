"""A transformers causal LM as a coachgym `Agent` that keeps exactly what it sampled.

On-policy training needs, per episode, the token sequence the model actually conditioned on and
produced, which tokens it sampled (the only ones trained), and the log-probs it sampled them with.
`PolicyAgent` builds that sequence incrementally: sampled ids are appended verbatim and only the
new environment text is tokenized, so sampled text is never re-tokenized. The chat template must
render each conversation as a prefix of its continuation (ChatML-style templates do); the agent
refuses clearly when it does not. A turn is split in two (`begin_turn` renders the row to sample
from, `end_turn` records what was sampled) so that a trainer can sample many episodes' turns in
one batched generation (`rollouts.play_batch`); `act` does both around `generate` for
evaluation and RFT.

Given a CrossAttnVLM and its processor, the agent reads the current screenshot the way the `hf:`
agent and vision SFT do (one image per sample: earlier turns as text, the newest observation with
its image). The episode sequence is then the text-only history, and each turn also records the row
the model really saw: the history's ids verbatim, this turn's user message with its image
placeholders, and the sampled ids, with the screenshot. Those rows are what training scores.

This module samples and records; it must not compute losses or update weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from coachgym.agents.base import Agent, AgentOutput, ContextLimitExceeded
from coachgym.agents.prompts import PromptBuilder, prompt_builder
from coachgym.envs.core import Task


class EpisodeTokens(BaseModel):
    """One episode as the model saw it: `mask[i]` is 1 where `ids[i]` was sampled by the policy,
    and `sampler_logprobs[i]` is its log-prob under the sampling distribution (0 elsewhere).

    `image` is the screenshot a row's image placeholders stand for. A VLM episode's own sequence
    leaves screenshots out; its `turns` hold one row per turn, each with that turn's screenshot."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    ids: list[int] = []
    mask: list[int] = []
    sampler_logprobs: list[float] = []
    image: np.ndarray | None = None
    turns: list[EpisodeTokens] = []

    def extend(self, ids: list[int], sampled: bool, logprobs: list[float] | None = None) -> None:
        self.ids += ids
        self.mask += [int(sampled)] * len(ids)
        self.sampler_logprobs += logprobs if logprobs is not None else [0.0] * len(ids)

    def context(self) -> EpisodeTokens:
        """These ids as the untrained context of a new row (mask and log-probs zero)."""
        return EpisodeTokens(ids=list(self.ids), mask=[0] * len(self.ids), sampler_logprobs=[0.0] * len(self.ids))

    def rows(self) -> list[EpisodeTokens]:
        """The sequences to score: the episode itself, or one row per turn for a VLM episode."""
        return self.turns or [self]


def policy_logits(model: PreTrainedModel, logits: torch.Tensor) -> torch.Tensor:
    """The logits the policy samples from: a VLM never emits its image placeholder (a sampled one
    would read as an image slot in every later turn), so it is removed from the distribution."""
    placeholder = getattr(model.config, "image_token_id", None)
    if placeholder is None:
        return logits
    logits = logits.clone()
    logits[..., placeholder] = float("-inf")
    return logits


def vlm_processor(tokenizer: Any) -> Any | None:
    """`tokenizer` itself when it is a CrossAttnVLM processor (what `load_model` returns for a VLM
    checkpoint in place of a tokenizer), else None: training code takes either and branches on this."""
    return tokenizer if hasattr(tokenizer, "image_token") else None


def text_tokenizer(tokenizer: Any) -> PreTrainedTokenizerBase:
    """The text tokenizer: the one inside a VLM processor, or `tokenizer` itself."""
    return getattr(tokenizer, "tokenizer", tokenizer)


def vision_inputs(processor: Any, images: list[np.ndarray | None]) -> dict[str, torch.Tensor]:
    """`pixel_values` and `high_res_pixel_values` for the rows that have a screenshot, in row order
    (what a CrossAttnVLM expects next to a batch of rows); empty when none has one."""
    pairs = [processor.preprocess_image(image) for image in images if image is not None]
    if not pairs:
        return {}
    return {"pixel_values": torch.stack([low for low, _ in pairs]),
            "high_res_pixel_values": torch.stack([high for _, high in pairs])}


class PolicyAgent(Agent):
    """Samples actions from `model` (temperature, or greedy) and records `episode` tokens.

    `tokenizer` is the model's tokenizer, or a CrossAttnVLM's processor (then screenshots are read)."""

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase | Any, temperature: float = 1.0,
                 greedy: bool = False, max_new_tokens: int = 64, max_context: int = 2048,
                 prompts: PromptBuilder | None = None, seed: int = 0, name: str = "policy"):
        self.processor = vlm_processor(tokenizer)
        tokenizer = text_tokenizer(tokenizer)
        if self.processor is None and tokenizer.chat_template is None:
            raise ValueError("The tokenizer has no chat template; PolicyAgent renders turns with it. "
                             "Set tokenizer.chat_template (see coachgym.training.tiny.CHAT_TEMPLATE).")
        self.lm, self.tokenizer = model, tokenizer
        self.temperature, self.greedy = temperature, greedy
        self.max_new_tokens, self.max_context = max_new_tokens, max_context
        # None: each episode uses its env's own format (AgentBench for shell/database), exactly as
        # the scripted experts that produced the SFT data did, so on-policy prompts match training.
        self.fixed_prompts = prompts
        self.generator = torch.Generator().manual_seed(seed)
        self.name = name
        self.model = getattr(model.config, "_name_or_path", None) or None
        self.episode = EpisodeTokens()

    def start_episode(self, task: Task, env_info: dict[str, Any]) -> None:
        self.prompts = self.fixed_prompts or prompt_builder(task.env)
        self.system_prompt = self.prompts.system(env_info)
        self.messages: list[dict[str, str]] = [{"role": "system", "content": self.system_prompt}]
        self.episode = EpisodeTokens()
        self._rendered = ""

    def _render(self, messages: list[dict[str, Any]]) -> str:
        if self.processor is not None:
            return self.processor.render(messages, add_generation_prompt=True)
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def _new_ids(self, messages: list[dict[str, Any]]) -> tuple[str, list[int]]:
        """The rendered chat and the ids of what it adds to the episode so far (image markers
        expanded to the VLM's placeholder run)."""
        text = self._render(messages)
        if not text.startswith(self._rendered):
            raise ValueError("The chat template does not render a conversation as a prefix of its continuation, "
                             "so sampled tokens cannot be kept verbatim; use a ChatML-style template.")
        new = text[len(self._rendered):]
        if self.processor is not None:
            new = self.processor.expand_image_tokens(new)
        return text, self.tokenizer(new, add_special_tokens=False)["input_ids"]

    def reseed(self, seed: int) -> None:
        self.generator.manual_seed(seed)

    def begin_turn(self, observation: dict[str, Any]) -> EpisodeTokens:
        """Render this observation as the next user turn; returns the row the model samples from
        (its ids, and its screenshot for a VLM). Raises `ContextLimitExceeded` when the row and
        `max_new_tokens` would not fit `max_context`."""
        prompt = self.prompts.user_turn(observation, first=len(self.messages) == 1)
        self.messages.append({"role": "user", "content": prompt})
        self._turn_text, self._turn_ids = self._new_ids(self.messages)
        self._turn_prompt = prompt
        row = self.episode.context()
        screenshot = observation.get("screenshot") if self.processor is not None else None
        if screenshot is not None:  # the model sees this turn with its image; the history keeps the text
            seen = [{"type": "image"}, {"type": "text", "text": prompt}]
            row.extend(self._new_ids(self.messages[:-1] + [{"role": "user", "content": seen}])[1], sampled=False)
            row.image = np.asarray(screenshot)
        else:
            row.extend(self._turn_ids, sampled=False)
        if len(row.ids) + self.max_new_tokens > self.max_context:
            raise ContextLimitExceeded(f"{len(row.ids)} tokens + {self.max_new_tokens} new "
                                       f"exceed max_context={self.max_context}.")
        self._row = row
        return row

    def end_turn(self, sampled: list[int], logprobs: list[float] | None = None) -> AgentOutput:
        """Record what the model sampled for the row of `begin_turn` (verbatim) and return the action."""
        logprobs = logprobs if logprobs is not None else [0.0] * len(sampled)
        self.episode.extend(self._turn_ids, sampled=False)
        self.episode.extend(sampled, sampled=True, logprobs=logprobs)
        if self.processor is not None:
            self._row.extend(sampled, sampled=True, logprobs=logprobs)
            self.episode.turns.append(self._row)
        content_ids = sampled[:-1] if sampled and sampled[-1] == self.tokenizer.eos_token_id else sampled
        content = self.tokenizer.decode(content_ids, skip_special_tokens=False)
        self.messages.append({"role": "assistant", "content": content})
        self._rendered = self._turn_text + self.tokenizer.decode(sampled, skip_special_tokens=False)
        return AgentOutput(text=content, prompt=self._turn_prompt, token_ids=sampled, logprobs=logprobs,
                           usage={"prompt_tokens": len(self._turn_ids), "completion_tokens": len(sampled)})

    def act(self, observation: dict[str, Any]) -> AgentOutput:
        row = self.begin_turn(observation)
        seed = int(torch.randint(2**31, (1,), generator=self.generator))
        (sampled, logprobs), = generate(self.lm, self.processor, [row], self.tokenizer, temperature=self.temperature,
                                       greedy=self.greedy, max_new_tokens=self.max_new_tokens, seed=seed)
        return self.end_turn(sampled, logprobs)


@torch.no_grad()
def generate(model: PreTrainedModel, processor: Any | None, rows: list[EpisodeTokens],
             tokenizer: PreTrainedTokenizerBase, temperature: float = 1.0, greedy: bool = False,
             max_new_tokens: int = 64, seed: int | None = None) -> list[tuple[list[int], list[float]]]:
    """One batched `generate` over `rows` (left-padded; a VLM row with its screenshot): each row's
    sampled ids up to and including EOS, with the log-probs of the distribution they were drawn
    from (temperature-scaled, image placeholder excluded), which is what an importance ratio divides by."""
    was_training = model.training
    model.eval()
    device = model.device
    width = max(len(row.ids) for row in rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    ids = torch.tensor([[pad] * (width - len(r.ids)) + r.ids for r in rows], device=device)
    attention = torch.tensor([[0] * (width - len(r.ids)) + [1] * len(r.ids) for r in rows], device=device)
    images = vision_inputs(processor, [row.image for row in rows]) if processor is not None else {}
    placeholder = getattr(model.config, "image_token_id", None)
    sampling = {"do_sample": False} if greedy else {"do_sample": True, "temperature": temperature, "top_k": 0,
                                                    "top_p": 1.0}
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        if seed is not None:
            torch.manual_seed(seed)
        out = model.generate(input_ids=ids, attention_mask=attention, max_new_tokens=max_new_tokens,
                             return_dict_in_generate=True, output_scores=True, pad_token_id=pad,
                             eos_token_id=tokenizer.eos_token_id,
                             suppress_tokens=[placeholder] if placeholder is not None else None,
                             **{k: v.to(device) for k, v in images.items()}, **sampling)
    model.train(was_training)
    new = out.sequences[:, width:]
    logprobs = torch.log_softmax(torch.stack(out.scores, dim=1).float(), dim=-1)
    picked = logprobs.gather(-1, new[..., None]).squeeze(-1)
    results = []
    for row in range(len(rows)):
        tokens = new[row].tolist()
        end = next((i + 1 for i, t in enumerate(tokens) if t == tokenizer.eos_token_id), len(tokens))
        results.append((tokens[:end], picked[row, :end].tolist()))
    return results
