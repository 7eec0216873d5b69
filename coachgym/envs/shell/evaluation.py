"""Preparing a sandbox for a task, and scoring the end state, with AgentBench OS semantics.

Task format (shared by the built-in suite and the AgentBench import):

- `setup.init`: scripts `{"language": "bash"|"python", "code": ...}` run as independent processes
  before the agent starts (bash scripts get `RANDOM` seeded from the episode seed, so a reference
  sandbox prepared from the same seed holds the same "random" files);
  `setup.start`: a command run in the agent's shell (background programs, a starting `cd`).
- `evaluator.match`: `{"answer": ...}` (exact, after strip) or `{"regex": ...}` on the answer.
- `evaluator.check`: a list of checker scripts run in order; each gets the agent's answer and the
  previous scripts' outputs as argv and must exit 0. A `null` entry means "run the `example`
  reference solution in the agent's world and pass its output on". It runs in the agent's own
  sandbox, through its shell (in a subshell, from the start directory), so processes the init
  started count as the agent saw them, an init that draws `$RANDOM` in a subshell or `shuf`
  cannot make the expected answer differ from the agent's world, and slow inits run once (a
  second sandbox prepared from the same seed could not promise that). When it runs depends on
  the protocol: by default right after setup, before the agent acts, so nothing the agent
  changes (deleted files, shell functions shadowing `ls`) can move the expected answer; under
  `agentbench-v0.2` when the episode ends, as AgentBench runs it in the agent's container at
  evaluation time, where an agent that changes its world changes the expected answer too.

Checkers never run in the agent's live sandbox: the agent's sandbox is stopped and a *snapshot*
(its files, none of its processes; writes discarded; on bwrap the base's programs and libraries,
see `pristine`) runs them, so nothing the agent left behind can interfere, and whatever a
checker started is stopped before the next one runs. The answer reaches checkers only as argv;
nothing here evaluates it (checkers that would are wrapped where they are loaded, `agentbench`).
"""

from __future__ import annotations

import re
import shlex
from contextlib import ExitStack
from typing import Any

from coachgym.envs.core import Evaluation, Task
from coachgym.envs.shell.backends import open_sandbox
from coachgym.envs.shell.config import SandboxConfig
from coachgym.envs.shell.sandbox import Sandbox

SCRIPT_TIMEOUT_S = 120.0  # init scripts and checkers may legitimately be slow (building files)


def prepare(sandbox: Sandbox, task: Task, seed: int, stop_at_failure: bool = False) -> list[str]:
    """Run the task's init scripts and start command; returns what failed (script, status, output
    tail). `stop_at_failure` runs nothing after a failed init, as AgentBench v0.2 aborts there."""
    problems = []
    for index, script in enumerate(task.setup.get("init", [])):
        code = script["code"]
        if script.get("language", "bash") == "bash":
            code = f"RANDOM={seed % 32768}\n{code}"
        result = sandbox.run_script(script.get("language", "bash"), code, timeout=SCRIPT_TIMEOUT_S)
        if result.timed_out or result.exit_code not in (0, None):
            status = "timed out" if result.timed_out else f"exited {result.exit_code}"
            problems.append(f"init script {index} {status}: {result.output[-300:].strip()}".strip())
            if stop_at_failure:
                return problems
    if task.setup.get("start"):
        sandbox.run(task.setup["start"], timeout=SCRIPT_TIMEOUT_S)
    sandbox.wait_settled()
    return problems


def needs_reference(task: Task) -> bool:
    """Whether the task's checks take the `example` solution's output (a `null` checker)."""
    return None in task.evaluator.get("check", [])


# A bash example runs in the session itself, as an agent's command does (a subshell would be one
# more process for `ps -A | wc -l` to count), from the start directory; afterwards the directory
# and the environment (exported variables) are restored and every variable it created is unset,
# so nothing in the session can tell the agent the answer, and an example that edits the
# environment (`source ~/.bashrc` appending to PATH) leaves it as it was for the agent's own run.
# `__cg_status` (its exit status) is all that stays. (`-g`: the session may run this inside a function.)
_IN_SESSION = """__cg_exported=$(export -p)
__cg_vars=" $(compgen -v | tr '\\n' ' ')"
{{ cd {cwd}
{code}
}}
__cg_status=$?
cd {cwd}
for __cg_v in $(compgen -v); do
  case "$__cg_vars" in *" $__cg_v "*) ;; *) [ "$__cg_v" = __cg_status ] || unset "$__cg_v" 2>/dev/null;; esac
done
eval "${{__cg_exported//declare -x /declare -gx }}" 2>/dev/null
unset __cg_vars __cg_v __cg_exported
(exit $__cg_status)"""


def reference_output(task: Task, world: Sandbox) -> tuple[str, int]:
    """Output and status of the task's `example`, run in `world` (the agent's sandbox)."""
    example = task.evaluator.get("example")
    if example is None:
        raise ValueError(f"Task {task.id!r} has a null checker but no example solution.")
    if example.get("language", "bash") == "bash":
        code = _IN_SESSION.format(cwd=shlex.quote(world.config.cwd), code=example["code"])
        result = world.run(code, timeout=SCRIPT_TIMEOUT_S)
    else:
        result = world.run_script(example["language"], example["code"], timeout=SCRIPT_TIMEOUT_S)
    status = 0 if result.exit_code is None and not result.timed_out else (result.exit_code or 0)
    return result.output, (124 if result.timed_out else status)


def evaluate(task: Task, sandbox: Sandbox | None, answer: str | None, config: SandboxConfig,
             reference: tuple[str, int] | None = None) -> Evaluation:
    """Score the episode. `sandbox` is the agent's (it is stopped); `answer` is None after `finish`;
    `reference` is the example's output taken before the agent acted (else it is run now)."""
    spec = task.evaluator
    if "match" in spec:
        return _match(spec["match"], answer)
    if "check" in spec:
        return _check(task, spec["check"], sandbox, answer, config, reference)
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
           config: SandboxConfig, reference: tuple[str, int] | None) -> Evaluation:
    params = ["" if answer is None else answer]
    with ExitStack() as stack:
        world = sandbox if sandbox is not None else stack.enter_context(open_sandbox(config))
        if reference is None and None in checks:
            reference = reference_output(task, world)
        snapshot = stack.enter_context(world.snapshot())
        for index, script in enumerate(checks):
            if script is None:
                output, status = reference
            else:
                result = snapshot.run_script(script.get("language", "bash"), script["code"], params,
                                             timeout=SCRIPT_TIMEOUT_S)
                snapshot.stop_processes()
                output, status = result.output, (124 if result.timed_out else result.exit_code)
            if status != 0:
                detail = f"check {index} exited {status}: {output[-300:]}".strip()
                return Evaluation(reward=0.0, success=False, detail=detail)
            params.append(output)
    return Evaluation(reward=1.0, success=True, detail=f"all {len(checks)} checks passed")
