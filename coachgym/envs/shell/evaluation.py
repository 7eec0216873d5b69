"""Preparing a sandbox for a task, and scoring the end state, with AgentBench OS semantics.

Task format (shared by the built-in suite and the AgentBench import):

- `setup.init`: scripts `{"language": "bash"|"python", "code": ...}` run as independent processes
  before the agent starts (bash scripts get `RANDOM` seeded from the episode seed, so a reference
  sandbox prepared from the same seed holds the same "random" files);
  `setup.start`: a command run in the agent's shell (background programs, a starting `cd`).
- `evaluator.match`: `{"answer": ...}` (exact, after strip) or `{"regex": ...}` on the answer.
- `evaluator.check`: a list of checker scripts run in order; each gets the agent's answer and the
  previous scripts' outputs as argv and must exit 0. A `null` entry means "run the `example`
  reference solution in a fresh sandbox prepared the same way (through a shell session, exactly
  as an agent's command runs) and pass its output on".

Checkers never run in the agent's live sandbox: the agent's sandbox is stopped and a *snapshot*
(its files, none of its processes; writes discarded; on bwrap the base's programs and libraries,
see `pristine`) runs them, so nothing the agent left behind can interfere, and whatever a
checker started is stopped before the next one runs. The answer reaches checkers only as argv;
nothing here evaluates it (checkers that would are wrapped where they are loaded, `agentbench`).
"""

from __future__ import annotations

import re
from typing import Any

from coachgym.envs.core import Evaluation, Task
from coachgym.envs.shell.config import SandboxConfig
from coachgym.envs.shell.sandbox import Sandbox, open_sandbox

SCRIPT_TIMEOUT_S = 120.0  # init scripts and checkers may legitimately be slow (building files)


def prepare(sandbox: Sandbox, task: Task, seed: int) -> list[str]:
    """Run the task's init scripts and start command; returns problems worth logging."""
    problems = []
    for script in task.setup.get("init", []):
        code = script["code"]
        if script.get("language", "bash") == "bash":
            code = f"RANDOM={seed % 32768}\n{code}"
        result = sandbox.run_script(script.get("language", "bash"), code, timeout=SCRIPT_TIMEOUT_S)
        if result.timed_out or result.exit_code not in (0, None):
            problems.append(f"init exited {result.exit_code}: {result.output[-300:]}")
    if task.setup.get("start"):
        sandbox.run(task.setup["start"], timeout=SCRIPT_TIMEOUT_S)
    sandbox.wait_settled()
    return problems


def reference_output(task: Task, config: SandboxConfig, seed: int) -> tuple[str, int]:
    """Output and status of the task's `example` in a fresh sandbox prepared like the agent's."""
    example = task.evaluator.get("example")
    if example is None:
        raise ValueError(f"Task {task.id!r} has a null checker but no example solution.")
    with open_sandbox(config) as sandbox:
        prepare(sandbox, task, seed)
        if example.get("language", "bash") == "bash":
            result = sandbox.run(example["code"], timeout=SCRIPT_TIMEOUT_S)
        else:
            result = sandbox.run_script(example["language"], example["code"], timeout=SCRIPT_TIMEOUT_S)
    status = 0 if result.exit_code is None and not result.timed_out else (result.exit_code or 0)
    return result.output, (124 if result.timed_out else status)


def evaluate(task: Task, sandbox: Sandbox | None, answer: str | None, config: SandboxConfig, seed: int
             ) -> Evaluation:
    """Score the episode. `sandbox` is the agent's (it is stopped); `answer` is None after `finish`."""
    spec = task.evaluator
    if "match" in spec:
        return _match(spec["match"], answer)
    if "check" in spec:
        return _check(task, spec["check"], sandbox, answer, config, seed)
    raise ValueError(f"Task {task.id!r} has neither `match` nor `check` in its evaluator.")


def _match(match: dict[str, Any], answer: str | None) -> Evaluation:
    if answer is None:
        return Evaluation(reward=0.0, success=False, detail="no answer given")
    if match.get("strip", True):
        answer = answer.strip()
    if "answer" in match:
        ok = answer == match["answer"]
    else:
        ok = re.search(match["regex"], answer) is not None
    verdict = "matches" if ok else "does not match"
    return Evaluation(reward=float(ok), success=ok, detail=f"answer {answer[:200]!r} {verdict}")


def _check(task: Task, checks: list[dict | None], sandbox: Sandbox | None, answer: str | None,
           config: SandboxConfig, seed: int) -> Evaluation:
    params = ["" if answer is None else answer]
    snapshot = sandbox.snapshot() if sandbox is not None else None
    try:
        for index, script in enumerate(checks):
            if script is None:
                output, status = reference_output(task, config, seed)
            else:
                if snapshot is None:
                    snapshot = open_sandbox(config)
                result = snapshot.run_script(script.get("language", "bash"), script["code"], params,
                                             timeout=SCRIPT_TIMEOUT_S)
                snapshot.stop_processes()
                output, status = result.output, (124 if result.timed_out else result.exit_code)
            if status != 0:
                detail = f"check {index} exited {status}: {output[-300:]}".strip()
                return Evaluation(reward=0.0, success=False, detail=detail)
            params.append(output)
    finally:
        if snapshot is not None:
            snapshot.close()
    return Evaluation(reward=1.0, success=True, detail=f"all {len(checks)} checks passed")
