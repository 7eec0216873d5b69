"""On-policy distillation and RL: advantages, the loss gradient, token bookkeeping, the loop."""

from __future__ import annotations

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from coachgym.training.distill import DistillConfig, distill_advantage, run_distill
from coachgym.training.evaluate import make_env, play
from coachgym.training.losses import (group_baseline_advantages, importance_sampled_pg_loss, next_token_logits,
                                     pad_episodes, reverse_kl_loss, token_logprobs)
from coachgym.training.policy import PolicyAgent
from coachgym.training.onpolicy import update
from coachgym.training.rl import RLConfig, run_rl
from coachgym.training.teacher import HFTeacher, TeacherSettings, TokenizerMismatch
from coachgym.training.tiny import build_model, build_tokenizer, save_tiny


@pytest.fixture(scope="module")
def student_rollouts(student_path, suite):
    model = AutoModelForCausalLM.from_pretrained(student_path)
    tokenizer = AutoTokenizer.from_pretrained(student_path)
    agent = PolicyAgent(model, tokenizer, temperature=1.0, max_new_tokens=12, seed=3)
    env = make_env(suite)
    episodes = play(env, agent, [("small-guess-8-3", 0), ("small-guess-8-3", 1), ("small-guess-8-6", 0)])
    env.close()
    return model, tokenizer, episodes


def test_train_sampled_tokens_are_kept_and_logprobs_match_the_student(student_rollouts):
    model, tokenizer, episodes = student_rollouts
    for trajectory, tokens in episodes:
        sampled = [i for i, m in zip(tokens.ids, tokens.mask) if m]
        assert sampled == [t for step in trajectory.steps for t in step.token_ids]  # verbatim, never re-tokenized
        assert trajectory.steps[0].observation in tokenizer.decode(tokens.ids)
    batch = pad_episodes([e for _, e in episodes], tokenizer.pad_token_id)
    recomputed = token_logprobs(model.eval(), batch["ids"], batch["attention_mask"])
    mask = batch["mask"].bool()
    assert torch.allclose(recomputed[mask], batch["sampler_logprobs"][mask], atol=1e-4)


def test_train_distill_advantage_is_teacher_minus_student_on_sampled_tokens(student_rollouts, teacher_path):
    _, tokenizer, episodes = student_rollouts
    teacher = HFTeacher(teacher_path, tokenizer)
    batch = pad_episodes([e for _, e in episodes], tokenizer.pad_token_id)
    advantages, extra = distill_advantage(teacher)(batch, [t for t, _ in episodes], ["a", "a", "b"])
    teacher_model = AutoModelForCausalLM.from_pretrained(teacher_path).eval()
    for row, (_, tokens) in enumerate(episodes):
        with torch.no_grad():
            logits = teacher_model(input_ids=torch.tensor([tokens.ids])).logits[0]
        for position, (token, sampled) in enumerate(zip(tokens.ids, tokens.mask)):
            if sampled:
                teacher_lp = float(torch.log_softmax(logits[position - 1], -1)[token])
                expected = teacher_lp - tokens.sampler_logprobs[position]
                assert float(advantages[row, position]) == pytest.approx(expected, abs=1e-4)
            else:
                assert float(advantages[row, position]) == 0.0  # observation tokens carry no advantage
    assert extra["reverse_kl"] == pytest.approx(-float(advantages.sum() / batch["mask"].sum()))


def test_train_pg_loss_gradient_is_the_reverse_kl_gradient_on_a_toy_distribution():
    """With every outcome x weighted by its probability, the importance-sampled loss with
    A = log T(x) - log p(x) has exactly the gradient of KL(p || T)."""
    logits = torch.tensor([0.3, -1.0, 2.0, 0.5, -0.2], requires_grad=True)
    teacher = torch.log_softmax(torch.tensor([1.0, 0.0, -1.0, 2.0, 0.1]), 0)
    logp = torch.log_softmax(logits, 0)
    sampler = logp.detach()
    advantages = teacher - sampler
    loss = importance_sampled_pg_loss(logp[None], sampler[None], advantages[None], sampler.exp()[None])
    (grad,) = torch.autograd.grad(loss, logits)
    probs = torch.softmax(logits, 0)
    reverse_kl = (probs * (torch.log(probs) - teacher)).sum()
    (expected,) = torch.autograd.grad(reverse_kl, logits)
    assert torch.allclose(grad, expected, atol=1e-6)
    assert grad.abs().sum() > 0


