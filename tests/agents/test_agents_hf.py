"""HFAgent end to end: a tiny random Qwen2/Llama saved locally, driven through real episodes."""

from __future__ import annotations

import math

import pytest
import torch

from coachgym.agents.chat import ChatRequest, SamplingParams, act_batch
from coachgym.agents.hf import HFAgent, HFModel
from coachgym.agents.history import ELIDED
from coachgym.agents.registry import make_agent
from coachgym.envs.core import Outcome
from coachgym.envs.registry import make
from coachgym.trajectories.convert import step_messages
from coachgym.trajectories.rollout import run_episode


def test_agents_hf_episode_records_tokens_logprobs_and_exact_context(tiny_hf_model):
    agent = HFAgent(tiny_hf_model, max_new_tokens=8, context_limit=1100, seed=1)
    agent.name = "hf:tiny"
    seen = []
    trajectory = run_episode(make("guess"), agent, "guess-000", seed=0, on_step=lambda step, out: seen.append(out))
    assert trajectory.steps and trajectory.outcome in (Outcome.INVALID_FORMAT, Outcome.INVALID_ACTION,
                                                       Outcome.TASK_LIMIT_REACHED, Outcome.COMPLETED)
    tokenizer = tiny_hf_model.tokenizer
    for index, (step, output) in enumerate(zip(trajectory.steps, seen)):
        assert step.token_ids and len(step.token_ids) == len(step.logprobs) <= 8
        assert all(lp <= 0 and math.isfinite(lp) for lp in step.logprobs)
        assert tokenizer.decode(step.token_ids, skip_special_tokens=True) == step.action
        # training rebuilds the exact chat (and so the exact prompt ids) from the stored record
        rebuilt = step_messages(trajectory, index)
        assert rebuilt == output.messages
        assert tokenizer(tiny_hf_model.prompt_text(rebuilt), add_special_tokens=False).input_ids == output.prompt_token_ids


def test_agents_hf_logprobs_match_a_forward_pass(tiny_hf_model):
    """Greedy decoding: the returned log-probs equal the model's own log-softmax at each position."""
    messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": "guess a number"}]
    out = tiny_hf_model.complete([ChatRequest(messages=messages, sampling=SamplingParams(temperature=0, max_new_tokens=6))])[0]
    ids = torch.tensor([out.prompt_token_ids + out.token_ids])
    with torch.no_grad():
        logits = tiny_hf_model.model(ids).logits[0].float()
    start = len(out.prompt_token_ids)
    expected = [torch.log_softmax(logits[start - 1 + i], -1)[t].item() for i, t in enumerate(out.token_ids)]
    assert out.logprobs == pytest.approx(expected, abs=1e-4)


def test_agents_hf_batched_generation_matches_single(tiny_hf_model):
    """Left-padded batches give each row the same greedy tokens as generating it alone."""
    params = SamplingParams(temperature=0, max_new_tokens=5)
    short = ChatRequest(messages=[{"role": "user", "content": "hi"}], sampling=params)
    long = ChatRequest(messages=[{"role": "user", "content": "a much longer message " * 5}], sampling=params)
    batched = tiny_hf_model.complete([short, long])
    assert [o.token_ids for o in batched] == [tiny_hf_model.complete([r])[0].token_ids for r in (short, long)]


def test_agents_hf_context_budget_elides_then_ends_episode(tiny_hf_model):
    agent = HFAgent(tiny_hf_model, max_new_tokens=4, context_limit=900, seed=0)
    agent.name = "hf:tiny"
    trajectory = run_episode(make("guess", max_steps=40, max_invalid_actions=100), agent, "guess-001", seed=0)
    assert trajectory.outcome is Outcome.CONTEXT_LIMIT
    elided = [s for s in trajectory.steps if s.context is not None]
    assert elided, "older observations should be elided before the limit is hit"
    rebuilt = step_messages(trajectory, elided[0].index)
    assert any(m["content"] == ELIDED for m in rebuilt)


def test_agents_hf_llama_from_spec_string(tmp_path):
    from coachgym.agents.tiny import build_tiny_chat_model

    path = build_tiny_chat_model(tmp_path / "llama", arch="llama")
    agent = make_agent(f"hf:{path}?temperature=0.7&max_new_tokens=3")
    assert agent.sampling.temperature == 0.7 and agent.sampling.max_new_tokens == 3
    assert agent.backend.model.config.model_type == "llama"
    trajectory = run_episode(make("guess", max_steps=2), agent, "guess-002", seed=5)
    assert trajectory.agent.startswith("hf:") and all(s.token_ids for s in trajectory.steps)


def test_agents_hf_missing_checkpoint_is_one_clear_error(tmp_path):
    with pytest.raises(OSError, match="save_pretrained"):
        HFModel(str(tmp_path / "nothing-here"))


def test_agents_hf_act_batch_equals_acting_alone(tiny_hf_model):
    """Three episodes stepped with one generate call give what each agent gives alone."""
    tasks = ["guess-000", "guess-001", "guess-002"]

    def agents_and_observations():
        agents, observations = [], []
        for task_id in tasks:
            env = make("guess")
            observation, _ = env.reset(seed=0, options={"task_id": task_id})
            agent = HFAgent(tiny_hf_model, temperature=0, max_new_tokens=5)
            agent.start_episode(env.unwrapped.task, env.unwrapped.prompt_info())
            agents.append(agent)
            observations.append(observation)
        return agents, observations

    agents, observations = agents_and_observations()
    batched = act_batch(agents, observations)
    agents, observations = agents_and_observations()
    alone = [agent.act(observation) for agent, observation in zip(agents, observations)]
    assert [o.token_ids for o in batched] == [o.token_ids for o in alone]
    assert [o.messages for o in batched] == [o.messages for o in alone]
