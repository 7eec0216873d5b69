"""Scoring a database episode from the database's final state and the submitted answer.

Three evaluator kinds, chosen by `task.evaluator["kind"]`:
- `answer`: the submitted values equal the expected ones as sets, numbers within a tolerance,
  with DBBench's conventions (`none`/`null`/empty mean "no value", "1,174" is 1174, "12%" is 12);
- `table`: the final contents of a table equal the expected rows (as a multiset);
- `md5`: AgentBench's table checksum of the final table equals the stored `answer_md5`.
Agent text arrives here already parsed into plain values (by `ast.literal_eval`/JSON in the
action parser); nothing here evaluates or executes it. Table contents are read by the env through
its own privileged connection, never taken from the agent.
"""

from __future__ import annotations

import re
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
_NO_VALUE = {"", "none", "null", "nan", "undefined", "n/a"}
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def normalize(value: Any) -> float | str | None:
    """One answer value in comparable form: a float, a stripped string, or None for 'no value'."""
    value = plain(value)
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (list, tuple, dict)):
        return str(value)
    text = str(value).strip().strip("'\"").strip()
    if text.lower() in _NO_VALUE:
        return None
    candidate = text[:-1].strip() if text.endswith("%") else text
    if _THOUSANDS.fullmatch(candidate):
        candidate = candidate.replace(",", "")
    try:
        return float(candidate)
    except ValueError:
        return text


def flatten(values: Any) -> list[Any]:
    """A submitted answer as a flat list: rows such as [('a',), ('b',)] count as their cells."""
    if not isinstance(values, (list, tuple)):
        return [values]
    out: list[Any] = []
    for item in values:
        out.extend(flatten(item) if isinstance(item, (list, tuple)) else [item])
    return out


def _same(a: float | str | None, b: float | str | None) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= NUMBER_TOLERANCE
    return a == b


def answers_match(given: Any, expected: Sequence[Any]) -> bool:
    """Set equality after normalisation; an empty answer equals an expected 'none'."""
    left = _distinct([v for v in map(normalize, flatten(given)) if v is not None])
    right = _distinct([v for v in map(normalize, flatten(list(expected))) if v is not None])
    if len(left) != len(right):
        return False
    unmatched = list(right)
    for value in left:
        partner = next((i for i, other in enumerate(unmatched) if _same(value, other)), None)
        if partner is None:
            return False
        unmatched.pop(partner)
    return True


def _distinct(values: list[float | str]) -> list[float | str]:
    out: list[float | str] = []
    for value in values:
        if not any(_same(value, seen) for seen in out):
            out.append(value)
    return out


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