def test_train_full_reverse_kl_is_the_exact_divergence_and_its_gradient():
    """`kl_estimator: full` minimises what the one-sample advantage estimates: KL(p || T) summed
    over the vocabulary, with its exact gradient; masked positions and entries outside both
    distributions (a VLM's image placeholder, -inf) contribute nothing, not NaN."""
    logits = torch.tensor([[[0.3, -1.0, 2.0, 0.5, float("-inf")], [9.0, 9.0, 9.0, 9.0, float("-inf")]]],
                          requires_grad=True)
    teacher = torch.log_softmax(torch.tensor([1.0, 0.0, -1.0, 2.0, float("-inf")]), 0)
    mask = torch.tensor([[0.0, 1.0, 0.0]])  # position t scores token t: only the first distribution counts
    loss = reverse_kl_loss(logits, torch.stack([teacher, teacher])[None], mask)
    (grad,) = torch.autograd.grad(loss, logits)
    probs = torch.softmax(logits[0, 0, :4], 0)
    reverse_kl = (probs * (torch.log(probs) - teacher[:4])).sum()
    assert float(loss.detach()) == pytest.approx(float(reverse_kl.detach()), abs=1e-6)
    (expected,) = torch.autograd.grad(reverse_kl, logits)
    assert torch.allclose(grad[0, 0, :4], expected[0, 0, :4], atol=1e-6)
    assert torch.isfinite(grad).all() and grad[0, 1].abs().sum() == 0 and grad[0, 0, 4] == 0


def test_train_teacher_distributions_agree_with_its_scores(student_rollouts, teacher_path):
    _, tokenizer, episodes = student_rollouts
    teacher = HFTeacher(teacher_path, tokenizer)
    batch = pad_episodes([e for _, e in episodes], tokenizer.pad_token_id)
    distributions = teacher.distributions(batch["ids"], batch["attention_mask"])
    assert distributions.shape[-1] == len(tokenizer)
    assert torch.allclose(distributions.exp().sum(-1), torch.ones(distributions.shape[:2]), atol=1e-5)
    picked = distributions.gather(-1, batch["ids"][:, 1:, None]).squeeze(-1)
    for row, (_, tokens) in enumerate(episodes):
        scores = teacher.score([tokens.ids])[0]
        assert picked[row, : len(tokens.ids) - 1].tolist() == pytest.approx(scores[1:], abs=1e-5)


def test_train_full_kl_updates_pull_the_student_onto_the_teacher(student_rollouts, teacher_path):
    """Many epochs at the same contexts: the exact KL falls steadily (the one-sample advantage's
    importance ratio would be overfit there)."""
    model, tokenizer, episodes = student_rollouts
    student = AutoModelForCausalLM.from_pretrained(model.name_or_path)
    teacher = HFTeacher(teacher_path, tokenizer)
    batch = pad_episodes([e for _, e in episodes], tokenizer.pad_token_id)
    config = DistillConfig(model=model.name_or_path, output_dir="unused", suite="small-guess", learning_rate=3e-3,
                           epochs_per_batch=10, minibatch_size=2, teacher=TeacherSettings(model=str(teacher_path)),
                           kl_estimator="full")
    optimizer = torch.optim.AdamW(student.parameters(), lr=config.learning_rate)

    def divergence() -> float:
        with torch.no_grad():
            logits = next_token_logits(student, batch["ids"], batch["attention_mask"])
        return float(reverse_kl_loss(logits, teacher.distributions(batch["ids"], batch["attention_mask"]),
                                     batch["mask"]))

    before = divergence()
    rewardless = distill_advantage(teacher, kl_estimator="full")
    _, extra = update(student, optimizer, config, [e for _, e in episodes], [t for t, _ in episodes], rewardless,
                      tokenizer, teacher.distributions)
    assert divergence() < 0.5 * before
    assert 0 < extra["reverse_kl"] < before * 1.01  # the mean over the round's steps, which start at `before`


