"""AgentBench v0.2's own instruction prompts, read from the user's AgentBench checkout.

coachgym may not ship AgentBench's prose, so `--agentbench-src PATH` points at a checkout and
the strings are taken from its task modules: `src/server/tasks/dbbench/__init__.py` (the
`big_prompt` instruction and the agent's fixed reply injected in `start_sample`) and
`src/server/tasks/os_interaction/task.py` (the instruction and the two problem lead-ins
injected in `_judge`, and the `ONE_SHOT` turns). The files are parsed with `ast` and only
literals are read: this module must never import or execute AgentBench code.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from pydantic import BaseModel

DBBENCH_FILE = Path("src/server/tasks/dbbench/__init__.py")
OS_FILE = Path("src/server/tasks/os_interaction/task.py")
Turn = dict[str, str]


class AgentBenchSourceError(ValueError):
    """The checkout lacks a prompt file, or the file does not hold the v0.2 prompt literals."""


class DBBenchPrompts(BaseModel):
    """v0.2 DBBench opens with `instruction` (user), `reply` (agent), then the task (user)."""

    instruction: str
    reply: str


class OSPrompts(BaseModel):
    """v0.2 OS opens with `instruction + first_lead + one_shot[0]` (user), the rest of `one_shot`
    (alternating agent/user), then `new_lead + description` (user)."""

    instruction: str
    first_lead: str
    one_shot: list[Turn]
    new_lead: str


def _parse(root: Path, relative: Path) -> ast.Module:
    path = root / relative
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError) as error:
        raise AgentBenchSourceError(
            f"Cannot read AgentBench's prompt file {path}: {type(error).__name__}: {error}. Pass --agentbench-src "
            f"the root of an AgentBench v0.2 checkout (the folder that holds {relative}).") from None


def _missing(root: Path, relative: Path, what: str) -> AgentBenchSourceError:
    return AgentBenchSourceError(
        f"{root / relative} does not hold {what} where AgentBench v0.2 keeps it; pass --agentbench-src the root of an "
        "AgentBench v0.2 checkout (other versions lay their prompts out differently).")


def _function(module: ast.Module, name: str) -> ast.AST | None:
    return next((n for n in ast.walk(module) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.name == name), None)


def _injected(function: ast.AST) -> list[dict[str, ast.expr]]:
    """The dict literals passed to `session.inject(...)`, in source order, as key -> value node."""
    calls = [n for n in ast.walk(function) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr == "inject" and n.args and isinstance(n.args[0], ast.Dict)]
    calls.sort(key=lambda n: (n.lineno, n.col_offset))
    return [{k.value: v for k, v in zip(c.args[0].keys, c.args[0].values) if isinstance(k, ast.Constant)}
            for c in calls]


def _text(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _assigned(module: ast.Module, name: str) -> Any:
    for node in module.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            try:
                return ast.literal_eval(node.value)
            except ValueError:
                return None
    return None


def _lead(node: ast.expr | None, right: type[ast.expr]) -> str | None:
    """`"literal" + <right>`: the literal."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and isinstance(node.right, right):
        return _text(node.left)
    return None


def read_dbbench(root: Path) -> DBBenchPrompts:
    module = _parse(root, DBBENCH_FILE)
    instruction = _assigned(module, "big_prompt")
    start = _function(module, "start_sample")
    replies = [_text(d.get("content")) for d in _injected(start) if _text(d.get("role")) == "agent"] if start else []
    if not isinstance(instruction, str) or not replies or replies[0] is None:
        raise _missing(root, DBBENCH_FILE, "the string `big_prompt` and the agent reply injected in `start_sample`")
    return DBBenchPrompts(instruction=instruction, reply=replies[0])


def read_os(root: Path) -> OSPrompts:
    module = _parse(root, OS_FILE)
    one_shot = _assigned(module, "ONE_SHOT")
    judge = _function(module, "_judge")
    injected = _injected(judge) if judge else []
    instruction = next((t for d in injected if (t := _text(d.get("content"))) is not None), None)
    new_lead = next((t for d in injected if (t := _lead(d.get("content"), ast.Attribute)) is not None), None)
    first_lead = next((t for n in ast.walk(judge) if isinstance(n, ast.AugAssign)
                       and (t := _lead(n.value, ast.Subscript)) is not None), None) if judge else None
    turns_ok = isinstance(one_shot, list) and len(one_shot) % 2 == 0 and one_shot and all(
        isinstance(t, dict) and isinstance(t.get("role"), str) and isinstance(t.get("content"), str) for t in one_shot)
    if not turns_ok or None in (instruction, new_lead, first_lead):
        raise _missing(root, OS_FILE, "the `ONE_SHOT` turns and the instruction and problem lead-ins injected in `_judge`")
    return OSPrompts(instruction=instruction, first_lead=first_lead, new_lead=new_lead,
                     one_shot=[{"role": t["role"], "content": t["content"]} for t in one_shot])
