"""A transformers causal LM as a coachgym `Agent` that keeps exactly what it sampled.

On-policy training needs, per episode, the token sequence the model actually conditioned on and
produced, which tokens it sampled (the only ones trained), and the log-probs it sampled them with
(the importance-sampling denominator). `PolicyAgent` builds that sequence incrementally: sampled
ids are appended verbatim and only the new environment text is tokenized, so sampled text is
never re-tokenized. The chat template must render each conversation as a prefix of its
continuation (ChatML-style templates do); the agent refuses clearly when it does not.

This module samples and records; it must not compute losses or update weights.
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import BaseModel
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from coachgym.agents.base import Agent, AgentOutput, ContextLimitExceeded
from coachgym.agents.prompts import PromptBuilder, prompt_builder
from coachgym.envs.core import Task


class EpisodeTokens(BaseModel):
    """One episode as the model saw it: `mask[i]` is 1 where `ids[i]` was sampled by the policy,
    and `sampler_logprobs[i]` is its log-prob under the sampling distribution (0 elsewhere)."""

    ids: list[int] = []
    mask: list[int] = []
    sampler_logprobs: list[float] = []

    def extend(self, ids: list[int], sampled: bool, logprobs: list[float] | None = None) -> None:
        self.ids += ids
        self.mask += [int(sampled)] * len(ids)
        self.sampler_logprobs += logprobs if logprobs is not None else [0.0] * len(ids)


class PolicyAgent(Agent):
    """Samples actions from `model` (temperature, or greedy) and records `episode` tokens."""

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, temperature: float = 1.0,
                 greedy: bool = False, max_new_tokens: int = 64, max_context: int = 2048,
                 prompts: PromptBuilder | None = None, seed: int = 0, name: str = "policy"):
        if tokenizer.chat_template is None:
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

    def act(self, observation: dict[str, Any]) -> AgentOutput:
        prompt = self.prompts.user_turn(observation, first=len(self.messages) == 1)
        self.messages.append({"role": "user", "content": prompt})
        text = self.tokenizer.apply_chat_template(self.messages, tokenize=False, add_generation_prompt=True)
        if not text.startswith(self._rendered):
            raise ValueError("The chat template does not render a conversation as a prefix of its continuation, "
                             "so sampled tokens cannot be kept verbatim; use a ChatML-style template.")
        new_ids = self.tokenizer(text[len(self._rendered):], add_special_tokens=False)["input_ids"]
        if len(self.episode.ids) + len(new_ids) + self.max_new_tokens > self.max_context:
            raise ContextLimitExceeded(f"{len(self.episode.ids) + len(new_ids)} tokens + {self.max_new_tokens} new "
                                       f"exceed max_context={self.max_context}.")
        self.episode.extend(new_ids, sampled=False)
        sampled, logprobs = self._sample(self.episode.ids)
        self.episode.extend(sampled, sampled=True, logprobs=logprobs)
        content_ids = sampled[:-1] if sampled and sampled[-1] == self.tokenizer.eos_token_id else sampled
        content = self.tokenizer.decode(content_ids, skip_special_tokens=False)
        self.messages.append({"role": "assistant", "content": content})
        self._rendered = text + self.tokenizer.decode(sampled, skip_special_tokens=False)
        return AgentOutput(text=content, prompt=prompt, token_ids=sampled, logprobs=logprobs,
                           usage={"prompt_tokens": len(new_ids), "completion_tokens": len(sampled)})

    @torch.no_grad()
    def _sample(self, context: list[int]) -> tuple[list[int], list[float]]:
        """Token-by-token sampling with the KV cache; log-probs are those of the distribution sampled
        from (temperature-scaled), which is what the importance ratio divides by."""
        was_training = self.lm.training
        self.lm.eval()
        device = self.lm.device
        inputs = torch.tensor([context], device=device)
        past = None
        tokens: list[int] = []
        logprobs: list[float] = []
        for _ in range(self.max_new_tokens):
            out = self.lm(input_ids=inputs, past_key_values=past, use_cache=True)
            past = out.past_key_values
            logits = out.logits[0, -1].float()
            logp = torch.log_softmax(logits / (1.0 if self.greedy else self.temperature), dim=-1)
            if self.greedy:
                token = int(torch.argmax(logp))
            else:
                token = int(torch.multinomial(logp.exp().cpu(), 1, generator=self.generator))
            tokens.append(token)
            logprobs.append(float(logp[token]))
            if token == self.tokenizer.eos_token_id:
                break
            inputs = torch.tensor([[token]], device=device)
        self.lm.train(was_training)
        return tokens, logprobs
