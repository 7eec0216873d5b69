"""`DatabaseExpert`: replays a task's reference SQL, then answers with what the database said.

It may read the task's privileged `setup["solution_sql"]` (the built-in tasks' gold statements,
DBBench's `sql.query` or `label`), but it acts only through action text a model could write,
and reads the answer back from the observation (with `ast.literal_eval`, never `eval`). For
DBBench tasks it writes DBBench's own format (`Action: Operation` / `Final Answer:`) so the
collected trajectories are AgentBench-style training data.
"""

from __future__ import annotations

import ast
import json
from typing import Any

from coachgym.envs.core import Expert, Task
from coachgym.envs.database.vocabulary import DATABASE_ACTIONS


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
            rows = ast.literal_eval(text.split("\n[")[0].strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return []
        if not isinstance(rows, list):
            return []
        return [cell for row in rows for cell in (row if isinstance(row, tuple) else (row,))]
