"""`ShellEnv`: an agent solves a task with bash in a fresh, isolated Linux sandbox.

It wires the pieces together: a sandbox per episode (`sandbox`), task preparation and scoring
(`evaluation`), and the action vocabulary (`actions`). It must not contain sandbox mechanics or
evaluation rules itself.
"""

from __future__ import annotations

from typing import Any, Literal

from coachgym.envs.actions import ParsedAction
from coachgym.envs.core import AgentEnv, Evaluation, StepResult, Task, TaskSuite
from coachgym.envs.shell.actions import SHELL_ACTIONS
from coachgym.envs.shell.backends import open_sandbox
from coachgym.envs.shell.config import SandboxConfig
from coachgym.envs.shell.evaluation import evaluate, needs_reference, prepare, reference_output
from coachgym.envs.shell.sandbox import Sandbox

TRUNCATION_NOTE = "\n[truncated because the output is too long]"
Protocol = Literal["coachgym", "agentbench-v0.2"]
PROTOCOLS: tuple[str, ...] = Protocol.__args__


class ShellEnv(AgentEnv):
    """Solve a task by running bash commands as root in a sandboxed Linux system.

    Episode: `reset` builds a fresh sandbox (its own filesystem layer, no network, its own
    process tree), runs the task's init scripts and start command, and opens one persistent bash
    session. Observation: the output of the last command, as AgentBench words it ("The output of
    the OS: ..."), cut at `max_output_chars`. Actions: a ```bash block, `answer(text)`, `finish`
    (also AgentBench's `Think:/Act:` format). A command running longer than `timeout_s` is
    stopped and reported. Reward: 1 when the task's evaluator passes (exact/regex answer match,
    or checker scripts run on a snapshot of the final files), else 0; the episode ends on
    answer/finish, after repeated invalid actions, or at the step budget (8, as AgentBench).
    A failed init script is reported in the first observation and in `info["init_error"]`; under
    `protocol="agentbench-v0.2"` it also aborts the sample, as AgentBench does: no later init or
    start runs, and the first action ends the episode as an env error with reward 0.
    """

    name = "shell"
    actions = SHELL_ACTIONS
    default_max_steps = 8

    def __init__(self, task: str | Task | None = None, suite: str | TaskSuite | None = None,
                 sandbox: SandboxConfig | dict[str, Any] | None = None, protocol: Protocol = "coachgym",
                 **kwargs: Any):
        """`sandbox` (or `SandboxConfig` fields as keywords, e.g. `timeout_s=5`) configures the
        sandbox; `protocol` is `coachgym` or `agentbench-v0.2` (docs/benchmarks.md compares them);
        other keywords (`max_steps`, `split`, ...) go to `AgentEnv`."""
        if protocol not in PROTOCOLS:
            raise ValueError(f"Unknown shell protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}.")
        self.protocol = protocol
        self.init_error: str | None = None
        self.reference: tuple[str, int] | None = None
        fields = {key: kwargs.pop(key) for key in list(kwargs) if key in SandboxConfig.model_fields}
        super().__init__(task=task, suite=suite, **kwargs)
        base = sandbox.model_dump() if isinstance(sandbox, SandboxConfig) else dict(sandbox or {})
        self.config = SandboxConfig(**(base | fields))
        self.sandbox: Sandbox | None = None
        self.answer: str | None = None

    def _setup(self, task: Task, seed: int) -> str:
        self.close()
        self.answer = None
        self.sandbox = open_sandbox(self.config)
        aborts = self.protocol == "agentbench-v0.2"
        problems = prepare(self.sandbox, task, seed, stop_at_failure=aborts)
        self.init_error = "; ".join(problems) or None
        # The default protocol fixes the expected answer before the agent can touch the world.
        self.reference = reference_output(task, self.sandbox) if not aborts and needs_reference(task) else None
        text = "A fresh Linux shell is ready: you are root, the working directory is /."
        if self.init_error and aborts:
            return (f"The task's setup failed ({self.init_error}). Under the AgentBench v0.2 protocol this "
                    "sample is aborted: your next action ends it with reward 0.")
        if self.init_error:
            return f"{text}\n[the task's setup reported a problem: {self.init_error}]"
        return text

    def _execute(self, action: ParsedAction) -> StepResult:
        if self.init_error and self.protocol == "agentbench-v0.2":
            raise RuntimeError(f"sample aborted because the task's setup failed ({self.init_error}), "
                               "as AgentBench v0.2 aborts it")
        if action.name == "answer":
            self.answer = action.args["text"]
            return StepResult(text=f"Answer submitted: {self.answer[:200]}", done=True)
        if action.name == "finish":
            return StepResult(text="Finished.", done=True)
        result = self.sandbox.run(action.args["command"])
        text = result.output
        if len(text) > self.config.max_output_chars:
            text = text[: self.config.max_output_chars - 20] + TRUNCATION_NOTE
        notes = list(result.notes)
        if result.timed_out:
            notes.append(f"[the command timed out after {self.config.timeout_s:g} s and was stopped]")
        if result.session_ended:
            notes.append("[the shell exited; a new shell was started in the same system, "
                         "its variables, directory and jobs are gone]")
        body = "The output of the OS:\n\n" + text if text else "The output of the OS is empty."
        return StepResult(text="\n".join([body, *notes]))

    def _evaluate(self) -> Evaluation:
        try:
            return evaluate(self.task, self.sandbox, self.answer, self.config, self.reference)
        finally:
            self.close()

    def _info(self) -> dict[str, Any]:
        info = super()._info()
        if self.init_error:
            info["init_error"] = self.init_error
        return info

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None
