"""Distillation and RL on TRL's `GRPOTrainer`, with coachgym episodes as its rollouts.

TRL owns the loop: sampling prompts, generation (transformers `generate` under
`unwrap_model_for_generation`, or vLLM with `use_vllm: true`), the clipped policy-gradient loss,
optimizer steps, gradient accumulation, bf16, gradient checkpointing, accelerate/DeepSpeed/FSDP,
checkpoints and resumption, and logging. coachgym plugs in at three documented places:

1. `rollout_func` (`OnPolicyTrainer._rollout`): the dataset's prompts are task ids (repeated
   `samples_per_task` times by TRL); each round plays them as coachgym episodes in parallel
   (`rollouts.play_batch`, one batched generation per turn through the trainer's own
   `_generate_single_turn`) and returns the sequences with `env_mask` (env tokens masked) and
   the episode reward, which TRL turns into GRPO's group-baseline advantage.
2. `_generate_and_score_completions`: after TRL has scored the batch, the advantage is replaced
   per token: RL keeps GRPO's advantage of each sequence's episode; distillation uses
   `teacher_lp - student_lp` on agent tokens and 0 on env tokens (plus `reward_coef` times the
   GRPO advantage), the student's log-probs being the trainer's own recomputation.
3. `_compute_loss`: with `kl_estimator: full` the loss is the exact tempered reverse KL
   (`losses.reverse_kl_loss`) instead of TRL's one-sample policy gradient; a CrossAttnVLM student's
   sequences are scored with their screenshots (`_get_per_token_logps_and_entropies`).

This module must not define advantages of its own beyond those, sample outside the trainer, or
step the optimizer itself.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import torch
from datasets import Dataset
from pydantic import Field, model_validator
from transformers import PreTrainedModel
from transformers.trainer_utils import get_last_checkpoint
from trl import GRPOConfig, GRPOTrainer

from coachgym.training.config import RunSettings, resolve_report_to
from coachgym.training.evaluate import evaluate_policy, make_env
from coachgym.training.losses import distill_advantages, reverse_kl_loss
from coachgym.training.models import load_model
from coachgym.training.policy import EpisodeTokens, PolicyAgent, policy_logits, vision_inputs, vlm_processor
from coachgym.training.rollouts import RolloutRows, play_batch, to_rows

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # rollout_func is experimental in TRL; we rely on it knowingly

KLEstimator = Literal["sampled", "full"]
RoundLog = Callable[[dict[str, Any]], None]


class OnPolicySettings(RunSettings):
    """Fields shared by `distill` and `rl` configs; each maps onto a `GRPOConfig` field (`grpo_arguments`)."""

    suite: str = Field(description="Task suite: a registered name (e.g. 'small-guess') or a .json/.yaml file.")
    tasks: list[str] | None = Field(default=None, description="Task ids to train on (default: the train split).")
    iterations: int = Field(default=50, ge=1, description="Rounds: each plays a batch of episodes and trains on it.")
    tasks_per_iteration: int = Field(default=4, ge=1, description="Tasks per round (per process).")
    samples_per_task: int = Field(default=4, ge=2, description="Episodes per task per round: GRPO's group "
                                  "(`num_generations`, at least 2).")
    temperature: float = Field(default=1.0, gt=0, description="Sampling temperature of the student; the "
                               "trainer's log-probs and both KL estimators use the same temperature.")
    max_new_tokens: int = Field(default=64, ge=1, description="Tokens per action (`max_completion_length`).")
    max_turns: int | None = Field(default=None, ge=1, description="Step budget per episode (default: the task's).")
    max_context: int = Field(default=2048, ge=1, description="Episode token budget; beyond it the episode ends.")
    learning_rate: float = Field(default=1e-4, gt=0)
    minibatch_size: int = Field(default=8, ge=1, description="Episodes per optimizer step; a round's episodes "
                                "are split into ceil(episodes / minibatch_size) steps (`steps_per_generation`).")
    epochs_per_batch: int = Field(default=1, ge=1, description="Passes over each round's episodes "
                                  "(`num_iterations`); beyond 1 the ratio is clipped at 1 +- epsilon.")
    epsilon: float = Field(default=0.2, gt=0, description="PPO clip range of the importance ratio.")
    loss_type: Literal["dapo", "grpo", "bnpo", "dr_grpo"] = Field(
        default="dapo", description="TRL's loss normalisation; 'dapo' = a mean over every agent token of the batch.")
    max_grad_norm: float = Field(default=1.0, gt=0)
    eval_every: int = Field(default=0, ge=0, description="Greedy evaluation on `suite` every N rounds (0 = never).")
    save_every: int = Field(default=10, ge=1, description="Checkpoint every N rounds (and at the end).")
    gradient_checkpointing: bool = Field(default=False, description="Recompute activations in the backward pass "
                                         "(GPU runs of 0.5B+ students).")
    bf16: bool | None = Field(default=None, description="bf16 weights and autocast; default: on where a GPU "
                              "supports it, off on CPU.")
    use_vllm: bool = Field(default=False, description="Generate with vLLM (text students; needs `pip install vllm`).")
    vllm_mode: Literal["colocate", "server"] = Field(default="colocate", description="'colocate': vLLM shares "
                                                     "the training GPUs; 'server': a `trl vllm-serve` process.")
    vllm_server_base_url: str | None = Field(default=None, description="Server mode: e.g. http://host:8001.")
    vllm_gpu_memory_utilization: float = Field(default=0.3, gt=0, le=1, description="Colocate mode: vLLM's share "
                                               "of each GPU's memory.")

    @model_validator(mode="after")
    def _vllm_serves_text_students(self) -> OnPolicySettings:
        """vLLM has no CrossAttnVLM: refuse here rather than after loading models onto GPUs."""
        from coachgym.agents.hf import vlm_classes

        if self.use_vllm and vlm_classes(self.model) is not None:
            raise ValueError(f"use_vllm is true but {self.model} is a CrossAttnVLM, an architecture vLLM cannot "
                             "serve; set use_vllm: false to generate with transformers (HF generation, also on GPUs).")
        return self


def rows_per_round(config: OnPolicySettings, task_count: int) -> tuple[int, int]:
    """(episodes per round, optimizer steps per epoch of a round) for `task_count` training tasks."""
    episodes = min(config.tasks_per_iteration, task_count) * config.samples_per_task
    steps = math.ceil(episodes / config.minibatch_size)
    if episodes % steps:
        raise ValueError(f"{episodes} episodes per round (tasks_per_iteration x samples_per_task) do not split into "
                         f"{steps} equal minibatches of at most {config.minibatch_size}; pick a minibatch_size that "
                         "divides them.")
    return episodes, steps


def grpo_arguments(config: OnPolicySettings, task_count: int, scale_rewards: str = "none") -> GRPOConfig:
    """The `GRPOConfig` a coachgym config stands for: one round = one generation batch, trained on
    for `epochs_per_batch` x `steps` optimizer steps; logged once and checkpointed every `save_every` rounds."""
    episodes, steps = rows_per_round(config, task_count)
    per_round = steps * config.epochs_per_batch
    gpu = torch.cuda.is_available()
    bf16 = config.bf16 if config.bf16 is not None else gpu and torch.cuda.is_bf16_supported()
    return GRPOConfig(
        output_dir=str(config.output_dir), max_steps=config.iterations * per_round, learning_rate=config.learning_rate,
        lr_scheduler_type="constant", per_device_train_batch_size=episodes // steps, steps_per_generation=steps,
        gradient_accumulation_steps=1, num_iterations=config.epochs_per_batch, num_generations=config.samples_per_task,
        temperature=config.temperature, top_k=0, max_completion_length=config.max_new_tokens,
        max_grad_norm=config.max_grad_norm, loss_type=config.loss_type, epsilon=config.epsilon, beta=0.0,
        scale_rewards=scale_rewards, logging_steps=per_round, save_steps=config.save_every * per_round,
        seed=config.seed, report_to=resolve_report_to(config.report_to), disable_tqdm=not config.progress,
        use_cpu=not gpu, bf16=bf16, gradient_checkpointing=config.gradient_checkpointing,
        use_vllm=config.use_vllm, vllm_mode=config.vllm_mode, vllm_server_base_url=config.vllm_server_base_url,
        vllm_gpu_memory_utilization=config.vllm_gpu_memory_utilization, vllm_max_model_length=config.max_context,
        save_only_model=False, dataloader_pin_memory=False, remove_unused_columns=False,
    )


def env_reward(prompts: list, completions: list, env_reward: list[float], **_: Any) -> list[float]:
    """TRL reward function: the episode's env reward, reported by the rollout."""
    return env_reward


