"""On-policy distillation and RL of the CrossAttnVLM: screenshots in sampling, teacher scoring and the loss."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from coachgym.training.distill import DistillConfig, distill_advantage, run_distill
from coachgym.training.evaluate import make_env, play
from coachgym.training.losses import pad_episodes, token_logprobs
from coachgym.training.policy import PolicyAgent, vision_inputs
from coachgym.training.rl import RLConfig, run_rl
from coachgym.training.sft import load_model
from coachgym.training.tasks import small_guess_suite
from coachgym.training.teacher import HFTeacher, TeacherSettings, TokenizerMismatch
from coachgym.training.tiny import build_vlm, build_vlm_tokenizer, save_tiny, trajectory_texts

TASKS = ["small-guess-8-3", "small-guess-8-6"]


@pytest.fixture(scope="module")
def screen_suite(tmp_path_factory):
    path = tmp_path_factory.mktemp("suite") / "screen-guess.json"
    small_guess_suite(screen=32).save(path)
    return str(path)


@pytest.fixture(scope="module")
def vlm_tokenizer(demo_store):
    trajectories, _ = demo_store.load()
    return build_vlm_tokenizer(trajectory_texts(trajectories))


@pytest.fixture(scope="module")
def vlm_student(tmp_path_factory, vlm_tokenizer):
    model, processor = build_vlm(vlm_tokenizer, hidden_size=32, layers=1, high_res_image_size=28, seed=1)
    return save_tiny(model, processor, tmp_path_factory.mktemp("vlm-student"))


@pytest.fixture(scope="module")
def vlm_teacher(tmp_path_factory, vlm_tokenizer):
    model, processor = build_vlm(vlm_tokenizer, hidden_size=48, layers=2, high_res_image_size=42, seed=2)
    return save_tiny(model, processor, tmp_path_factory.mktemp("vlm-teacher"))


@pytest.fixture(scope="module")
def vlm_rollouts(vlm_student, screen_suite):
    model, processor = load_model(vlm_student)
    encoded = []
    model.model.high_res_vision_tower.register_forward_hook(lambda *_: encoded.append(1))
    agent = PolicyAgent(model, processor, temperature=1.0, max_new_tokens=10, seed=3)
    env = make_env(screen_suite, {"max_steps": 3})
    episodes = play(env, agent, [(TASKS[0], 0), (TASKS[0], 1), (TASKS[1], 0)])
    env.close()
    return model, processor, episodes, len(encoded)


def test_train_vlm_turn_rows_keep_sampled_ids_and_logprobs_match_with_the_screenshots(vlm_rollouts):
    model, processor, episodes, encoded = vlm_rollouts
    image_id = processor.image_token_id
    turns = sum(len(t.steps) for t, _ in episodes)
    assert encoded == turns  # the high-res image is encoded once per turn, then read from the cache
    for trajectory, tokens in episodes:
        assert len(tokens.turns) == len(trajectory.steps) and image_id not in tokens.ids  # history is text
        for step, row in zip(trajectory.steps, tokens.turns):
            assert [i for i, m in zip(row.ids, row.mask) if m] == step.token_ids  # verbatim, never re-tokenized
            assert row.ids.count(image_id) == processor.image_seq_length and row.image.shape == (32, 32, 3)
            start = len(row.ids) - len(step.token_ids)
            assert tokens.ids[: row.ids.index(image_id)] == row.ids[: row.ids.index(image_id)]
            assert row.ids[start:] == step.token_ids
    batch = pad_episodes([e for _, e in episodes], processor.tokenizer.pad_token_id)
    assert len(batch["ids"]) == turns and batch["episode"].tolist() == [
        index for index, (t, _) in enumerate(episodes) for _ in t.steps]
    mask = batch["mask"].bool()
    with torch.no_grad():
        recomputed = token_logprobs(model.eval(), batch["ids"], batch["attention_mask"],
                                    **vision_inputs(processor, batch["images"]))
        other = [np.full_like(image, 255 - image.mean().astype(np.uint8)) for image in batch["images"]]
        blind = token_logprobs(model, batch["ids"], batch["attention_mask"], **vision_inputs(processor, other))
    assert torch.allclose(recomputed[mask], batch["sampler_logprobs"][mask], atol=1e-4)
    assert not torch.allclose(blind[mask], batch["sampler_logprobs"][mask], atol=1e-3)  # the screenshot matters


def test_train_vlm_distill_advantage_is_teacher_minus_student_given_the_images(vlm_rollouts, vlm_teacher):
    _, processor, episodes, _ = vlm_rollouts
    batch = pad_episodes([e for _, e in episodes], processor.tokenizer.pad_token_id)
    scorer = HFTeacher(vlm_teacher, processor)
    advantages, _ = distill_advantage(scorer)(batch, [t for t, _ in episodes], [t.task_id for t, _ in episodes])
    whole = scorer.distributions(batch["ids"], batch["attention_mask"], batch["images"])  # kl_estimator: full
    picked = whole.gather(-1, batch["ids"][:, 1:, None]).squeeze(-1)
    sampled = batch["mask"][:, 1:].bool()  # placeholders are -inf there, outside the mask
    assert torch.allclose(picked[sampled] - batch["sampler_logprobs"][:, 1:][sampled], advantages[:, 1:][sampled],
                          atol=1e-4)
    teacher, teacher_processor = load_model(vlm_teacher)
    rows = [row for _, e in episodes for row in e.rows()]
    for index, row in enumerate(rows):
        pixels = teacher_processor(text=[teacher_processor.image_token], images=[row.image])  # its own resizing
        with torch.no_grad():
            logits = teacher.eval()(input_ids=torch.tensor([row.ids]), pixel_values=pixels["pixel_values"],
                                    high_res_pixel_values=pixels["high_res_pixel_values"]).logits[0]
        for position, (token, sampled) in enumerate(zip(row.ids, row.mask)):
            expected = 0.0
            if sampled:
                scores = logits[position - 1].clone()
                scores[processor.image_token_id] = float("-inf")  # never sampled, so not in the distribution
                expected = float(torch.log_softmax(scores, -1)[token]) - row.sampler_logprobs[position]
            assert float(advantages[index, position]) == pytest.approx(expected, abs=1e-4)


def test_train_vlm_student_refuses_a_text_only_teacher(vlm_student, teacher_path):
    _, processor = load_model(vlm_student)
    with pytest.raises(TokenizerMismatch):
        HFTeacher(teacher_path, processor)


def test_train_vlm_distill_and_rl_update_checkpoint_and_resume(tmp_path, vlm_student, vlm_teacher, screen_suite):
    common = dict(model=vlm_student, suite=screen_suite, tasks=TASKS, iterations=2, tasks_per_iteration=2,
                  samples_per_task=2, max_new_tokens=10, max_turns=2, save_every=1, report_to="none",
                  progress=False, learning_rate=1e-3)
    config = DistillConfig(output_dir=tmp_path / "distill", teacher=TeacherSettings(model=str(vlm_teacher)), **common)
    final = run_distill(config)
    before, _ = load_model(vlm_student)
    after, processor = load_model(final)
    assert type(after).__name__ == "CrossAttnVLMForConditionalGeneration" and processor.image_seq_length == 4
    changed = [k for k, v in before.state_dict().items() if not torch.equal(v, after.state_dict()[k])]
    assert any("high_res" in k or "cross_attn" in k for k in changed)  # the image path is trained too
    logs = [json.loads(line) for line in (tmp_path / "distill" / "metrics.jsonl").read_text().splitlines()]
    assert [log["iteration"] for log in logs] == [1, 2] and logs[-1]["env_steps"] > 0
    assert (tmp_path / "distill" / "checkpoint-2" / "processor_config.json").exists()
    run_distill(config.model_copy(update={"iterations": 3}))  # resumes at checkpoint-2: one more round
    logs = [json.loads(line) for line in (tmp_path / "distill" / "metrics.jsonl").read_text().splitlines()]
    assert [log["iteration"] for log in logs] == [1, 2, 3] and logs[2]["env_steps"] > logs[1]["env_steps"]
    exact, logs = config.model_copy(update={"output_dir": tmp_path / "full", "iterations": 1, "kl_estimator": "full"}), []
    run_distill(exact, on_iteration=logs.append)  # the teacher's whole distributions, given the same screenshots
    assert len(logs) == 1 and 0 < logs[0].extra["reverse_kl"] < float("inf")
    rl_final = run_rl(RLConfig(output_dir=tmp_path / "rl", **{**common, "iterations": 1}))
    assert load_model(rl_final)[1].image_seq_length == 4
