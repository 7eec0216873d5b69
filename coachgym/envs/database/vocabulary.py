"""The database env's action vocabulary and its AgentBench DBBench dialect.

Two actions, declared once as data: `sql` (a ```sql block holding one statement) and `answer`
(a list of values; ends the episode). The AgentBench dialect also reads DBBench's own format,
`Action: Operation` followed by a ```sql block (only the first block runs, as in DBBench), and
`Action: Answer` followed by `Final Answer: [...]`. The final-answer list is read with
`ast.literal_eval` or as plain text, never evaluated (AgentBench issue #234 is what not to do).
"""

from __future__ import annotations

import ast
import re

from coachgym.envs.actions import ActionArg, ActionSet, ActionSpec, ParsedAction, invalid_format

_ACTION = re.compile(r"Action\s*:\s*\**\s*(Operation|Answer)\b(?!\s*\()", re.IGNORECASE)
_FINAL = re.compile(r"Final\s+Answer\s*:[ \t]*(.*)", re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*(?:sql|mysql|sqlite|postgresql|postgres)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def parse_answer_values(text: str) -> list:
    """A final-answer text as a list of values, read as AgentBench reads it: a `[...]` text is a
    Python/JSON list literal, or else split at commas outside quotes; any other text is one value
    (so "1,174" stays one number and `'Ann'` one name, not a tuple)."""
    text = text.strip()
    if not text:
        return []
    if not (text.startswith("[") and text.endswith("]")):
        return [text]
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _split_outside_quotes(text[1:-1])
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def _split_outside_quotes(text: str) -> list[str]:
    """`a, 'b, c'` -> ['a', 'b, c']: the fallback for a bracketed list that is not a literal."""
    items, current, quoted = [], "", False
    for char in text:
        if char in "'\"":
            quoted = not quoted
        elif char == "," and not quoted:
            if current.strip():
                items.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        items.append(current.strip())
    return items


def agentbench_dialect(text: str) -> ParsedAction | None:
    """DBBench's `Action: Operation` / `Action: Answer` format; None when the text is not in it."""
    action = _ACTION.search(text)
    final = _FINAL.search(text)
    if action is None and final is None:
        return None
    if action is not None and action.group(1).lower() == "operation":
        block = _FENCE.search(text, action.end())
        if block is None:
            raise invalid_format("`Action: Operation` must be followed by a ```sql code block holding one statement.")
        return ParsedAction(name="sql", args={"query": block.group(1).strip()}, raw=text)
    if final is None:
        raise invalid_format("`Action: Answer` must be followed by `Final Answer: [\"value\", ...]`.")
    return ParsedAction(name="answer", args={"values": parse_answer_values(final.group(1))}, raw=text)


DATABASE_ACTIONS = ActionSet(
    [
        ActionSpec(
            name="sql",
            doc="Run exactly one SQL statement. The reply is the result rows, or the database's error.",
            args=[ActionArg(name="query", doc="One SQL statement (a trailing semicolon is fine).")],
            block="sql",
            examples=["```sql\nSELECT COUNT(*) FROM orders;\n```"],
        ),
        ActionSpec(
            name="answer",
            doc="Submit the final answer as a list of values and end the episode. After a task that "
            "changes the database, submit answer([]) once the change is made.",
            args=[ActionArg(name="values", type="json", optional=True, default=[], doc="e.g. [\"Paris\", 3]")],
            terminal=True,
            examples=['answer(["Ada Lovelace", 42])'],
        ),
    ],
    dialects=[agentbench_dialect],
)
