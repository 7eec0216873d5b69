"""`DatabaseEnv`: answer questions and change data by issuing SQL (AgentBench DBBench style).

The env composes the pieces of this package: a backend (SQLite, MariaDB/MySQL, PostgreSQL)
builds a fresh isolated database per episode from the task's tables; the vocabulary parses each
action; `sqltext` enforces one statement per action and adapts MySQL-flavoured SQL of DBBench
tasks to the backend; `render` shows results; `evaluate` scores from the final database state,
read by the backend's least-privileged evaluator (`read_table`) after the agent's connection is
closed. It must not run agent SQL anywhere but the backend's restricted connection. The lexer's
one-statement check is for a clear message only; the backends' protocols enforce it.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from coachgym.envs.actions import ActionError, ParsedAction
from coachgym.envs.core import AgentEnv, Evaluation, StepResult, Task, TaskSuite
from coachgym.envs.database import agentbench, sqltext
from coachgym.envs.database.backends import (
    BACKEND_VARIABLE,
    Limits,
    QueryError,
    backend_kind,
    make_backend,
    mysql_default,
)
from coachgym.envs.database.evaluate import evaluate
from coachgym.envs.database.render import AGENTBENCH_OBSERVATION_CHARS, describe_tables, render_result
from coachgym.envs.database.schema import Table
from coachgym.envs.database.vocabulary import DATABASE_ACTIONS

Protocol = Literal["coachgym", "agentbench-v0.2"]
PROTOCOLS: tuple[str, ...] = Protocol.__args__


def task_tables(task: Task) -> list[Table]:
    """The tables a task's world starts with: a named built-in world, or tables inline."""
    if "world" in task.setup:
        from coachgym.envs.database.worlds import world_tables

        return world_tables(task.setup["world"])
    return [Table.model_validate(t) for t in task.setup.get("tables", [])]


