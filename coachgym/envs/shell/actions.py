"""The shell env's action vocabulary, and AgentBench's `Think:/Act:` format as a dialect.

The vocabulary is data (`SHELL_ACTIONS`): prompts, parser, expert formatting and random actions
all derive from it. `agentbench_dialect` reads AgentBench OS-interaction output exactly as
AgentBench's own `extract_action` does (last `Act:` line wins; `Act: bash` takes every ```bash
block; `Act: answer(...)` takes the text between the first `(` and the last `)` of that line),
so AgentBench prompts and AgentInstruct OS trajectories work unchanged. This module must not run
anything.
"""

from __future__ import annotations

import re

from coachgym.envs.actions import ActionArg, ActionError, ActionSet, ActionSpec, ParsedAction, invalid_format

_ACT = re.compile(r"Act:\s*(.+)")
_BASH_BLOCK = re.compile(r"```bash\n(.*?)\n```", re.DOTALL)


def agentbench_dialect(text: str) -> ParsedAction | None:
    """AgentBench's `Act:` lines; None when the text has none (other syntaxes are tried next)."""
    acts = _ACT.findall(text)
    if not acts:
        return None
    for act in reversed(acts):
        word = act.lower()
        if word.startswith("bash"):
            blocks = _BASH_BLOCK.findall(text)
            if not blocks:
                raise invalid_format("`Act: bash` must be followed by a ```bash code block.")
            return ParsedAction(name="bash", args={"command": "\n\n".join(blocks)}, raw=text)
        if word.startswith("finish"):
            return ParsedAction(name="finish", raw=text)
        if word.startswith("answer"):
            content = act[6:].strip()
            left, right = content.find("("), content.rfind(")")
            if left == -1 or right == -1:
                continue
            return ParsedAction(name="answer", args={"text": content[left + 1 : right]}, raw=text)
    raise ActionError("`Act:` must be one of `bash` (with a ```bash block), `answer(...)` or `finish`.")


SHELL_ACTIONS = ActionSet(
    [
        ActionSpec(
            name="bash",
            doc="Run bash commands in the shell; the reply is their output (cut when long). "
            "The shell persists: cd, variables and background jobs carry over. Do not wait for input.",
            args=[ActionArg(name="command", doc="One or more bash commands.")],
            block="bash",
            examples=["```bash\nls -la /root\n```", "```bash\ncd /tmp && wc -l notes.txt\n```"],
        ),
        ActionSpec(
            name="answer",
            doc="Give the answer to the question and end the episode.",
            args=[ActionArg(name="text", doc="The answer, exactly as asked for.")],
            terminal=True,
            examples=['answer("42")'],
        ),
        ActionSpec(name="finish", doc="Say the requested change is done and end the episode.", terminal=True),
    ],
    dialects=[agentbench_dialect],
)