class OnPolicyTrainer(GRPOTrainer):
    """`GRPOTrainer` whose rollouts are coachgym episodes (see the module docstring).

    `teacher`: None for RL; for distillation an object with `score(sequences, images)` and, for
    `kl_estimator='full'`, `distributions(ids, attention_mask, images)` (`teacher.HFTeacher`)."""

    def __init__(self, config: OnPolicySettings, model: PreTrainedModel, processing_class: Any, task_ids: list[str],
                 args: GRPOConfig, teacher: Any = None, kl_estimator: KLEstimator = "sampled",
                 reward_coef: float = 0.0, on_round: RoundLog | None = None):
        self.config, self.teacher, self.kl_estimator, self.reward_coef = config, teacher, kl_estimator, reward_coef
        self.on_round = on_round
        self.processor = vlm_processor(processing_class)
        self.envs: list[Any] = []
        self.counters: dict[str, int] | None = None
        self.rows: RolloutRows | None = None
        self.row_images: list | None = None
        env_kwargs = {"max_steps": config.max_turns} if config.max_turns else None
        self.new_env = lambda: make_env(config.suite, env_kwargs)
        super().__init__(model=model, reward_funcs=[env_reward], args=args, processing_class=processing_class,
                         train_dataset=Dataset.from_dict({"prompt": task_ids}), rollout_func=self._rollout,
                         peft_config=config.lora.peft_config() if config.lora else None)
        self.steps_per_round = args.steps_per_generation * args.num_iterations

    @property
    def round(self) -> int:
        return self.state.global_step // self.steps_per_round

    # ---------------------------------------------------------------- 1. rollouts
    def _rollout(self, prompts: list[str], trainer: GRPOTrainer) -> dict[str, Any]:
        """TRL's `rollout_func`: play one episode per prompt (a task id), all at once."""
        while len(self.envs) < len(prompts):
            self.envs.append(self.new_env())
        policy = self.accelerator.unwrap_model(self.model)
        agents = [PolicyAgent(policy, self.processing_class, temperature=self.temperature,
                              max_new_tokens=self.config.max_new_tokens, max_context=self.config.max_context)
                  for _ in prompts]
        plan = [(task, self.round * 1000 + k) for k, task in enumerate(prompts)]
        episodes = play_batch(self.envs[: len(prompts)], agents, plan, self._generate_rows,
                              self._anyone_playing if self.accelerator.num_processes > 1 else None)
        self.rows = to_rows(episodes, self._tokenizer.pad_token_id, multiple=self.args.steps_per_generation)
        self.row_images = self.rows.images if self.processor is not None else None
        self._count(episodes, sum(sum(r) for r in self.rows.env_mask))
        return {"prompt_ids": self.rows.prompt_ids, "completion_ids": self.rows.completion_ids,
                "logprobs": self.rows.logprobs if self.use_vllm else None, "env_mask": self.rows.env_mask,
                "env_reward": [episode.reward for episode in episodes]}

    def _generate_rows(self, rows: list[EpisodeTokens]) -> list[tuple[list[int], list[float] | None]]:
        """One turn of every live episode through the trainer's generation (HF or vLLM). With no
        live episode here but some on other processes, a one-token dummy keeps the collective in step."""
        if not rows:
            self._generate_single_turn([[self._tokenizer.pad_token_id]], None, {}, 1)
            return []
        vision = vision_inputs(self.processor, [row.image for row in rows]) if self.processor is not None else {}
        completions, logprobs = self._generate_single_turn([row.ids for row in rows], None, vision, 1)
        return list(zip(completions, logprobs or [None] * len(rows), strict=True))

    def _anyone_playing(self, playing: bool) -> bool:
        flags = self.accelerator.gather(torch.tensor([int(playing)], device=self.accelerator.device))
        return bool(flags.any())

    def _count(self, episodes: list, sampled_tokens: int) -> None:
        """Round metrics and cumulative counters, summed over every training process."""
        if self.counters is None:  # a resumed run continues the counts of its logged history
            last = next((log for log in reversed(self.state.log_history) if "env_steps" in log), {})
            self.counters = {key: int(last.get(key, 0)) for key in ("env_steps", "sampled_tokens", "episodes")}
        local = torch.tensor([[sum(e.env_steps for e in episodes), sampled_tokens, len(episodes),
                               sum(e.success for e in episodes), sum(e.reward for e in episodes)]],
                             dtype=torch.float64, device=self.accelerator.device)
        env_steps, tokens, count, successes, reward = self.accelerator.gather(local).sum(0).tolist()
        self.counters["env_steps"] += int(env_steps)
        self.counters["sampled_tokens"] += int(tokens)
        self.counters["episodes"] += int(count)
        metrics = self._metrics["train"]
        for key, value in self.counters.items():
            metrics[key].append(value)
        metrics["rollout_success"].append(successes / count)
        metrics["rollout_reward"].append(reward / count)

    # ---------------------------------------------------------------- 2. advantages
    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        output = super()._generate_and_score_completions(inputs)
        episode = torch.tensor(self.rows.episode, device=output["advantages"].device)
        advantages = output["advantages"][episode]  # GRPO's group baseline of each sequence's episode reward
        if self.teacher is not None:
            mask = output["completion_mask"] * output["tool_mask"]
            if self.kl_estimator == "sampled":
                student = output.get("old_per_token_logps")
                student = self._student_logprobs(output) if student is None else student
                distill = distill_advantages(self._teacher_logprobs(output), student, mask)
                self._metrics["train"]["reverse_kl"].append(float(-distill.sum() / mask.sum().clamp(min=1)))
                advantages = distill + self.reward_coef * advantages[:, None]
            else:
                advantages = self.reward_coef * advantages
        output["advantages"] = advantages
        if self.row_images is not None:
            output["images"] = self.row_images  # shuffled and split with the rows by TRL
        return output

    @torch.no_grad()
    def _student_logprobs(self, output: dict[str, Any]) -> torch.Tensor:
        ids = torch.cat([output["prompt_ids"], output["completion_ids"]], dim=1)
        attention = torch.cat([output["prompt_mask"], output["completion_mask"]], dim=1)
        logps, _, _ = self._get_per_token_logps_and_entropies(self.model, ids, attention, output["completion_ids"].size(1),
                                                              batch_size=self.args.per_device_train_batch_size)
        return logps

    def _teacher_logprobs(self, output: dict[str, Any]) -> torch.Tensor:
        """The teacher's log-prob of every completion token, scored in one batch (one request for a server)."""
        rows = self.rows
        sequences = [p + c for p, c in zip(rows.prompt_ids, rows.completion_ids, strict=True)]
        scores = self.teacher.score(sequences, self.row_images)
        result = torch.zeros_like(output["completion_ids"], dtype=torch.float32)
        for index, (prompt, completion, values) in enumerate(zip(rows.prompt_ids, rows.completion_ids, scores)):
            result[index, : len(completion)] = torch.tensor(values[len(prompt):len(prompt) + len(completion)])
        return result

    # ---------------------------------------------------------------- 3. loss
    def _compute_loss(self, model, inputs: dict[str, Any]) -> torch.Tensor:
        self.row_images = inputs.get("images")
        if self.kl_estimator != "full" or self.teacher is None:
            return super()._compute_loss(model, inputs)
        ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], dim=1)
        attention = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], dim=1)
        width = inputs["completion_ids"].size(1)
        with self.accelerator.autocast():
            logits = model(input_ids=ids, attention_mask=attention, use_cache=False, **self._vision(0, len(ids))).logits
        logits = policy_logits(self.accelerator.unwrap_model(model), logits[:, -width - 1:-1])
        teacher = self.teacher.distributions(ids, attention, self.row_images)[:, -width:]
        loss = reverse_kl_loss(logits, teacher, inputs["completion_mask"] * inputs["tool_mask"], self.temperature)
        self._metrics["train"]["reverse_kl"].append(float(loss.detach()))
        loss = loss / self.current_gradient_accumulation_steps
        if self.reward_coef:
            loss = loss + super()._compute_loss(model, inputs)
        return loss

    def _vision(self, start: int, end: int) -> dict[str, torch.Tensor]:
        if self.row_images is None:
            return {}
        return {k: v.to(self.accelerator.device) for k, v in
                vision_inputs(self.processor, self.row_images[start:end]).items()}

    def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep, batch_size=None,
                                           compute_entropy=False, compute_aux_loss=False, **multimodal):
        """TRL's scoring, or for a CrossAttnVLM student each sequence with its own screenshot; the
        image placeholder is outside the policy's distribution, as when sampling."""
        if self.row_images is None:
            return super()._get_per_token_logps_and_entropies(model, input_ids, attention_mask, logits_to_keep,
                                                              batch_size, compute_entropy, compute_aux_loss,
                                                              **multimodal)
        batch_size = batch_size or input_ids.size(0)
        logps, entropies = [], []
        for start in range(0, input_ids.size(0), batch_size):
            end = start + batch_size
            with self.accelerator.autocast():
                logits = model(input_ids=input_ids[start:end], attention_mask=attention_mask[start:end],
                               use_cache=False, **self._vision(start, end)).logits[:, -logits_to_keep - 1:-1]
            logits = policy_logits(self.accelerator.unwrap_model(model), logits.float()) / self.temperature
            logp = torch.log_softmax(logits, dim=-1)
            logps.append(logp.gather(-1, input_ids[start:end, -logits_to_keep:, None]).squeeze(-1))
            if compute_entropy:
                entropies.append(-(logp.exp() * logp.clamp(min=-1e4)).sum(-1))
        return torch.cat(logps), torch.cat(entropies) if compute_entropy else None, None

    # ---------------------------------------------------------------- logging
    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """TRL's log, plus the round number, the greedy evaluation when due, `metrics.jsonl` and `on_round`."""
        train = "loss" in logs and self.model.training
        if train and self.config.eval_every and self.round % self.config.eval_every == 0:
            greedy = PolicyAgent(self.accelerator.unwrap_model(self.model), self.processing_class, greedy=True,
                                 max_new_tokens=self.config.max_new_tokens, max_context=self.config.max_context)
            logs["eval_success"] = evaluate_policy(greedy, self.config.suite, env=self.envs[0]).success_rate
        super().log(logs, start_time)
        if train and self.accelerator.is_main_process:
            record = {"round": self.round, **self.state.log_history[-1]}
            with open(Path(self.args.output_dir) / "metrics.jsonl", "a", encoding="utf-8") as file:
                file.write(json.dumps(record) + "\n")
            if self.on_round:
                self.on_round(record)


