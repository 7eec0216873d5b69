"""Scoring a database episode from the database's final state and the submitted answer.

Three evaluator kinds, chosen by `task.evaluator["kind"]`:
- `answer`: AgentBench's DBBench SELECT check, re-implemented (see `answers_match`): texts
  stripped of quotes, `none`/`null`/empty read as "0", "1,174" as 1174, "12%" as 12; numbers
  equal within 0.01; several values compared as a set (or a multiset when all are numbers);
- `table`: the final contents of a table equal the expected rows (as a multiset);
- `md5`: AgentBench's table checksum of the final table equals the stored `answer_md5`.
Agent text arrives here already parsed into plain values (by `ast.literal_eval`/JSON in the
action parser); nothing here evaluates or executes it. Table contents are read by the env through
its own privileged connection, never taken from the agent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from coachgym.envs.core import Evaluation
from coachgym.envs.database.schema import plain
from coachgym.envs.database.tablehash import agentbench_md5

# Reads (table, columns or None for all) through the env's privileged connection; raises
# LookupError when the table or a column no longer exists.
ReadTable = Callable[[str, Sequence[str] | None], list[tuple]]
NUMBER_TOLERANCE = 1e-2  # AgentBench's absolute tolerance for numeric answers
# Texts AgentBench reads as "no value"; each becomes "0", so a NULL answer equals a 0 label.
_NO_VALUE = {"", "none", "null", "undefined", "nan", "inf", "infinity", "-inf", "-infinity"}


def normalize(value: Any) -> str:
    """One answer value as AgentBench compares it: text, stripped of spaces and quotes, a trailing
    `%` removed, thousands commas removed, and every 'no value' spelling (None, null, ...) as "0"."""
    text = str(plain(value)).strip().strip("'\"").strip()
    if text.endswith("%"):
        return text[:-1].strip()  # AgentBench returns here, so "1,5%" keeps its comma
    if "," in text and not (text.startswith("[") or text.endswith("]")):
        text = text.replace(",", "")
    return "0" if text.lower() in _NO_VALUE else text


def clean_answer(values: Any) -> list[str]:
    """A submitted answer (or label) as AgentBench's list of comparable texts.

    Rows pasted from a result such as [('a',), ('b',)] count as their single cells. When every
    item is a row, rows with several cells are dropped, as AgentBench's MySQL-result reader does;
    otherwise such a row counts as its text. Nested lists are not flattened (AgentBench doesn't).
    """
    if values is None:
        return ["0"]
    if not isinstance(values, (list, tuple)):
        return [normalize(values)]
    items = list(values)
    if items and all(isinstance(item, tuple) for item in items):
        items = [item for item in items if len(item) == 1]
    return [normalize(item[0] if isinstance(item, tuple) and len(item) == 1 else item) for item in items]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _same_numbers(left: list[float], right: list[float]) -> bool:
    """Equal as multisets of numbers, each pair within NUMBER_TOLERANCE (greedy pairing)."""
    if len(left) != len(right):
        return False
    unmatched = list(right)
    for value in left:
        partner = next((i for i, other in enumerate(unmatched) if abs(value - other) <= NUMBER_TOLERANCE), None)
        if partner is None:
            return False
        unmatched.pop(partner)
    return True


def answers_match(given: Any, expected: Any) -> bool:
    """AgentBench's DBBench SELECT check: one value each -> numbers within 0.01, else equal text;
    several values -> all numeric: multiset within 0.01; otherwise equal as sets of text."""
    left, right = clean_answer(given), clean_answer(expected)
    left_numbers, right_numbers = [_number(v) for v in left], [_number(v) for v in right]
    numeric = None not in left_numbers and None not in right_numbers
    if len(left) == 1 and len(right) == 1:
        return _same_numbers(left_numbers, right_numbers) if numeric else left == right
    if numeric:
        return _same_numbers(left_numbers, right_numbers)
    return set(left) == set(right)


def _row_key(row: Sequence[Any]) -> tuple:
    cells = []
    for cell in row:
        cell = plain(cell)
        if isinstance(cell, (int, float)) and not isinstance(cell, bool):
            cell = round(float(cell), 2)
        cells.append(cell)
    return tuple(cells)


def tables_match(actual: list[tuple], expected: list[list[Any]]) -> tuple[bool, str]:
    have, want = Counter(map(_row_key, actual)), Counter(map(_row_key, expected))
    if have == want:
        return True, f"{sum(have.values())} rows as expected"
    missing, extra = want - have, have - want
    detail = f"{sum(missing.values())} expected row(s) missing, {sum(extra.values())} unexpected row(s)"
    example = next(iter(missing or extra))
    return False, f"{detail}; e.g. {'missing' if missing else 'unexpected'} {example!r:.200}"


def evaluate(spec: dict[str, Any], answer: list[Any] | None, read_table: ReadTable) -> Evaluation:
    """Score one episode; `answer` is None when the agent never submitted one."""
    try:
        return _evaluate(spec, answer, read_table)
    except LookupError as error:  # the agent dropped or renamed what is scored: a failure, not a crash
        return Evaluation(reward=0.0, success=False, detail=str(error))


def _evaluate(spec: dict[str, Any], answer: list[Any] | None, read_table: ReadTable) -> Evaluation:
    kind = spec.get("kind")
    if kind == "answer":
        if answer is None:
            return Evaluation(reward=0.0, success=False, detail="no answer was submitted")
        ok = answers_match(answer, spec["expected"])
        detail = f"answer {answer!r:.200} {'matches' if ok else 'does not match'} expected {spec['expected']!r:.200}"
        return Evaluation(reward=float(ok), success=ok, detail=detail)
    if kind == "table":
        ok, detail = tables_match(read_table(spec["table"], spec.get("columns")), spec["expected_rows"])
        return Evaluation(reward=float(ok), success=ok, detail=f"table {spec['table']!r}: {detail}")
    if kind == "md5":
        got = agentbench_md5(read_table(spec["table"], spec.get("columns")))
        ok = got == spec["answer_md5"]
        return Evaluation(reward=float(ok), success=ok, detail=f"table checksum {got} vs expected {spec['answer_md5']}")
    raise ValueError(f"Unknown database evaluator kind {kind!r}; expected answer, table or md5.")
