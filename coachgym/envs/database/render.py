"""What the agent reads: query results and the episode's opening description.

Results are rendered as DBBench renders them, the Python repr of the row list
(`[('Dallas', 3)]`, `[]` for statements without rows), cut at 800 characters with `[TRUNCATED]`
(rows the backend's limits left out are noted after the list, in brackets),
so models trained on AgentBench see the format they know. Values are plain (no `Decimal(...)`),
so the text is also a literal that experts and tools can read back with `ast.literal_eval`.
Nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Sequence

from coachgym.envs.database.backends.base import QueryResult
from coachgym.envs.database.schema import Table

AGENTBENCH_OBSERVATION_CHARS = 800


def render_result(result: QueryResult, max_chars: int = AGENTBENCH_OBSERVATION_CHARS) -> str:
    text = repr(result.rows) if result.returns_rows else "[]"
    if len(text) > max_chars:
        return text[:max_chars] + "[TRUNCATED]"
    if result.left_out:
        text += f"\n[{result.left_out}]"
    return text


def describe_tables(version: str, tables: Sequence[Table], show_row_counts: bool = False) -> str:
    """The opening observation: product, tables and columns. Row counts only on request, since
    AgentBench shows none and they answer counting questions outright."""
    lines = [f"Connected to a fresh {version} database with {len(tables)} table(s):"]
    for table in tables:
        columns = ", ".join(f"{c.name} {c.type}" for c in table.columns)
        lines.append(f"- {table.name} ({columns})" + (f" -- {len(table.rows)} rows" if show_row_counts else ""))
    lines.append("Run one SQL statement per action; answer with the final values when done.")
    return "\n".join(lines)
