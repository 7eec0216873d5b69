"""The on-policy loop shared by distillation and RL: sample, score, update, checkpoint.

Each iteration the current student plays `samples_per_task` episodes of several tasks through
the shared rollout loop (`trajectories.rollout.run_episode`), keeping the exact tokens it
sampled and their sampling log-probs. An advantage function turns the episodes into per-token
advantages (the only difference between `distill` and `rl`), and the student is updated with the
importance-sampled policy-gradient loss on its own tokens; a distillation run may add the exact
reverse KL to a local teacher's whole distribution at those tokens (`TeacherDistributions`), a
loss at fixed contexts that, unlike the importance ratio, stays valid over many epochs.
Checkpoints hold the weights, the optimizer and the counters, so a killed run resumes where it
stopped. A CrossAttnVLM checkpoint
(loaded with its processor) plays with screenshots and trains on one row per turn, each with its
screenshot; the loop itself does not change. This module must not define advantages itself.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, Field
from tqdm import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from coachgym.training.config import RunSettings
from coachgym.training.evaluate import evaluate_policy, make_env, play, summarize
from coachgym.training.losses import (Batch, importance_sampled_pg_loss, next_token_logits, pad_episodes,
                                     reverse_kl_loss, sampled_logprobs)
from coachgym.training.policy import EpisodeTokens, PolicyAgent, text_tokenizer, vision_inputs, vlm_processor
from coachgym.training.reporting import MetricsReporter
from coachgym.training.sft import load_model
from coachgym.trajectories.records import Trajectory

AdvantageFn = Callable[[Batch, list[Trajectory], list[str]], tuple[torch.Tensor, dict[str, float]]]
TeacherDistributions = Callable[[torch.Tensor, torch.Tensor, list | None], torch.Tensor]


class OnPolicySettings(RunSettings):
    """Fields shared by `distill` and `rl` configs."""

    suite: str = Field(description="Task suite: a registered name (e.g. 'small-guess') or a .json/.yaml file.")
    tasks: list[str] | None = Field(default=None, description="Task ids to train on (default: the train split).")
    iterations: int = Field(default=50, ge=1, description="Sample-then-update rounds.")
    tasks_per_iteration: int = Field(default=4, ge=1, description="Tasks sampled per round.")
    samples_per_task: int = Field(default=4, ge=1, description="Episodes per task per round (the RL group size).")
    temperature: float = Field(default=1.0, gt=0, description="Sampling temperature of the student.")
    max_new_tokens: int = Field(default=64, ge=1, description="Tokens per action.")
    max_turns: int | None = Field(default=None, ge=1, description="Step budget per episode (default: the task's).")
    max_context: int = Field(default=2048, ge=1, description="Episode token budget; beyond it the episode ends.")
    learning_rate: float = Field(default=1e-4, gt=0)
    minibatch_size: int = Field(default=8, ge=1, description="Episodes (for a VLM: turns) per optimizer step.")
    epochs_per_batch: int = Field(default=1, ge=1, description="Passes over each round's episodes. >1 relies on "
                                  "the importance ratio, which one-sample advantages overfit (in perf/opd_vs_rl "
                                  "both collapsed); distillation with kl_estimator 'full' has none and profits.")
    max_grad_norm: float = Field(default=1.0, gt=0)
    eval_every: int = Field(default=0, ge=0, description="Greedy evaluation on `suite` every N rounds (0 = never).")
    save_every: int = Field(default=10, ge=1, description="Checkpoint every N rounds (and at the end).")


class IterationLog(BaseModel):
    iteration: int
    loss: float
    rollout_success: float
    rollout_reward: float
    env_steps: int = Field(description="Student env steps so far.")
    sampled_tokens: int = Field(description="Student tokens sampled so far.")
    context_tokens: int = Field(description="Tokens (context + sampled) the student trained on so far.")
    extra: dict[str, float] = {}
    eval_success: float | None = None


def train_on_policy(config: OnPolicySettings, advantage: AdvantageFn, model: PreTrainedModel | None = None,
                    tokenizer: PreTrainedTokenizerBase | None = None,
                    on_iteration: Callable[[IterationLog], None] | None = None,
                    teacher_distributions: TeacherDistributions | None = None) -> Path:
    """Run the loop; returns `output_dir/final`. `model`/`tokenizer` default to `config.model`;
    for a CrossAttnVLM, `tokenizer` is its processor. `teacher_distributions(ids, attention_mask,
    images)`: when given, every update also minimises the exact reverse KL to it."""
    if model is None or tokenizer is None:
        model, tokenizer = load_model(config.model)
    output = Path(config.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    start, counters = 0, {"env_steps": 0, "sampled_tokens": 0, "context_tokens": 0}
    checkpoint = _newest_checkpoint(output) if config.resume else None
    if checkpoint is not None:
        model, tokenizer = load_model(checkpoint)
        state = json.loads((checkpoint / "state.json").read_text())
        start, counters = state["iteration"], state["counters"]
    if config.lora:
        from peft import get_peft_model

        model = get_peft_model(model, config.lora.peft_config())
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate)
    if checkpoint is not None and (checkpoint / "optimizer.pt").exists() and not config.lora:
        optimizer.load_state_dict(torch.load(checkpoint / "optimizer.pt"))
    env = make_env(config.suite, {"max_steps": config.max_turns} if config.max_turns else None)
    task_ids = config.tasks or [t.id for t in env.unwrapped.suite.tasks if t.split == "train"] or env.unwrapped.suite.ids()
    agent = PolicyAgent(model, tokenizer, temperature=config.temperature, max_new_tokens=config.max_new_tokens,
                        max_context=config.max_context, seed=config.seed + start)
    rng = random.Random(config.seed + start)
    shuffle = torch.Generator().manual_seed(config.seed + start)  # minibatch order: reproducible per seed
    metrics = MetricsReporter(output, config.report_to, config.model_dump(mode="json"))
    bar = tqdm(range(start, config.iterations), initial=start, total=config.iterations, disable=not config.progress,
               desc="on-policy", unit="it", dynamic_ncols=True)
    for iteration in bar:
        tasks = rng.sample(task_ids, min(config.tasks_per_iteration, len(task_ids)))
        plan = [(task, iteration * 1000 + k) for task in tasks for k in range(config.samples_per_task)]
        episodes = [(t, e) for t, e in play(env, agent, plan) if any(e.mask)]
        if not episodes:
            continue
        trajectories, tokens = [t for t, _ in episodes], [e for _, e in episodes]
        loss, extra = update(model, optimizer, config, tokens, trajectories, advantage, tokenizer,
                             teacher_distributions, shuffle)
        rollout = summarize(trajectories)
        counters["env_steps"] += rollout.env_steps
        counters["sampled_tokens"] += sum(sum(e.mask) for e in tokens)
        counters["context_tokens"] += sum(len(r.ids) for e in tokens for r in e.rows()) * config.epochs_per_batch
        log = IterationLog(iteration=iteration + 1, loss=loss, rollout_success=rollout.success_rate,
                           rollout_reward=rollout.mean_reward, extra=extra, **counters)
        if config.eval_every and (iteration + 1) % config.eval_every == 0:
            greedy = PolicyAgent(model, tokenizer, greedy=True, max_new_tokens=config.max_new_tokens,
                                 max_context=config.max_context)
            log.eval_success = evaluate_policy(greedy, config.suite, env=env).success_rate
        metrics.log(log.model_dump(mode="json"), step=log.iteration)
        bar.set_postfix(loss=f"{loss:.3f}", success=f"{rollout.success_rate:.0%}")
        if on_iteration:
            on_iteration(log)
        if (iteration + 1) % config.save_every == 0 or iteration + 1 == config.iterations:
            _save_checkpoint(output / f"checkpoint-{iteration + 1}", model, tokenizer, optimizer, iteration + 1, counters)
    metrics.close()
    env.close()
    final = output / "final"
    _merged(model).save_pretrained(final)
    tokenizer.save_pretrained(final)
    return final


def update(model: PreTrainedModel, optimizer: torch.optim.Optimizer, config: OnPolicySettings,
           tokens: list[EpisodeTokens], trajectories: list[Trajectory], advantage: AdvantageFn,
           tokenizer: Any, teacher_distributions: TeacherDistributions | None = None,
           shuffle: torch.Generator | None = None) -> tuple[float, dict[str, float]]:
    """Advantages for the whole round, then minibatch importance-sampled PG steps over its rows
    (episodes, or the turns of VLM episodes with their screenshots), plus the exact reverse KL to
    `teacher_distributions` when given (reported as `reverse_kl`, the mean over the round's steps)."""
    processor = vlm_processor(tokenizer)
    batch = pad_episodes(tokens, text_tokenizer(tokenizer).pad_token_id or 0)
    advantages, extra = advantage(batch, trajectories, [t.task_id for t in trajectories])
    model.train()
    losses, divergences = [], []
    count = len(batch["ids"])
    for _ in range(config.epochs_per_batch):
        order = torch.randperm(count, generator=shuffle)
        for start in range(0, count, config.minibatch_size):
            rows = order[start:start + config.minibatch_size]
            ids, attention, mask = batch["ids"][rows], batch["attention_mask"][rows], batch["mask"][rows]
            row_images = [batch["images"][i] for i in rows] if "images" in batch else None
            logits = next_token_logits(model, ids, attention, **vision_inputs(processor, row_images or []))
            logprobs = sampled_logprobs(model, logits, ids, config.temperature)
            loss = importance_sampled_pg_loss(logprobs, batch["sampler_logprobs"][rows], advantages[rows], mask)
            if teacher_distributions is not None:
                divergence = reverse_kl_loss(logits, teacher_distributions(ids, attention, row_images), mask)
                divergences.append(float(divergence.detach()))
                loss = loss + divergence
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimizer.step()
            losses.append(float(loss.detach()))
    if divergences:
        extra = extra | {"reverse_kl": sum(divergences) / len(divergences)}
    return sum(losses) / len(losses), extra


def _merged(model: PreTrainedModel) -> PreTrainedModel:
    return model.merge_and_unload() if hasattr(model, "merge_and_unload") else model


def _save_checkpoint(folder: Path, model, tokenizer, optimizer, iteration: int, counters: dict) -> None:
    """Weights (LoRA merged, so resuming needs only the folder), optimizer, counters; written to a
    temporary folder and renamed, so a kill never leaves a half checkpoint."""
    import copy
    import shutil

    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    weights = _merged(copy.deepcopy(model)) if hasattr(model, "merge_and_unload") else model
    weights.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    torch.save(optimizer.state_dict(), partial / "optimizer.pt")
    (partial / "state.json").write_text(json.dumps({"iteration": iteration, "counters": counters}))
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)


def _newest_checkpoint(output: Path) -> Path | None:
    found = [p for p in output.glob("checkpoint-*") if (p / "state.json").exists()]
    return max(found, key=lambda p: int(p.name.split("-")[-1])) if found else None
