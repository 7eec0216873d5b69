"""Prompt formats derived from each env's action vocabulary.

The same builder renders prompts for scripted experts (so their trajectories are training data
in exactly the format a model will see at inference) and for model agents. The action list always
comes from the env (`prompt_info()["actions"]`, i.e. `ActionSet.describe()`); a builder only adds
the response format. Shell and database use the response formats of AgentBench's OS-interaction
and DBBench tasks, so models tuned on AgentInstruct data see what they were trained on; every
other env gets the ReAct default (thought, then one action). Builders render text only: they must
not parse actions (that is the env's job).
"""

from __future__ import annotations

from typing import Any


class PromptBuilder:
    """ReAct-style default: a system prompt listing the actions; one user turn per observation."""

    def system(self, env_info: dict[str, Any]) -> str:
        return (
            f"You are an agent acting in the '{env_info['env']}' environment.\n"
            f"{env_info.get('doc', '')}\n\n"
            f"Available actions:\n{env_info['actions']}\n\n"
            f"{self.response_format()}"
        )

    def response_format(self) -> str:
        return (
            "Answer with a short thought, then exactly one action on its own line:\n"
            "Thought: <reasoning>\nAction: <action>"
        )

    def user_turn(self, observation: dict[str, Any], first: bool) -> str:
        text = observation["text"]
        if "screenshot" in observation:
            height, width = observation["screenshot"].shape[:2]
            text = f"[screenshot attached: {width}x{height} pixels; coordinates are in these pixels]\n{text}"
        if first:
            return f"Task: {observation['goal']}\n\n{text}"
        return text


class AgentBenchOSPrompt(PromptBuilder):
    """AgentBench OS-interaction response format: `Think:` then `Act: bash` + a bash block,
    `Act: answer(...)` or `Act: finish`."""

    def response_format(self) -> str:
        return (
            "Each turn, first think, then take exactly one action, in one of these forms:\n"
            "1. Run a command (the reply is its output, truncated when long):\n"
            "Think: <reasoning>\n\nAct: bash\n\n```bash\n<one bash command or script>\n```\n"
            "2. Give the answer when the question asks for one:\n"
            "Think: <reasoning>\n\nAct: answer(<the answer>)\n"
            "3. Finish when the task asked for a change and it is done:\n"
            "Think: <reasoning>\n\nAct: finish\n"
            "Commands must not wait for keyboard input."
        )


class AgentBenchDBPrompt(PromptBuilder):
    """AgentBench DBBench response format: `Action: Operation` + one SQL block, or
    `Action: Answer` + `Final Answer: [...]`."""

    def response_format(self) -> str:
        return (
            "Each turn, think briefly, then either run one SQL statement:\n"
            "Action: Operation\n```sql\n<one SQL statement on one line>\n```\n"
            "or, when you have the answer (or the change is made), reply:\n"
            'Action: Answer\nFinal Answer: ["answer 1", "answer 2"]\n'
            "The answer must be a list, even with one element. Run exactly one statement per turn."
        )


BUILDERS: dict[str, type[PromptBuilder]] = {"shell": AgentBenchOSPrompt, "database": AgentBenchDBPrompt}


def prompt_builder(env: str) -> PromptBuilder:
    """The prompt format for an env: AgentBench's for shell and database, ReAct otherwise."""
    return BUILDERS.get(env, PromptBuilder)()
