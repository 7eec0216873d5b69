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

from pathlib import Path
from typing import Any

from coachgym.agents.agentbench_source import DBBenchPrompts, OSPrompts, read_dbbench, read_os


class PromptBuilder:
    """ReAct-style default: a system prompt listing the actions; one user turn per observation."""

    def system(self, env_info: dict[str, Any]) -> str | None:
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

    def preamble(self, env_info: dict[str, Any]) -> list[dict[str, str]]:
        """Fixed turns between the system prompt and the first observation (none by default)."""
        return []

    def user_turn(self, observation: dict[str, Any], first: bool) -> str:
        text = observation["text"]
        if "screenshot" in observation:
            height, width = observation["screenshot"].shape[:2]
            text = f"[screenshot attached: {width}x{height} pixels]\n{text}"
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


class AgentBenchV02DBPrompt(AgentBenchDBPrompt):
    """AgentBench v0.2's DBBench layout, with its own instruction from the user's checkout: no system
    prompt; the instruction as a user turn, the agent's fixed reply, then the task text alone."""

    def __init__(self, prompts: DBBenchPrompts):
        self.prompts = prompts

    def system(self, env_info: dict[str, Any]) -> None:
        return None

    def preamble(self, env_info: dict[str, Any]) -> list[dict[str, str]]:
        return [{"role": "user", "content": self.prompts.instruction},
                {"role": "assistant", "content": self.prompts.reply}]

    def user_turn(self, observation: dict[str, Any], first: bool) -> str:
        return observation["goal"] if first else observation["text"]


class AgentBenchV02OSPrompt(AgentBenchOSPrompt):
    """AgentBench v0.2's OS layout, with its own instruction and one-shot example from the user's
    checkout: no system prompt; the instruction joined to the example's question, the example's
    turns, then the task behind v0.2's lead-in (the shell's opening text is not shown, as in v0.2)."""

    def __init__(self, prompts: OSPrompts):
        self.prompts = prompts

    def system(self, env_info: dict[str, Any]) -> None:
        return None

    def preamble(self, env_info: dict[str, Any]) -> list[dict[str, str]]:
        first, *rest = self.prompts.one_shot
        opening = self.prompts.instruction + self.prompts.first_lead + first["content"]
        return [{"role": "user", "content": opening}] + [
            {"role": "assistant" if t["role"] == "agent" else t["role"], "content": t["content"]} for t in rest]

    def user_turn(self, observation: dict[str, Any], first: bool) -> str:
        return self.prompts.new_lead + observation["goal"] if first else observation["text"]


def agentbench_v02_builders(source: Path, envs: set[str]) -> dict[str, PromptBuilder]:
    """v0.2's own prompts for the AgentBench envs among `envs`, read from the checkout at `source`
    (an `AgentBenchSourceError` names the file that is missing or unreadable)."""
    readers = {"database": lambda: AgentBenchV02DBPrompt(read_dbbench(source)),
               "shell": lambda: AgentBenchV02OSPrompt(read_os(source))}
    return {env: readers[env]() for env in sorted(envs & readers.keys())}


BUILDERS: dict[str, type[PromptBuilder]] = {"shell": AgentBenchOSPrompt, "database": AgentBenchDBPrompt}


def prompt_builder(env: str) -> PromptBuilder:
    """The prompt format for an env: AgentBench's for shell and database, ReAct otherwise."""
    return BUILDERS.get(env, PromptBuilder)()
