"""Distillation and RL through TRL's `GRPOTrainer` with coachgym episodes as rollouts, for a tiny
text student and a tiny CrossAttnVLM student: what the trainer trains on, and whole runs."""

from __future__ import annotations

import json

import pytest
import torch

from coachgym.training.distill import DistillConfig, run_distill
from coachgym.training.models import load_model
from coachgym.training.onpolicy import build_trainer
from coachgym.training.policy import policy_logits, text_tokenizer, vision_inputs
from coachgym.training.rl import RLConfig, run_rl
from coachgym.training.teacher import TeacherSettings, make_teacher

KINDS = ["text", "vlm"]


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


@pytest.fixture
def student(kind, request):
    """model, teacher, suite and two tasks of one kind of student."""
    if kind == "text":
        paths = request.getfixturevalue("student_path"), request.getfixturevalue("teacher_path"), "small-guess"
    else:
        paths = (request.getfixturevalue("vlm_student"), request.getfixturevalue("vlm_teacher"),
                 request.getfixturevalue("screen_suite"))
    return dict(zip(("model", "teacher", "suite"), paths)) | {"tasks": ["small-guess-8-3", "small-guess-8-6"]}


def settings(student: dict, **changes) -> dict:
    return dict(model=student["model"], suite=student["suite"], tasks=student["tasks"], iterations=2,
                tasks_per_iteration=2, samples_per_task=2, max_new_tokens=10, max_turns=2, save_every=1,
                report_to="none", progress=False, learning_rate=1e-3, teacher=TeacherSettings(model=str(student["teacher"])),
                ) | changes


def logprobs(model, ids, attention, width: int, images, processor, temperature: float = 1.0) -> torch.Tensor:
    """An independent forward pass: each completion token's log-prob at `temperature`, image placeholder excluded."""
    vision = vision_inputs(processor, images) if images else {}
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=attention, **vision).logits[:, -width - 1:-1].float()
    logp = torch.log_softmax(policy_logits(model, logits) / temperature, dim=-1)
    return logp.gather(-1, ids[:, -width:, None]).squeeze(-1)


