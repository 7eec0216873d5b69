"""`DatabaseExpert`: replays a task's reference SQL, then answers with what the database said.

It may read the task's privileged `setup["solution_sql"]` (the built-in tasks' gold statements,
DBBench's `sql.query` or `label`), but it acts only through action text a model could write,
and reads the answer back from the observation (with `render.read_result`, never `eval`). For
DBBench tasks it writes DBBench's own format (`Action: Operation` / `Final Answer:`) so the
collected trajectories are AgentBench-style training data.

DBBench's gold SQL often has a space lost before a keyword (`AverageFROM t`, `DESCLIMIT 1`);
`repair_glued_keywords` puts it back before the expert runs a DBBench statement. That is a
replay-only tokenisation fix: the evaluator and the task data never change, so an agent that
writes such SQL still gets the database's error. An empty result is answered as `["None"]`,
DBBench's label for "no value"; an error is answered with nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

from coachgym.envs.core import Expert, Task
from coachgym.envs.database.render import read_result
from coachgym.envs.database.vocabulary import DATABASE_ACTIONS

# Quoted parts ('..', "..", `..`, [..]) are never touched; only the text between them is.
_QUOTED = re.compile(r"""'(?:[^'\\]|\\.|'')*'|"[^"]*"|`[^`]*`|\[[^\]]*\]""")
# An upper-case clause keyword glued to the end of a lower-case word, a number or a `)`, or
# LIMIT glued to ASC/DESC; it must be followed by a space, a quote, a bracket or the end.
_GLUED = re.compile(r"(?<=[a-z0-9_)])(FROM|WHERE|GROUP|ORDER|HAVING|LIMIT|AND)(?=[\s(`\"'\[]|$)"
                    r"|(?:(?<=\bASC)|(?<=\bDESC))LIMIT\b")
_LEADING = re.compile(r"^(FROM|WHERE|GROUP|ORDER|HAVING|LIMIT|AND)(?=[\s(`\"'\[]|$)")


def repair_glued_keywords(sql: str) -> str:
    """`SELECT AverageFROM t WHERE x = 'a'AND y = 1` -> `SELECT Average FROM t WHERE x = 'a' AND y = 1`."""
    out, position = [], 0
    for quoted in [*_QUOTED.finditer(sql), None]:
        end = quoted.start() if quoted else len(sql)
        plain = _GLUED.sub(lambda m: " " + m.group(0), sql[position:end])
        if position and out and out[-1][-1:] in "'\"`]":  # a keyword right after a quoted name
            plain = _LEADING.sub(lambda m: " " + m.group(0), plain)
        out.append(plain)
        if quoted:
            out.append(quoted.group(0))
            position = quoted.end()
    return "".join(out)


class DatabaseExpert(Expert):
    def __init__(self, task: Task):
        super().__init__(task)
        self._pending = list(task.setup.get("solution_sql", []))
        self._agentbench = task.setup.get("dialect") == "mysql"
        self._returns_rows = task.evaluator.get("kind") == "answer"

    def act(self, observation: dict[str, Any]) -> str:
        if self._pending:
            statement = self._pending.pop(0)
            if self._agentbench:
                statement = repair_glued_keywords(statement)
                return f"I run the query for this.\nAction: Operation\n```sql\n{statement}\n```"
            return "Thought: I run the next statement.\nAction: " + DATABASE_ACTIONS.format("sql", statement)
        values = self._values(observation["text"]) if self._returns_rows else []
        if self._agentbench:
            return f"The result is known.\nAction: Answer\nFinal Answer: {json.dumps(values, ensure_ascii=False)}"
        return "Thought: the last result answers the question.\nAction: " + DATABASE_ACTIONS.format("answer", values)

    @staticmethod
    def _values(text: str) -> list[Any]:
        """The cells of the last result shown, row by row; [] when it was an error."""
        try:
            rows = read_result(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return []
        if not isinstance(rows, list):
            return []
        if not rows:
            return ["None"]
        return [cell for row in rows for cell in (row if isinstance(row, tuple) else (row,))]
