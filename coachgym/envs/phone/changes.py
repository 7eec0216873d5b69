"""What an episode changed in the user's data: a diff of two `PhoneState`s, keyed by record.

Evaluators use it to refuse collateral damage: every changed key must be one the task's checks
asked for ("delete Ivan" may change `contacts:ivan petrov`, not `contacts:bob martinez`). Records
are keyed by what identifies them to a user (a contact's name, a thread's contact, an event's or
note's title, one key per setting), so two records with one key are compared as a multiset.
Left out on purpose, because using the phone changes them without touching the user's data:
the shop's filter and sort (a view setting), notifications (opening one dismisses it), the
launcher, clock and battery, and the agent's `answer`/`goal_status`. This module must not know
about tasks.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import BaseModel

from coachgym.envs.phone.state import PhoneState
from coachgym.envs.phone.values import normalize_text

# collection -> the attribute that names a record to the user
KEYED = {"contacts": "name", "messages": "contact", "events": "title", "notes": "title"}


def key(collection: str, name: str) -> str:
    return f"{collection}:{normalize_text(name)}"


def _records(state: PhoneState, collection: str) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in getattr(state, collection):
        grouped[key(collection, getattr(record, KEYED[collection]))].append(_dump(record))
    return grouped


def _dump(record: BaseModel) -> dict[str, Any]:
    return record.model_dump()


def changed_keys(before: PhoneState, after: PhoneState) -> dict[str, str]:
    """Every piece of user data that differs, as {key: what happened}."""
    changes: dict[str, str] = {}
    for collection in KEYED:
        old, new = _records(before, collection), _records(after, collection)
        for name in sorted(set(old) | set(new)):
            was, now = old.get(name, []), new.get(name, [])
            ordered = collection == "messages"  # a thread is a sequence; the others are sets
            if (was if ordered else sorted(map(repr, was))) != (now if ordered else sorted(map(repr, now))):
                changes[name] = _describe(was, now)
    for field, value in before.settings.model_dump().items():
        if getattr(after.settings, field) != value:
            changes[f"settings:{field}"] = f"{value} -> {getattr(after.settings, field)}"
    if sorted(before.cart) != sorted(after.cart):
        changes["cart"] = f"{before.cart} -> {after.cart}"
    if before.orders != after.orders:
        changes["orders"] = f"{len(after.orders) - len(before.orders):+d} order(s)"
    return changes


def _describe(was: list[dict[str, Any]], now: list[dict[str, Any]]) -> str:
    if not was:
        return "added"
    if not now:
        return "removed"
    if len(now) != len(was):
        return f"{len(was)} -> {len(now)} records"
    return "edited"