def test_train_onpolicy_batch_masks_env_tokens_and_its_ratio_and_advantages_are_recomputed(student, kind):
    config = DistillConfig(**settings(student, output_dir="unused", temperature=0.7, minibatch_size=2))
    trainer = build_trainer(config, lambda tokenizer: make_teacher(config.teacher, tokenizer))
    batch = trainer._generate_and_score_completions([{"prompt": task} for task in student["tasks"] for _ in range(2)])
    rows, tokenizer = trainer.rows, text_tokenizer(trainer.processing_class)
    mask = (batch["completion_mask"] * batch["tool_mask"]).bool()

    # env tokens are masked: only what the policy sampled is 1 in env_mask, and it is what the trainer trains on
    for index, (completion, env_mask) in enumerate(zip(rows.completion_ids, rows.env_mask)):
        agent = tokenizer.decode([t for t, m in zip(completion, env_mask) if m])
        env = tokenizer.decode([t for t, m in zip(completion, env_mask) if not m])
        assert "<|im_start|>" not in agent and (not env or "<|im_start|>user" in env)
        assert batch["tool_mask"][index, : len(completion)].tolist() == env_mask
    if kind == "text":  # one sequence per episode, later turns inside it, masked
        assert len(rows.episode) == 4 and any(0 in m for m in rows.env_mask)
    else:  # one sequence per turn, each with its screenshot and the image placeholders in its prompt
        image_id = trainer.processor.image_token_id
        assert len(rows.episode) > 4 and all(image.shape == (32, 32, 3) for image in rows.images)
        assert all(p.count(image_id) == trainer.processor.image_seq_length for p in rows.prompt_ids)

    # the ratio's old log-probs are an exact recomputation (at the sampling temperature, with the screenshots)
    ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
    attention = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
    width = batch["completion_ids"].size(1)
    policy = trainer.accelerator.unwrap_model(trainer.model)
    expected = logprobs(policy, ids, attention, width, trainer.row_images, trainer.processor, temperature=0.7)
    assert torch.allclose(batch["old_per_token_logps"][mask], expected[mask], atol=1e-4)

    # the advantage is teacher minus student on agent tokens, zero on env tokens
    teacher, teacher_processor = load_model(student["teacher"])
    teacher_lp = logprobs(teacher.eval(), ids, attention, width, rows.images if kind == "vlm" else None,
                          teacher_processor if kind == "vlm" else None)
    assert torch.allclose(batch["advantages"][mask], (teacher_lp - expected)[mask], atol=1e-4)
    assert (batch["advantages"][~mask] == 0).all()

    # only agent tokens carry loss: any advantage on env tokens changes neither the loss nor its gradient
    trainer.current_gradient_accumulation_steps = 1
    parameters = [p for p in trainer.model.parameters() if p.requires_grad]

    def loss_and_gradient(advantages: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        loss = trainer._compute_loss(trainer.model, {**batch, "advantages": advantages})
        return loss, torch.autograd.grad(loss, parameters, allow_unused=True)

    loss, gradient = loss_and_gradient(batch["advantages"])
    noisy = batch["advantages"] + 100 * torch.randn_like(batch["advantages"]) * (~mask)
    noisy_loss, noisy_gradient = loss_and_gradient(noisy)
    assert float(loss) == pytest.approx(float(noisy_loss), abs=1e-6)
    assert any(g is not None and g.abs().sum() > 0 for g in gradient)
    assert all((a is None and b is None) or torch.allclose(a, b, atol=1e-6) for a, b in zip(gradient, noisy_gradient))


def read_metrics(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def test_train_onpolicy_distill_and_rl_train_checkpoint_and_resume(student, kind, tmp_path):
    config = DistillConfig(**settings(student, output_dir=tmp_path / "distill"))
    final = run_distill(config)
    before, _ = load_model(student["model"])
    after, processor = load_model(final)
    changed = [k for k, v in before.state_dict().items() if not torch.equal(v, after.state_dict()[k])]
    assert changed
    if kind == "vlm":
        assert type(after).__name__ == "CrossAttnVLMForConditionalGeneration" and processor.image_seq_length == 4
        assert any("high_res" in k or "cross_attn" in k for k in changed)  # the image path is trained too
    for step in (1, 2):  # one optimizer step per round here; TRL's checkpoints hold the optimizer and the state
        assert (tmp_path / "distill" / f"checkpoint-{step}" / "optimizer.pt").exists()
    logs = read_metrics(tmp_path / "distill")
    assert [log["round"] for log in logs] == [1, 2] and logs[-1]["env_steps"] > logs[0]["env_steps"] > 0
    assert all(log["reverse_kl"] == log["reverse_kl"] for log in logs)  # logged, not NaN

    run_distill(config.model_copy(update={"iterations": 3}))  # resumes at checkpoint-2: one more round
    logs = read_metrics(tmp_path / "distill")
    assert [log["round"] for log in logs] == [1, 2, 3] and logs[2]["env_steps"] > logs[1]["env_steps"]
    state = json.loads((tmp_path / "distill" / "checkpoint-3" / "trainer_state.json").read_text())
    assert state["global_step"] == 3

    rl = RLConfig(**{k: v for k, v in settings(student, output_dir=tmp_path / "rl").items() if k != "teacher"})
    assert (run_rl(rl) / "config.json").exists()
    assert [log["round"] for log in read_metrics(tmp_path / "rl")] == [1, 2]


def test_train_onpolicy_full_estimator_runs_several_epochs(student_path, teacher_path, tmp_path):
    student = {"model": student_path, "teacher": teacher_path, "suite": "small-guess", "tasks": ["small-guess-8-3"]}
    config = DistillConfig(**settings(student, output_dir=tmp_path, iterations=1, tasks_per_iteration=1,
                                      kl_estimator="full", epochs_per_batch=3, minibatch_size=1, temperature=0.6))
    rounds = []
    run_distill(config, on_round=rounds.append)
    assert len(rounds) == 1 and rounds[0]["step"] == 6 and 0 < rounds[0]["reverse_kl"] < float("inf")


def test_train_rollouts_keep_generating_in_step_while_another_process_plays(student_path):
    """Generation is collective across training processes, so a process whose episodes ended calls
    `generate([])` on every turn another process still plays."""
    from coachgym.training.evaluate import make_env
    from coachgym.training.policy import PolicyAgent, generate
    from coachgym.training.rollouts import play_batch

    model, tokenizer = load_model(student_path)
    envs = [make_env("small-guess", {"max_steps": 2}) for _ in range(2)]
    agents = [PolicyAgent(model, tokenizer, max_new_tokens=4) for _ in envs]
    calls, turns = [], iter(range(100))

    def generate_rows(rows):
        calls.append(len(rows))
        return generate(model, None, rows, tokenizer, max_new_tokens=4, seed=0) if rows else []

    other_process_turns = 5
    episodes = play_batch(envs, agents, [("small-guess-8-3", 0), ("small-guess-8-6", 0)], generate_rows,
                          lambda playing: next(turns) < other_process_turns or playing)
    assert calls == [2, 2, 0, 0, 0] and [e.env_steps for e in episodes] == [2, 2]
    for env in envs:
        env.close()


def test_train_onpolicy_vllm_with_a_vlm_student_fails_at_config_time(vlm_student, student_path, screen_suite,
                                                                     tmp_path):
    with pytest.raises(ValueError, match="vLLM cannot serve.*use_vllm: false"):
        RLConfig(model=vlm_student, output_dir=tmp_path, suite=screen_suite, use_vllm=True)
    with pytest.raises(ValueError, match="vLLM cannot serve"):
        DistillConfig(model=vlm_student, output_dir=tmp_path, suite=screen_suite, use_vllm=True,
                      teacher=TeacherSettings(model=str(vlm_student)))
    assert RLConfig(model=vlm_student, output_dir=tmp_path, suite=screen_suite).use_vllm is False
    assert RLConfig(model=student_path, output_dir=tmp_path, suite="small-guess", use_vllm=True).use_vllm
