"""SFT: assistant-only labels, per-turn loss flags, source mixing, packing, and that SFT teaches."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModelForCausalLM

from coachgym.training.data import IGNORE, DataSource, build_dataset, load_source, mix_sources, tokenize_conversation
from coachgym.training.evaluate import evaluate_lockstep, evaluate_policy
from coachgym.training.policy import PolicyAgent
from coachgym.training.layout import varlen_attention
from coachgym.training.sft import (SFTRunConfig, mean_sequence_loss, per_sequence_weights, run_sft, sequence_ids,
                                   sft_arguments, sft_trainer)
from coachgym.training.tiny import build_model, save_tiny
from coachgym.training.config import load_config

MESSAGES = [
    {"role": "system", "content": "You guess numbers."},
    {"role": "user", "content": "Range 1..8."},
    {"role": "assistant", "content": "Action: guess(4)"},
    {"role": "user", "content": "4 is wrong; the number is higher."},
    {"role": "assistant", "content": "Action: guess(6)"},
]


def _loss(model, ids, labels) -> float:
    with torch.no_grad():
        return float(model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss)


def test_train_labels_cover_exactly_the_assistant_turns(tokenizer):
    example = tokenize_conversation(tokenizer, MESSAGES)
    trained = [t for t, label in zip(example["input_ids"], example["labels"]) if label != IGNORE]
    text = tokenizer.decode(trained)
    assert text == "Action: guess(4)<|im_end|>Action: guess(6)<|im_end|>"


def test_train_loss_ignores_perturbed_observation_labels_but_not_agent_labels(tokenizer):
    """Perturb the tokens of observation turns: the assistant-only loss must not move; perturbing
    assistant tokens' labels must."""
    model = build_model(tokenizer, hidden_size=32, layers=1).eval()
    example = tokenize_conversation(tokenizer, MESSAGES)
    ids, labels = example["input_ids"], example["labels"]
    base = _loss(model, ids, labels)
    observation = [i for i, label in enumerate(labels) if label == IGNORE]
    agent = [i for i, label in enumerate(labels) if label != IGNORE]
    perturbed = list(labels)
    for i in observation:
        perturbed[i] = (ids[i] + 7) % len(tokenizer)  # as if observation tokens were targets
    masked_again = [label if i in agent else IGNORE for i, label in enumerate(perturbed)]
    assert _loss(model, ids, masked_again) == pytest.approx(base)
    assert _loss(model, ids, perturbed) != pytest.approx(base)
    wrong_agent = list(labels)
    wrong_agent[agent[1]] = (labels[agent[1]] + 3) % len(tokenizer)
    assert _loss(model, ids, wrong_agent) != pytest.approx(base)


def test_train_agentinstruct_loss_false_turns_are_masked(tmp_path, tokenizer):
    row = {"id": "r1", "conversations": [
        {"from": "human", "loss": False, "value": "Range 1..8."},
        {"from": "gpt", "loss": False, "value": "Action: guess(4)"},
        {"from": "human", "loss": False, "value": "higher"},
        {"from": "gpt", "loss": True, "value": "Action: guess(6)"},
    ]}
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(row) + "\n")
    rows = load_source(DataSource(path=path))
    example = build_dataset(tokenizer, rows)[0]
    trained = [t for t, label in zip(example["input_ids"], example["labels"]) if label != IGNORE]
    assert tokenizer.decode(trained) == "Action: guess(6)<|im_end|>"


def test_train_mix_respects_ratio_without_repeats(tmp_path, demo_store):
    general = tmp_path / "general.jsonl"
    with open(general, "w") as handle:
        for index in range(100):
            handle.write(json.dumps({"id": f"g{index}", "conversations": [
                {"from": "human", "value": f"Say {index}."}, {"from": "gpt", "value": f"{index}"}]}) + "\n")
    mixed = mix_sources([DataSource(path=demo_store.folder, weight=0.2), DataSource(path=general, weight=0.8)])
    agent = [r for r in mixed if r["messages"][0]["role"] == "system"]
    assert len(agent) == 8 and len(mixed) == 40  # all 8 agent demos, 32 general rows: 20/80
    with pytest.raises(FileNotFoundError, match="collect"):
        load_source(DataSource(path=tmp_path / "missing"))


def test_train_per_sequence_weights_equal_packed_and_padded():
    labels = torch.zeros(1, 7)
    packed = {"labels": labels, "position_ids": torch.tensor([[0, 1, 2, 3, 0, 1, 2]])}
    weights = per_sequence_weights(sequence_ids(packed), torch.ones(1, 7, dtype=torch.bool))
    assert torch.allclose(weights, torch.tensor([[1 / 8] * 4 + [1 / 6] * 3]))
    padded = {"labels": torch.zeros(2, 4), "attention_mask": torch.ones(2, 4)}
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.bool)
    assert torch.allclose(per_sequence_weights(sequence_ids(padded), mask).sum(dim=1), torch.tensor([0.5, 0.5]))


