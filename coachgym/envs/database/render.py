"""What the agent reads: query results and the episode's opening description.

Results are rendered as DBBench renders them, the Python repr of the row list
(`[('Dallas', 3)]`, `[]` for statements without rows), cut at 800 characters with `[TRUNCATED]`
(rows the backend's limits left out are noted after the list, in brackets),
so models trained on AgentBench see the format they know. Values are plain (no `Decimal(...)`),
except under the AgentBench v0.2 protocol, which shows the driver's reprs as v0.2 did;
`read_result` reads either back into plain values without evaluating anything.
Nothing here touches a database.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from coachgym.envs.database.backends.base import QueryResult
from coachgym.envs.database.schema import Table, plain

# The driver types whose reprs a v0.2 observation holds, by the name the repr calls.
_REPR_TYPES: dict[str, Any] = {"Decimal": Decimal, "datetime.date": dt.date, "datetime.datetime": dt.datetime,
                               "datetime.time": dt.time, "datetime.timedelta": dt.timedelta}

AGENTBENCH_OBSERVATION_CHARS = 800


def render_result(result: QueryResult, max_chars: int = AGENTBENCH_OBSERVATION_CHARS) -> str:
    text = repr(result.rows) if result.returns_rows else "[]"
    if len(text) > max_chars:
        return text[:max_chars] + "[TRUNCATED]"
    if result.left_out:
        text += f"\n[{result.left_out}]"
    return text


class _DriverReprs(ast.NodeTransformer):
    """Turns `Decimal('0.3333')`-style calls of literal arguments into their plain constants."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        kind = _REPR_TYPES.get(ast.unparse(node.func))
        if kind is None:
            raise ValueError(f"not a driver value: {ast.unparse(node)[:80]}")
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
        return ast.Constant(plain(kind(*args, **kwargs)))


def read_result(text: str) -> Any:
    """A rendered result read back as plain values (the notes after it dropped); ValueError,
    SyntaxError or TypeError when it is not one (an error message, a cut text)."""
    tree = ast.parse(text.split("\n[")[0].strip(), mode="eval")
    return ast.literal_eval(_DriverReprs().visit(tree))


def describe_tables(version: str, tables: Sequence[Table], show_row_counts: bool = False) -> str:
    """The opening observation: product, tables and columns. Row counts only on request, since
    AgentBench shows none and they answer counting questions outright."""
    lines = [f"Connected to a fresh {version} database with {len(tables)} table(s):"]
    for table in tables:
        columns = ", ".join(f"{c.name} {c.type}" for c in table.columns)
        lines.append(f"- {table.name} ({columns})" + (f" -- {len(table.rows)} rows" if show_row_counts else ""))
    lines.append("Run one SQL statement per action; answer with the final values when done.")
    return "\n".join(lines)