def test_train_full_kl_refuses_a_teacher_server():
    with pytest.raises(ValueError, match="whole next-token distribution.*hf"):
        DistillConfig(model="s", output_dir="o", suite="small-guess", kl_estimator="full",
                      teacher=TeacherSettings(kind="server", model="t", base_url="http://localhost:8000/v1"))


def test_train_group_baseline_centres_rewards_per_task():
    mask = torch.ones(4, 2)
    advantages = group_baseline_advantages([1.0, 0.0, 1.0, 1.0], ["a", "a", "b", "b"], mask)
    assert advantages[:, 0].tolist() == [0.5, -0.5, 0.0, 0.0]


def test_train_teacher_with_another_tokenizer_is_refused(tmp_path, tokenizer):
    other = build_tokenizer(["completely different text"] * 5, vocab_size=300)
    path = save_tiny(build_model(other, hidden_size=16, layers=1), other, tmp_path / "other")
    with pytest.raises(TokenizerMismatch, match="same|tokenizer"):
        HFTeacher(path, tokenizer)


def test_train_distill_and_rl_loops_run_checkpoint_and_resume(tmp_path, student_path, teacher_path):
    common = dict(model=student_path, suite="small-guess", tasks=["small-guess-8-2", "small-guess-8-5"],
                  iterations=2, tasks_per_iteration=2, samples_per_task=2, max_new_tokens=10, max_turns=2,
                  save_every=1, report_to="none", progress=False, learning_rate=1e-3)
    distill = DistillConfig(output_dir=tmp_path / "distill", teacher=TeacherSettings(model=str(teacher_path)),
                            **common)
    final = run_distill(distill)
    before = AutoModelForCausalLM.from_pretrained(student_path).state_dict()
    after = AutoModelForCausalLM.from_pretrained(final).state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    logs = [json.loads(line) for line in (tmp_path / "distill" / "metrics.jsonl").read_text().splitlines()]
    assert [log["iteration"] for log in logs] == [1, 2] and logs[-1]["env_steps"] > 0
    run_distill(distill.model_copy(update={"iterations": 3}))  # resumes at checkpoint-2: one more round
    logs = [json.loads(line) for line in (tmp_path / "distill" / "metrics.jsonl").read_text().splitlines()]
    assert [log["iteration"] for log in logs] == [1, 2, 3]
    assert logs[2]["env_steps"] > logs[1]["env_steps"]
    full = distill.model_copy(update={"output_dir": tmp_path / "full", "kl_estimator": "full", "epochs_per_batch": 2})
    logs = []
    run_distill(full, on_iteration=logs.append)
    assert [log.iteration for log in logs] == [1, 2] and all(log.extra["reverse_kl"] > 0 for log in logs)
    rl_final = run_rl(RLConfig(output_dir=tmp_path / "rl", **{**common, "report_to": ["tensorboard"]}))
    assert (rl_final / "config.json").exists()
    events = EventAccumulator(str(tmp_path / "rl" / "runs")).Reload()
    assert [e.step for e in events.Scalars("train/rollout_reward")] == [1, 2]
    assert {"train/loss", "train/env_steps", "train/sampled_tokens"} <= set(events.Tags()["scalars"])


def test_train_on_policy_runs_repeat_exactly_for_a_seed(tmp_path, student_path, teacher_path):
    """Sampling and minibatch order come from the config's seed, not the process's global RNG, so
    a rerun (e.g. with the teacher and warm start already cached, which skips work that consumes
    the global RNG) reproduces the run."""
    config = DistillConfig(model=student_path, output_dir=tmp_path / "a", suite="small-guess",
                           tasks=["small-guess-8-2"], iterations=1, tasks_per_iteration=1, samples_per_task=3,
                           max_new_tokens=8, max_turns=2, minibatch_size=1, learning_rate=1e-2, report_to="none",
                           progress=False, seed=7, teacher=TeacherSettings(model=str(teacher_path)))
    weights = []
    for name, global_seed in (("a", 0), ("b", 1)):
        torch.manual_seed(global_seed)
        final = run_distill(config.model_copy(update={"output_dir": tmp_path / name}))
        weights.append(AutoModelForCausalLM.from_pretrained(final).state_dict())
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


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
