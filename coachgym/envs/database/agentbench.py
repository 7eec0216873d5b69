"""AgentBench v0.2 DBBench episode rules, for `DatabaseEnv(protocol="agentbench-v0.2")`.

Scores under this protocol are the ones to compare with published AgentBench numbers, so each
rule follows v0.2's DBBench task (THUDM/AgentBench, `src/server/tasks/dbbench/`, commit 41e6807)
and its MySQL driver (mysql-connector-python 8.0.33, C extension), read and measured, not copied:
- a reply is read only as v0.2 reads it: the first `Action: <word>` line; `Operation` must be
  followed by a ```` ```sql ```` block (its newlines become spaces before it runs); anything else
  must contain a line `Final Answer: ...`, whose raw text is the answer. Any other reply ends the
  episode at once (v0.2's AGENT_VALIDATION_FAILED);
- a block of several statements: the driver sent them all, read the first result and then failed
  with "Commands out of sync" (measured against MariaDB with that driver), and the reconnect before
  the next statement rolled back what the block changed, except what a COMMIT or a DDL statement
  in it had committed. `run_block` reproduces exactly that;
- observations are `str()` of the driver's row list, so its Python values show as reprs
  (`[(Decimal('0.3333'),)]`, `datetime.date(2020, 1, 1)`): the backend keeps the driver's values
  (`native_values`), which PyMySQL and psycopg type as mysql-connector did for DECIMAL/NUMERIC and
  DATE; SQLite has no such types, so there they stay int/float/str. A server error reads as
  mysql-connector's `str(error)`, `1054 (42S22): Unknown column ...` (`error_text`; PyMySQL reads
  the code and SQLSTATE from the same error packet);
- the answer check (`answer_matches`) is v0.2's, stricter than AgentBench main's
  (`evaluate.answers_match`): the answer text is read as a Python literal and turned into a list
  (else it is one text); one value each -> equal as floats, else as exact values; otherwise the two
  must be equal as sets, value types included.
It never evaluates agent text: where v0.2 ran `eval()` on the answer, a literal is read with
`ast.literal_eval` (an expression that is not a literal is kept as text, where `eval` would have
computed it); this is the one documented departure.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from coachgym.envs.actions import ActionArg, ActionSet, ActionSpec, ParsedAction, invalid_format
from coachgym.envs.database.backends import DatabaseBackend, QueryError, QueryResult

MAX_ROUNDS = 15  # v0.2's configs/tasks/dbbench.yaml; one more reply is read for the final answer
OUT_OF_SYNC = "Commands out of sync; you can't run this command now"

_ACTION = re.compile(r"Action: (.*?)\n")
_SQL_BLOCK = re.compile(r"```sql\n([\s\S]*?)\n```")
_FINAL_ANSWER = re.compile(r"\nFinal Answer:(.*)")
# Statements after which MySQL has committed: the explicit ones and DDL (implicit commit).
_DDL = frozenset({"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"})
# Transaction control, done by the env itself (MySQL commits at BEGIN / START TRANSACTION).
_CONTROL = {"COMMIT": True, "BEGIN": True, "START": True, "ROLLBACK": False}


def v02_dialect(text: str) -> ParsedAction:
    """One reply as v0.2 reads it; raises `invalid_format` (which ends the episode) otherwise."""
    action = _ACTION.search(text)
    if action is not None and action.group(1) == "Operation":
        block = _SQL_BLOCK.search(text)
        if block is None:
            raise invalid_format("`Action: Operation` was not followed by a ```sql block; under the AgentBench "
                                 "v0.2 protocol this ends the episode.")
        return ParsedAction(name="sql", args={"query": block.group(1).strip().replace("\n", " ")}, raw=text)
    final = _FINAL_ANSWER.search(text)
    if final is None:
        raise invalid_format("The reply is neither `Action: Operation` with a ```sql block nor a line "
                             "`Final Answer: [...]`; under the AgentBench v0.2 protocol this ends the episode.")
    return ParsedAction(name="answer", args={"text": final.group(1)}, raw=text)


V02_ACTIONS = ActionSet(
    [
        ActionSpec(name="sql", doc="Run SQL (AgentBench v0.2: `Action: Operation` and a ```sql block).",
                   args=[ActionArg(name="query", doc="The SQL, newlines read as spaces.")], block="sql",
                   examples=["Action: Operation\n```sql\nSELECT COUNT(*) FROM orders;\n```"]),
        ActionSpec(name="answer", doc="End the episode with a final answer (`Action: Answer` and a line "
                   "`Final Answer: [...]`).", args=[ActionArg(name="text", doc="The text after `Final Answer:`.")],
                   terminal=True, examples=['Action: Answer\nFinal Answer: ["Ada Lovelace", 42]']),
    ],
    dialects=[v02_dialect],
)


def answer_values(text: str) -> list[Any]:
    """The answer as v0.2 lists it: a literal that is iterable becomes its list (a text becomes
    its characters, as `list(eval(...))` made it); anything else is the one raw text."""
    try:
        return list(ast.literal_eval(text.strip()))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return [text]


def answer_matches(text: str | None, label: list[Any]) -> bool:
    """v0.2's SELECT check of the raw `Final Answer:` text against the task's `label` list."""
    if text is None:
        return False
    given = answer_values(text)
    if len(given) == 1 and len(label) == 1:
        try:
            return float(given[0]) == float(label[0])
        except (ValueError, TypeError):
            return given[0] == label[0]
    try:
        return set(given) == set(label)
    except TypeError:  # an unhashable value (a nested list): v0.2 counted the answer wrong
        return False


def error_text(error: QueryError) -> str:
    """A failed statement as v0.2 showed it: `str()` of mysql-connector's error, `1054 (42S22): ...`.
    Errors that carry no MySQL code (SQLite, PostgreSQL, the env's own limits) keep their text."""
    if error.code is None:
        return error.message
    if error.sqlstate:
        return f"{error.code} ({error.sqlstate}): {error.reason}"
    return f"{error.code}: {error.reason}"


def _first_word(statement: str) -> str:
    return statement.split(None, 1)[0].upper().rstrip("(") if statement.strip() else ""


def run_block(db: DatabaseBackend, statements: list[str]) -> QueryResult | str:
    """Run what one v0.2 `Operation` sent: one statement's result, or for several the observation
    v0.2 gave (the first statement's error, else "Commands out of sync") after running them in
    order up to the first error, keeping only what a COMMIT or DDL statement among them committed."""
    if not statements:
        return QueryResult()  # v0.2 ran the empty text and showed "[]"
    if len(statements) == 1:
        return db.execute(statements[0])
    with db.transaction():
        for index, statement in enumerate(statements):
            word = _first_word(statement)
            if word in _CONTROL:
                db.restart_transaction(keep=_CONTROL[word])
                continue
            try:
                db.execute(statement)
            except QueryError as error:
                if index == 0:
                    return error_text(error)
                break
            if word in _DDL:
                db.restart_transaction(keep=True)
    return OUT_OF_SYNC
