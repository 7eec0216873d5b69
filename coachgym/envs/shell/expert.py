"""`ShellExpert`: the scripted policy that solves shell tasks, for demos, tests and SFT data.

It acts only through action text, like a model. Its plan comes from the task (privileged):
built-in tasks carry `setup.solution` (bash commands) and, for questions, `setup.answer_from`
telling whether the answer is the last command's output or a fixed text; AgentBench tasks carry
their `example` reference solution, which the expert runs as its command and then answers with
the output it observed. AgentBench tasks that have no example (11 `match` tasks) are answered
with the gold answer, which is reported separately in docs/shell.md.
"""

from __future__ import annotations

import re
from typing import Any

from coachgym.envs.core import Expert, Task
from coachgym.envs.shell.actions import SHELL_ACTIONS

_OUTPUT = re.compile(r"^The output of the OS:\n\n(.*)\Z", re.DOTALL)


def observed_output(observation: dict[str, Any]) -> str:
    """The command output inside an observation ('' when the OS printed nothing)."""
    text = observation["text"].split("\n[the command timed out", 1)[0].split("\n[the shell exited", 1)[0]
    match = _OUTPUT.match(text)
    return match.group(1) if match else ""


class ShellExpert(Expert):
    def __init__(self, task: Task):
        super().__init__(task)
        commands, final = self._plan(task)
        self._commands = list(commands)
        self._final = final  # ("answer_output" | "answer" | "finish", fixed text)

    @staticmethod
    def _plan(task: Task) -> tuple[list[str], tuple[str, str]]:
        if "solution" in task.setup:
            answer = task.setup.get("answer")
            final = ("answer", answer) if answer is not None else ("finish", "")
            if task.setup.get("answer_from") == "output":
                final = ("answer_output", "")
            return task.setup["solution"], final
        example = task.evaluator.get("example")
        match = task.evaluator.get("match", {})
        if example is None:
            return [], ("answer", match.get("answer", ""))
        if example.get("language", "bash") == "bash":
            command = example["code"]
        else:
            command = f"python3 - <<'__COACHGYM_PY__'\n{example['code']}\n__COACHGYM_PY__"
        return [command], ("answer_output", "")

    def act(self, observation: dict[str, Any]) -> str:
        if self._commands:
            command = self._commands.pop(0)
            return "Think: I run the next step of my plan.\n\nAct: bash\n\n" + SHELL_ACTIONS.format("bash", command)
        kind, text = self._final
        if kind == "finish":
            return "Think: The change is done.\n\nAct: finish"
        if kind == "answer_output":
            text = observed_output(observation).strip()
        if "\n" not in text:  # AgentBench's own format, which takes one line
            return f"Think: I have the answer.\n\nAct: answer({text})"
        return "Think: I have the answer.\n\nAction: " + SHELL_ACTIONS.format("answer", text)