def test_train_three_layouts_give_the_same_per_sequence_loss(tmp_path, demo_store, tokenizer):
    """Random padded, length-grouped padded and packed batches of the same mixed-length data:
    the layouts really differ, and the mean per-sequence loss of the same model is the same."""
    chat = [{"messages": [{"role": "user", "content": f"Say {n}."}, {"role": "assistant", "content": "ok " * n}],
             "train": None} for n in range(1, 17)]  # 24 rows: transformers groups within 6-row megabatches
    rows = load_source(DataSource(path=demo_store.folder)) + chat
    layouts = {"random": (False, False), "grouped": (False, True), "packed": (True, False)}
    losses, batches = {}, {}
    for name, (packing, grouped) in layouts.items():
        config = SFTRunConfig(model=tmp_path, output_dir=tmp_path / name, data=[], packing=packing,
                              group_by_length=grouped, batch_size=1 if packing else 2, max_length=512,
                              report_to="none", progress=False)
        run = sft_trainer(config, build_model(tokenizer, hidden_size=32, layers=1, seed=3), tokenizer, rows)
        batches[name] = list(run.get_train_dataloader())
        losses[name] = mean_sequence_loss(run)
    assert all(batch["input_ids"].size(0) == 2 for batch in batches["random"])
    widths = [batch["input_ids"].size(1) for batch in batches["grouped"]]
    assert sum(widths) < sum(batch["input_ids"].size(1) for batch in batches["random"])  # less padding
    packed = batches["packed"]
    assert len(packed) < len(rows) / 2 and "attention_mask" not in packed[0]  # several sequences per row
    assert sum(int((batch["position_ids"] == 0).sum()) for batch in packed) == len(rows)  # every sequence, once
    assert losses["grouped"] == pytest.approx(losses["random"], rel=1e-5)
    assert losses["packed"] == pytest.approx(losses["random"], rel=1e-5)


def test_train_default_layout_packs_only_with_varlen_attention(tmp_path):
    """`packing` unset: packed rows where FlashAttention varlen kernels run, else length-grouped padding
    (on this CPU box: padded, length-grouped)."""
    arguments = sft_arguments(SFTRunConfig(model=tmp_path, output_dir=tmp_path, data=[], report_to="none"))
    assert arguments.packing == (varlen_attention() is not None)
    assert arguments.train_sampling_strategy == ("random" if arguments.packing else "group_by_length")
    forced = sft_arguments(SFTRunConfig(model=tmp_path, output_dir=tmp_path, data=[], packing=True, report_to="none"))
    assert forced.packing


def test_train_sft_yaml_config_runs_with_lora_and_resumes(tmp_path, demo_store, student_path):
    config_file = tmp_path / "run.yaml"
    config_file.write_text(
        f"model: {student_path}\noutput_dir: {tmp_path / 'run'}\nmax_steps: 4\nsave_steps: 2\nreport_to: none\n"
        f"progress: false\nlora: {{r: 4}}\ndata:\n  - path: {demo_store.folder}\n")
    config = load_config(SFTRunConfig, config_file)
    final = run_sft(config)
    assert (final / "config.json").exists() and (tmp_path / "run" / "checkpoint-4").exists()
    merged = AutoModelForCausalLM.from_pretrained(final)
    assert not any("lora" in name for name, _ in merged.named_parameters())
    again = run_sft(config.model_copy(update={"max_steps": 6}))  # resumes from checkpoint-4
    assert (tmp_path / "run" / "checkpoint-6").exists() and again == final


@pytest.mark.slow
@pytest.mark.timeout(1800)  # ~2 min on an idle 2-core box; far longer when the box is shared
def test_train_sft_raises_success_rate_on_small_guess(tmp_path, demo_store, tokenizer, suite):
    model_path = save_tiny(build_model(tokenizer, hidden_size=64, layers=2), tokenizer, tmp_path / "init")
    before = evaluate_policy(PolicyAgent(AutoModelForCausalLM.from_pretrained(model_path), tokenizer, greedy=True,
                                         max_new_tokens=32), suite)
    config = SFTRunConfig(model=model_path, output_dir=tmp_path / "sft", data=[DataSource(path=demo_store.folder)],
                          max_steps=320, learning_rate=3e-3, batch_size=1, max_length=1024, packing=True,
                          report_to="none", progress=False, save_steps=1000)
    final = run_sft(config)
    after = evaluate_policy(PolicyAgent(AutoModelForCausalLM.from_pretrained(final), tokenizer, greedy=True,
                                        max_new_tokens=32), suite)
    print(f"small-guess success: before SFT {before.success_rate:.0%}, after {after.success_rate:.0%}")
    assert before.success_rate == 0.0
    assert after.success_rate >= 0.5
    model = AutoModelForCausalLM.from_pretrained(final)  # the same greedy episodes, played in lockstep
    lockstep = evaluate_lockstep(model, tokenizer, suite, suite.ids(), max_new_tokens=32)
    assert (lockstep.success_rate, lockstep.episodes) == (after.success_rate, after.episodes)
