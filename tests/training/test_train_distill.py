"""Distillation's estimators and teachers: the tempered objective both estimators optimise, and
teachers that score the student's own ids (locally, or a VLM with the screenshots)."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM

from coachgym.training.distill import DistillConfig
from coachgym.training.losses import reverse_kl_loss
from coachgym.training.models import load_model
from coachgym.training.teacher import HFTeacher, TeacherSettings, TokenizerMismatch
from coachgym.training.tiny import build_model, build_tokenizer, save_tiny


def sampled_estimator_gradient(logits: torch.Tensor, teacher: torch.Tensor, temperature: float,
                               samples: torch.Tensor | None = None) -> torch.Tensor:
    """Gradient of TRL's token loss -ratio * A with A = log p_t(x) - log p_s^T(x): in exact
    expectation over x ~ p_s^T (weights p_s^T(x)), or averaged over drawn `samples`."""
    logits = logits.detach().requires_grad_(True)
    logp = torch.log_softmax(logits / temperature, dim=-1)
    advantage = (teacher - logp).detach()
    ratio = torch.exp(logp - logp.detach())
    if samples is None:
        loss = -(logp.exp().detach() * ratio * advantage).sum()
    else:
        loss = -(ratio[samples] * advantage[samples]).mean()
    (gradient,) = torch.autograd.grad(loss, logits)
    return gradient


def full_estimator_gradient(logits: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    logits = logits.detach().requires_grad_(True)
    loss = reverse_kl_loss(logits[None, None], teacher[None, None], torch.ones(1, 1), temperature)
    (gradient,) = torch.autograd.grad(loss, logits)
    return gradient


def test_train_full_estimator_follows_the_sampled_estimators_gradient_at_the_sampling_temperature():
    """At T = 0.6 both estimators descend KL(p_s^T || p_t): the full one exactly, the sampled one in
    expectation (and, from 20k draws, within sampling noise); the untempered divergence does not."""
    torch.manual_seed(0)
    logits = torch.randn(12) * 2
    teacher = torch.log_softmax(torch.randn(12) * 2, dim=-1)
    temperature = 0.6
    full = full_estimator_gradient(logits, teacher, temperature)
    expected = sampled_estimator_gradient(logits, teacher, temperature)
    assert torch.allclose(full, expected, atol=1e-6) and full.abs().sum() > 0
    draws = torch.multinomial(torch.softmax(logits / temperature, -1), 20_000, replacement=True)
    drawn = sampled_estimator_gradient(logits, teacher, temperature, draws)
    assert torch.cosine_similarity(full, drawn, dim=0) > 0.99
    untempered = full_estimator_gradient(logits, teacher, 1.0)
    assert torch.cosine_similarity(untempered, expected, dim=0) < 0.95


def test_train_full_reverse_kl_skips_masked_positions_and_impossible_entries():
    """Masked positions and entries outside both distributions (a VLM's image placeholder, -inf)
    contribute nothing, not NaN."""
    logits = torch.tensor([[[0.3, -1.0, 2.0, 0.5, float("-inf")], [9.0, 9.0, 9.0, 9.0, float("-inf")]]],
                          requires_grad=True)
    teacher = torch.log_softmax(torch.tensor([1.0, 0.0, -1.0, 2.0, float("-inf")]), 0)
    loss = reverse_kl_loss(logits, torch.stack([teacher, teacher])[None], torch.tensor([[1.0, 0.0]]))
    (grad,) = torch.autograd.grad(loss, logits)
    probs = torch.softmax(logits[0, 0, :4].detach(), 0)
    assert float(loss) == pytest.approx(float((probs * (probs.log() - teacher[:4])).sum()), abs=1e-6)
    assert torch.isfinite(grad).all() and grad[0, 1].abs().sum() == 0 and grad[0, 0, 4] == 0


def test_train_teacher_scores_and_distributions_agree_with_the_model(student_path, teacher_path, tokenizer):
    teacher = HFTeacher(teacher_path, tokenizer, batch_size=2)
    sequences = [tokenizer("Thought: guess. Action: guess(4)")["input_ids"], tokenizer("Range 1..8.")["input_ids"],
                 tokenizer("Action: guess(2)<|im_end|>")["input_ids"]]
    scores = teacher.score(sequences)
    model = AutoModelForCausalLM.from_pretrained(teacher_path).eval()
    for ids, values in zip(sequences, scores):
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0], -1)
        assert values[0] == 0.0
        assert values[1:] == pytest.approx([float(logp[t, ids[t + 1]]) for t in range(len(ids) - 1)], abs=1e-5)
    padded = torch.tensor([sequences[0]])
    distributions = teacher.distributions(padded, torch.ones_like(padded))
    assert distributions.shape[-1] == len(tokenizer)
    assert torch.allclose(distributions.exp().sum(-1), torch.ones(distributions.shape[:2]), atol=1e-5)


def test_train_full_kl_refuses_a_teacher_server():
    with pytest.raises(ValueError, match="whole next-token distribution.*hf"):
        DistillConfig(model="s", output_dir="o", suite="small-guess", kl_estimator="full",
                      teacher=TeacherSettings(kind="server", model="t", base_url="http://localhost:8000/v1"))


def test_train_teacher_with_another_tokenizer_is_refused(tmp_path, tokenizer):
    other = build_tokenizer(["completely different text"] * 5, vocab_size=300)
    path = save_tiny(build_model(other, hidden_size=16, layers=1), other, tmp_path / "other")
    with pytest.raises(TokenizerMismatch, match="same|tokenizer"):
        HFTeacher(path, tokenizer)


def test_train_vlm_student_refuses_a_text_only_teacher(vlm_student, teacher_path):
    _, processor = load_model(vlm_student)
    with pytest.raises(TokenizerMismatch):
        HFTeacher(teacher_path, processor)


def test_train_policy_prompts_match_the_envs_expert_format():
    """On-policy episodes must be prompted exactly like the SFT data the experts produced."""
    from types import SimpleNamespace

    from coachgym.agents.prompts import AgentBenchOSPrompt, PromptBuilder
    from coachgym.envs.core import Task
    from coachgym.training.policy import PolicyAgent
    from coachgym.training.tiny import CHAT_TEMPLATE

    model = SimpleNamespace(config=SimpleNamespace(_name_or_path=""))
    agent = PolicyAgent(model=model, tokenizer=SimpleNamespace(chat_template=CHAT_TEMPLATE))
    info = {"env": "shell", "actions": "- bash", "doc": ""}
    agent.start_episode(Task(id="t", env="shell", goal="g"), info)
    assert isinstance(agent.prompts, AgentBenchOSPrompt)
    agent.start_episode(Task(id="t", env="guess", goal="g"), {**info, "env": "guess"})
    assert type(agent.prompts) is PromptBuilder
