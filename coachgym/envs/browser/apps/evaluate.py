"""Scoring built-in app tasks from backend state, as data-driven checks.

A task's `evaluator` is a small spec: `{"type": "sql", "app": ..., "query": ..., "expected": rows}`
compares the rows an SQL query (written by the task author, never by the agent) returns from the
app's database; `{"type": "answer", "expected": ..., "match": "exact"|"contains"|"number"}` checks
the text the agent gave with `answer(...)`; `{"type": "all", "checks": [...]}` needs every check.
Nothing here executes agent text; the answer is only normalised and compared.
"""

from __future__ import annotations

import re
from typing import Any

from coachgym.envs.browser.apps.server import WebApp

_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


def check(spec: dict[str, Any], apps: dict[str, WebApp], answer: str | None) -> tuple[bool, str]:
    """(passed, explanation) for one evaluator spec."""
    kind = spec.get("type")
    if kind == "all":
        results = [check(part, apps, answer) for part in spec["checks"]]
        return all(ok for ok, _ in results), "; ".join(detail for _, detail in results)
    if kind == "sql":
        rows = [[_norm_cell(cell) for cell in row] for row in apps[spec["app"]].query(spec["query"])]
        expected = [[_norm_cell(cell) for cell in row] for row in spec["expected"]]
        if not spec.get("ordered", False):
            rows, expected = sorted(rows, key=repr), sorted(expected, key=repr)
        return rows == expected, f"{spec['app']} state {'matches' if rows == expected else f'is {rows[:5]!r}, expected {expected[:5]!r}'}"
    if kind == "answer":
        return _answer_matches(answer, str(spec["expected"]), spec.get("match", "exact"))
    raise ValueError(f"Unknown evaluator type {kind!r}; use sql, answer or all.")


def _norm_cell(cell: Any) -> Any:
    if isinstance(cell, float):
        return round(cell, 2)
    if isinstance(cell, str):
        return " ".join(cell.split())
    return cell


def _norm_text(text: str) -> str:
    return " ".join(text.casefold().replace("$", "").split()).strip(" .'\"")


def _answer_matches(answer: str | None, expected: str, mode: str) -> tuple[bool, str]:
    if answer is None:
        return False, "no answer given"
    got, want = _norm_text(answer), _norm_text(expected)
    if mode == "number":
        numbers = [float(n.replace(",", ".")) for n in _NUMBER.findall(got)]
        ok = any(abs(n - float(want)) < 0.005 for n in numbers)
    elif mode == "contains":
        ok = want in got
    else:
        ok = got == want
    return ok, f"answer {answer!r:.80} {'matches' if ok else 'does not match'} {expected!r}"
