"""Action vocabularies as data, and the one parser every env shares.

An env declares its actions as `ActionSpec` records (name, typed arguments, doc, examples). The
prompt text (`ActionSet.describe`), the parser (`ActionSet.parse`), the canonical formatter used by
scripted experts (`ActionSet.format`) and the random baseline (`ActionSet.sample`) all derive from
that one list, so they cannot drift apart. Env-specific syntaxes (AgentBench's `Act: bash`,
WebArena's `click [12]`, AndroidWorld JSON) plug in as *dialects*: functions that translate raw
text into a `ParsedAction` before the generic syntaxes are tried.

Agent text is only ever parsed with `ast` and `ast.literal_eval`; nothing here executes it.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Collection, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

MAX_ACTION_CHARS = 20_000
MAX_NESTING = 32  # no action argument is deeper than a list of objects; deeper means junk or an attack
ArgType = Literal["str", "int", "float", "bool", "json"]


class ActionError(Exception):
    """An action the env cannot carry out; `kind` is the AgentBench outcome it counts towards."""

    def __init__(self, message: str, kind: Literal["invalid_format", "invalid_action"] = "invalid_action"):
        super().__init__(message)
        self.message = message
        self.kind = kind


def invalid_format(message: str) -> ActionError:
    return ActionError(message, kind="invalid_format")


def from_normalized(x: float, y: float, width: float, height: float) -> tuple[float, float]:
    """A 0-999 action point (CogAgent's convention, `setup["coordinates"] = "normalized"`) on a
    `width` x `height` screen; a point off that range is the agent's invalid action."""
    if not (0 <= x <= 999 and 0 <= y <= 999):
        raise ActionError(f"Normalized coordinates must be in 0..999, got ({x}, {y}).")
    return x * width / 1000, y * height / 1000


class ActionArg(BaseModel):
    name: str
    type: ArgType = "str"
    doc: str = ""
    optional: bool = False
    default: Any = None
    choices: list[Any] | None = None
    low: float | None = Field(default=None, description="Lower bound used by validation and sampling.")
    high: float | None = Field(default=None, description="Upper bound used by validation and sampling.")


class ActionSpec(BaseModel):
    """One action an agent may take."""

    name: str
    doc: str
    args: list[ActionArg] = []
    block: str | None = Field(
        default=None,
        description="If set, the action is written as a fenced code block in this language and its "
        "single argument is the block's content (e.g. ```bash ... ```).",
    )
    terminal: bool = Field(default=False, description="Taking this action ends the episode.")
    examples: list[str] = []

    def signature(self) -> str:
        if self.block:
            return f"```{self.block}\n<{self.args[0].name}>\n```"
        parts = []
        for arg in self.args:
            part = f"{arg.name}: {arg.type}"
            if arg.choices:
                part += " (one of " + ", ".join(map(str, arg.choices)) + ")"
            parts.append(part + (" = optional" if arg.optional else ""))
        return f"{self.name}({', '.join(parts)})"


class ParsedAction(BaseModel):
    name: str
    args: dict[str, Any] = {}
    raw: str = ""


Dialect = Callable[[str], "ParsedAction | None"]

_FENCE = re.compile(r"```[ \t]*([\w+-]*)[ \t]*\n(.*?)```", re.DOTALL)


def _literal(node: ast.expr, source: str) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        # A bare word such as answer(Paris) is taken as text rather than rejected.
        return ast.get_source_segment(source, node)


class ActionSet:
    """The parsed, validated action vocabulary of one env."""

    def __init__(self, specs: Sequence[ActionSpec], dialects: Sequence[Dialect] = ()):
        self.specs = {spec.name: spec for spec in specs}
        self.dialects = list(dialects)
        names = "|".join(re.escape(n) for n in sorted(self.specs, key=len, reverse=True))
        self._call = re.compile(rf"(?:^|[Aa]ction\s*:)[ \t>`*]*({names})[ \t]*\(", re.MULTILINE)
        self._bare = re.compile(rf"(?:^|[Aa]ction\s*:)[ \t>`*]*({names})[ \t`*.]*$", re.MULTILINE)

    # ----------------------------------------------------------------- prompt side
    def describe(self, only: Collection[str] | None = None) -> str:
        """The action section of a prompt: one entry per action (or per action in `only`), derived from the specs."""
        lines = []
        for spec in self.specs.values():
            if only is not None and spec.name not in only:
                continue
            lines.append(f"- {spec.signature()}: {spec.doc}")
            for arg in spec.args:
                if arg.doc:
                    lines.append(f"    {arg.name}: {arg.doc}")
            for example in spec.examples:
                lines.append(f"    e.g. {example}")
        return "\n".join(lines)

    def format(self, name: str, *values: Any, **named: Any) -> str:
        """Canonical text for an action; what scripted experts emit and what `parse` reads back."""
        spec = self.specs[name]
        if spec.block:
            return f"```{spec.block}\n{(values or tuple(named.values()))[0]}\n```"
        if not spec.args and not values and not named:
            return f"{name}()"
        rendered = [json.dumps(v, ensure_ascii=False) if isinstance(v, str) else repr(v) for v in values]
        rendered += [
            f"{k}={json.dumps(v, ensure_ascii=False) if isinstance(v, str) else repr(v)}" for k, v in named.items()
        ]
        return f"{name}({', '.join(rendered)})"

    def sample(self, rng: np.random.Generator) -> str:
        """A well-formed action with random arguments (the random-agent baseline)."""
        spec = list(self.specs.values())[int(rng.integers(len(self.specs)))]
        if spec.block:
            return spec.examples[int(rng.integers(len(spec.examples)))] if spec.examples else self.format(spec.name, "")
        values = [_sample_arg(arg, rng) for arg in spec.args if not arg.optional]
        return self.format(spec.name, *values)

    # ----------------------------------------------------------------- parser side
    def parse(self, text: Any) -> ParsedAction:
        """Parse agent text into a validated action, or raise `ActionError` saying what was wrong."""
        if not isinstance(text, str):
            raise invalid_format(f"The action must be text, got {type(text).__name__}.")
        if len(text) > MAX_ACTION_CHARS:
            raise invalid_format(f"The action is {len(text)} characters long; the limit is {MAX_ACTION_CHARS}.")
        if not text.strip():
            raise invalid_format("The action is empty. " + self._expected())
        try:
            return self._parse_text(text)
        except RecursionError:  # e.g. json.loads of '[' * 5000: Python's parsers recurse per bracket
            raise _too_deep() from None

    def _parse_text(self, text: str) -> ParsedAction:
        for dialect in self.dialects:
            parsed = dialect(text)
            if parsed is not None:
                return self.validate(parsed)
        parsed = self._parse_block(text) or self._parse_call(text)
        if parsed is None:
            raise invalid_format("No action found in the output. " + self._expected())
        return self.validate(parsed)

    def validate(self, action: ParsedAction) -> ParsedAction:
        spec = self.specs.get(action.name)
        if spec is None:
            raise invalid_format(f"Unknown action {action.name!r}. " + self._expected())
        unknown = set(action.args) - {a.name for a in spec.args}
        if unknown:
            raise invalid_format(f"{spec.name} got unexpected argument(s) {sorted(unknown)}; usage: {spec.signature()}")
        if any(_nesting(value) > MAX_NESTING for value in action.args.values()):
            raise _too_deep()
        args: dict[str, Any] = {}
        for arg in spec.args:
            if arg.name not in action.args:
                if not arg.optional:
                    raise invalid_format(f"{spec.name} is missing argument {arg.name!r}; usage: {spec.signature()}")
                args[arg.name] = arg.default
                continue
            args[arg.name] = _coerce(spec, arg, action.args[arg.name])
        return ParsedAction(name=spec.name, args=args, raw=action.raw)

    def _expected(self) -> str:
        return "Expected one of: " + "; ".join(s.signature() for s in self.specs.values())

    def _parse_block(self, text: str) -> ParsedAction | None:
        block_specs = [s for s in self.specs.values() if s.block]
        if not block_specs:
            return None
        for match in _FENCE.finditer(text):
            lang = match.group(1).lower()
            spec = next((s for s in block_specs if s.block == lang), None)
            if spec is None and lang == "" and len(block_specs) == 1:
                spec = block_specs[0]
            if spec is not None:
                return ParsedAction(name=spec.name, args={spec.args[0].name: match.group(2).strip("\n")}, raw=text)
        return None

    def _parse_call(self, text: str) -> ParsedAction | None:
        calls = list(self._call.finditer(text))
        bares = [m for m in self._bare.finditer(text) if not self.specs[m.group(1)].args or
                 all(a.optional for a in self.specs[m.group(1)].args)]
        last_call = calls[-1] if calls else None
        last_bare = bares[-1] if bares else None
        if last_bare is not None and (last_call is None or last_bare.start() > last_call.start()):
            return ParsedAction(name=last_bare.group(1), raw=text)
        if last_call is None:
            return None
        return self._call_arguments(last_call.group(1), text, last_call.end() - 1)

    def _call_arguments(self, name: str, text: str, open_paren: int) -> ParsedAction:
        spec = self.specs[name]
        closes = [i for i, ch in enumerate(text[open_paren:], start=open_paren) if ch == ")"]
        if not closes:
            raise invalid_format(f"Unclosed parenthesis in {name}(...); usage: {spec.signature()}")
        last_error = ""
        for close in closes[:200]:
            node, source, last_error = _parse_call_source(name + text[open_paren : close + 1], last_error)
            if node is None:
                continue
            if not isinstance(node, ast.Call):
                continue
            values = [_literal(a, source) for a in node.args]
            named = {kw.arg: _literal(kw.value, source) for kw in node.keywords if kw.arg}
            if len(values) > len(spec.args):
                raise invalid_format(f"{name} takes {len(spec.args)} argument(s), got {len(values)}; usage: {spec.signature()}")
            named.update({spec.args[i].name: v for i, v in enumerate(values)})
            return ParsedAction(name=name, args=named, raw=text)
        if len(spec.args) == 1 and spec.args[0].type == "str":
            # Free text such as answer(The file has 3 lines) is not Python, but its meaning is clear.
            inner = text[open_paren + 1 : closes[-1]].strip()
            return ParsedAction(name=name, args={spec.args[0].name: _unquote(inner)}, raw=text)
        raise invalid_format(f"Could not parse the arguments of {name}(...): {last_error}; usage: {spec.signature()}")


def _parse_call_source(source: str, last_error: str) -> tuple[ast.expr | None, str, str]:
    """Parse `name(...)`; models often put raw newlines inside quoted text, so retry with them escaped."""
    for candidate in (source, source.replace("\n", "\\n")):
        try:
            return ast.parse(candidate, mode="eval").body, candidate, last_error
        except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
            last_error = str(error)
    return None, source, last_error


def _nesting(value: Any) -> int:
    """How deeply lists, tuples, sets and dicts nest in `value`, counted without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, (list, tuple, set, frozenset)):
            if depth + 1 > MAX_NESTING:
                return depth + 1
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in item)
    return deepest


def _too_deep() -> ActionError:
    return invalid_format(f"The action nests brackets more than {MAX_NESTING} levels deep; action arguments are "
                          "plain values such as numbers and text (lists only where an action asks for one).")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _coerce(spec: ActionSpec, arg: ActionArg, value: Any) -> Any:
    def fail(expected: str) -> ActionError:
        return invalid_format(f"Argument {arg.name!r} of {spec.name} must be {expected}, got {value!r:.80}; usage: {spec.signature()}")

    if arg.type == "int":
        if isinstance(value, bool):
            raise fail("an integer")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d{1,18}\s*", value):
            value = int(value)
        if not isinstance(value, int):
            raise fail("an integer")
    elif arg.type == "float":
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise fail("a number") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail("a number")
        value = float(value)
    elif arg.type == "bool":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if not isinstance(value, bool):
            raise fail("true or false")
    elif arg.type == "str":
        if isinstance(value, (list, dict, tuple, set)):
            raise fail("text")
        value = "" if value is None else str(value)
    if arg.choices is not None and value not in arg.choices:
        raise fail("one of " + ", ".join(map(str, arg.choices)))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if (arg.low is not None and value < arg.low) or (arg.high is not None and value > arg.high):
            raise fail(f"between {arg.low} and {arg.high}")
    return value


def _sample_arg(arg: ActionArg, rng: np.random.Generator) -> Any:
    if arg.choices:
        return arg.choices[int(rng.integers(len(arg.choices)))]
    low = 0 if arg.low is None else arg.low
    high = 100 if arg.high is None else arg.high
    if arg.type == "int":
        return int(rng.integers(int(low), int(high) + 1))
    if arg.type == "float":
        return float(rng.uniform(low, high))
    if arg.type == "bool":
        return bool(rng.integers(2))
    words = ["ok", "yes", "no", "done", "hello", "42", "test", "file", "item"]
    return words[int(rng.integers(len(words)))]