class DatabaseEnv(AgentEnv):
    """Operate a relational database with SQL to answer a question or make a requested change.

    Observation: `text` is the opening description (database product and version, each table's
    columns; row counts only with `show_row_counts=True`, as AgentBench shows none), then each statement's result rows as a Python-style list (DBBench's
    format, cut at 800 characters) or the database's error message.
    Actions: `sql` (a ```sql block with one statement; DBBench's `Action: Operation` works too)
    and `answer([...])` (DBBench's `Action: Answer` + `Final Answer: [...]`), which ends the episode.
    Every statement is committed as it runs, as in DBBench.
    Reward: 1 when the evaluator accepts the final state: the answer (as a set, numbers within
    0.01) for questions; the changed table's contents (or DBBench's MD5 table checksum) for
    INSERT/UPDATE tasks. Each episode gets its own database and user, dropped at the next reset
    or on `close()`.
    Backends: `backend="sqlite"` (default, or $COACHGYM_DB_BACKEND), `"mariadb"`/`"mysql"` or
    `"postgres"` with `server_url=` (or $COACHGYM_MYSQL_URL / $COACHGYM_POSTGRES_URL). MySQL-dialect
    suites (DBBench) default to MariaDB instead (`mysql_default`: the given URL, else a local server
    when MariaDB is installed), and to SQLite with a warning only when there is none.
    Protocol: `protocol="agentbench-v0.2"` plays AgentBench v0.2's DBBench rules instead
    (`agentbench.py`): its reply format, a block of several statements run as v0.2's driver ran
    it, an invalid reply ends the episode, 15 operations and then one reply for the answer, an
    empty opening observation (the task text in `goal` is all v0.2 shows), and v0.2's stricter
    answer check.
    """

    name = "database"
    actions = DATABASE_ACTIONS
    default_max_steps = 15

    def __init__(
        self,
        task: str | Task | None = None,
        suite: str | TaskSuite | None = None,
        backend: str | None = None,
        server_url: str | None = None,
        limits: Limits | dict[str, Any] | None = None,
        observation_chars: int = AGENTBENCH_OBSERVATION_CHARS,
        show_row_counts: bool = False,
        protocol: Protocol = "coachgym",
        **kwargs: Any,
    ):
        if protocol not in PROTOCOLS:
            raise ValueError(f"Unknown database protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}.")
        self.protocol = protocol
        if protocol == "agentbench-v0.2":
            kwargs.setdefault("max_invalid_actions", 1)  # v0.2 fails a sample at its first unreadable reply
            kwargs.setdefault("max_steps", agentbench.MAX_ROUNDS + 1)
            self.actions = agentbench.V02_ACTIONS
        super().__init__(task=task, suite=suite, **kwargs)
        if backend is None and not os.environ.get(BACKEND_VARIABLE) and all(
                t.setup.get("dialect") == "mysql" for t in self.suite.tasks):
            backend, server_url = mysql_default(server_url)
        self.backend_kind = backend_kind(backend)
        self.limits = Limits.model_validate(limits) if isinstance(limits, dict) else (limits or Limits())
        self.db = make_backend(self.backend_kind, server_url, self.limits)
        self.db.native_values = protocol == "agentbench-v0.2"  # v0.2 showed the driver's reprs
        self.observation_chars = observation_chars
        self.show_row_counts = show_row_counts
        self.answer: list[Any] | str | None = None  # v0.2 keeps the raw `Final Answer:` text
        self._names: dict[str, str] = {}
        self._mysql_dialect = False

    def _setup(self, task: Task, seed: int) -> str:
        tables = task_tables(task)
        self._mysql_dialect = task.setup.get("dialect") == "mysql"
        self.db.create(tables, mysql_dialect=self._mysql_dialect)
        self.answer = None
        self._names = {n.lower(): n for t in tables for n in [t.name, *t.column_names()]}
        if self.protocol == "agentbench-v0.2" and "dbbench" in task.setup:
            # v0.2 opens with the task text alone (its add_description names the table and headers),
            # which every prompt builder already shows from obs["goal"]; nothing is added to it.
            return ""
        return describe_tables(self.db.version(), tables, self.show_row_counts)

    def _execute(self, action: ParsedAction) -> StepResult:
        if self.protocol == "agentbench-v0.2":
            return self._execute_v02(action)
        if action.name == "answer":
            values = action.args["values"]
            if not isinstance(values, list):
                raise ActionError(f"answer takes a list of values, e.g. answer([42]) or answer([]); got "
                                  f"{type(values).__name__} {values!r:.100}.")
            self.answer = values
            return StepResult(text=f"Answer submitted: {self.answer!r:.300}", done=True)
        try:
            found = sqltext.block(action.args["query"], self.backend_kind, self._names, self._mysql_dialect)
        except sqltext.MySQLSyntaxError as error:
            return StepResult(text=str(error))
        if not found:
            raise ActionError("The SQL block holds no statement; write one SQL statement inside ```sql ... ```.")
        if len(found) > 1:
            raise ActionError(f"Run one statement per action; this block holds {len(found)} statements. "
                              "Send them one at a time.")
        try:
            result = self.db.execute(found[0])
        except QueryError as error:
            return StepResult(text=error.message)
        return StepResult(text=render_result(result, self.observation_chars))

    def _execute_v02(self, action: ParsedAction) -> StepResult:
        if action.name == "answer":
            self.answer = action.args["text"]
            return StepResult(text=f"Answer submitted: {self.answer!r:.300}", done=True)
        if self.steps > agentbench.MAX_ROUNDS:  # v0.2 reads this last reply for an answer only
            return StepResult(text=f"Not run: {agentbench.MAX_ROUNDS} operations were the limit.")
        try:
            found = sqltext.block(action.args["query"], self.backend_kind, self._names, self._mysql_dialect)
            result = agentbench.run_block(self.db, found)
        except sqltext.MySQLSyntaxError as error:
            return StepResult(text=str(error))
        except QueryError as error:
            return StepResult(text=agentbench.error_text(error))
        return StepResult(text=result if isinstance(result, str) else render_result(result, self.observation_chars))

    def _evaluate(self) -> Evaluation:
        self.db.end_agent_session()  # the episode is over: nothing the agent started may still run or hold locks
        spec = self.task.evaluator if self.task else {}
        if self.protocol == "agentbench-v0.2" and spec.get("kind") == "answer":
            ok = agentbench.answer_matches(self.answer, spec["expected"])
            return Evaluation(reward=float(ok), success=ok, detail=f"answer {self.answer!r:.200} "
                              f"{'matches' if ok else 'does not match'} {spec['expected']!r:.200} (AgentBench v0.2 check)")
        return evaluate(spec, self.answer, self.db.read_table)

    def close(self) -> None:
        self.db.close()
        super().close()