def build_trainer(config: OnPolicySettings, teacher_factory: Callable[[Any], Any] | None = None,
                  kl_estimator: KLEstimator = "sampled", reward_coef: float = 0.0, scale_rewards: str = "none",
                  on_round: RoundLog | None = None) -> OnPolicyTrainer:
    """The trainer for `config`: the student (bf16 where the GPU supports it), the teacher
    (`teacher_factory(processing_class)`, None for RL) and the suite's training tasks."""
    probe = make_env(config.suite)
    suite = probe.unwrapped.suite
    probe.close()
    task_ids = config.tasks or [t.id for t in suite.tasks if t.split == "train"] or suite.ids()
    args = grpo_arguments(config, len(task_ids), scale_rewards)
    model, processing_class = load_model(config.model, dtype=torch.bfloat16 if args.bf16 else torch.float32,
                                         gradient_checkpointing=config.gradient_checkpointing)
    teacher = teacher_factory(processing_class) if teacher_factory else None
    return OnPolicyTrainer(config, model, processing_class, task_ids, args, teacher, kl_estimator, reward_coef,
                           on_round)


def train_on_policy(config: OnPolicySettings, teacher_factory: Callable[[Any], Any] | None = None,
                    kl_estimator: KLEstimator = "sampled", reward_coef: float = 0.0, scale_rewards: str = "none",
                    on_round: RoundLog | None = None) -> Path:
    """Train (resuming from the newest checkpoint in `output_dir` when `resume`) and save
    `output_dir/final` (LoRA merged); arguments as for `build_trainer`."""
    trainer = build_trainer(config, teacher_factory, kl_estimator, reward_coef, scale_rewards, on_round)
    output = Path(config.output_dir)
    checkpoint = get_last_checkpoint(str(output)) if config.resume and output.exists() else None
    try:
        trainer.train(resume_from_checkpoint=checkpoint)
    finally:
        for env in trainer.envs:
            env.close()
    final = output / "final"
    trained = trainer.accelerator.unwrap_model(trainer.model)
    if config.lora:
        trained = trained.merge_and_unload()
    if trainer.accelerator.is_main_process:
        trained.save_pretrained(final)
        trainer.processing_class.save_pretrained(final)
    return final
