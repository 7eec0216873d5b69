"""Task evaluators: declarative checks over the phone's `PhoneState`, never over pixels or claims.

A task's `evaluator` is `{"checks": [{"kind": ..., ...}, ...]}` (all must hold) or
`{"infeasible": true}`. Success means the world ended exactly as the task asked:

1. every check holds, each against the *whole* record it names (a contact edit must leave the
   fields it did not mention as they were; a message task wants exactly `count` new messages,
   appended to an untouched thread), and values the agent wrote are compared as values
   (`values.compare`: "$170" is not $70);
2. nothing else changed: every key of `changes.changed_keys(before, after)` must be one a check
   asked for, so deleting Bob as well as Ivan, or texting Dana as well as Carol, fails.

The agent's own words count only where the task asks for them: the text of `answer`, and
`status(infeasible)` on a task that cannot be done (and then the world must be unchanged). A
feasible task declared infeasible fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from coachgym.envs.core import Evaluation
from coachgym.envs.phone import values
from coachgym.envs.phone.changes import changed_keys, key
from coachgym.envs.phone.state import Contact, Event, PhoneState
from coachgym.envs.phone.values import normalize_text

# A check returns (failure or None, the change keys it accounts for).
Check = Callable[[dict[str, Any], PhoneState, PhoneState], tuple[str | None, set[str]]]
TYPED = ("time", "phone", "money", "date", "email", "number")
MAX_ANSWER_WORDS = 20  # an answer is a short statement; pasting the whole screen is not answering


def body_problem(spec: dict[str, Any], text: str, year: int) -> str | None:
    """Why `text` (a message or note body) does not say what `spec` asks, or None.

    `text`: accepted phrasings of the whole text; `items`: the comma-separated items, as a set;
    `contains` / `excludes`: whole-word phrases; `time`, `phone`, ...: every such value in the
    text must be this one (see `values.compare`)."""
    if "text" in spec and (problem := values.compare("text", text, spec["text"])):
        return problem
    if "items" in spec:
        items = {normalize_text(i) for i in re.split(r",|\band\b", text) if normalize_text(i)}
        if items != {normalize_text(i) for i in spec["items"]}:
            return f"{text!r} does not list exactly {spec['items']}"
    missing = [p for p in spec.get("contains", []) if not values.mentions(text, p)]
    if missing:
        return f"{text!r} does not mention {missing}"
    extra = [p for p in spec.get("excludes", []) if values.mentions(text, p)]
    if extra:
        return f"{text!r} also mentions {extra}"
    for kind in TYPED:
        if kind in spec and (problem := values.compare(kind, text, spec[kind], year)):
            return f"in {text!r}: {problem}"
    return None


def _year(state: PhoneState) -> int:
    return int(state.date[:4])


def _message(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> tuple[str | None, set[str]]:
    to = normalize_text(spec["to"])
    old = [m for m in before.messages if normalize_text(m.contact) == to]
    now = [m for m in after.messages if normalize_text(m.contact) == to]
    covers = {key("messages", spec["to"])}
    if now[: len(old)] != old:
        return f"earlier messages with {spec['to']} were changed or deleted", covers
    new = now[len(old):]
    if any(not m.outgoing for m in new):
        return f"unexpected incoming messages from {spec['to']}", covers
    count = spec.get("count", 1)
    if len(new) != count:
        return f"{len(new)} new message(s) to {spec['to']}, expected {count}", covers
    for message in new:
        if problem := body_problem(spec, message.body, _year(after)):
            return f"message to {spec['to']}: {problem}", covers
    return None, covers


def _setting(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> tuple[str | None, set[str]]:
    value, covers = getattr(after.settings, spec["key"]), {f"settings:{spec['key']}"}
    if "value" in spec and value != spec["value"]:
        return f"{spec['key']} is {value}, expected {spec['value']}", covers
    if not spec.get("min", value) <= value <= spec.get("max", value):
        return f"{spec['key']} is {value}, expected {spec.get('min')}..{spec.get('max')}", covers
    return None, covers


def _only(collection: str, attr: str, name: str, state: PhoneState) -> tuple[Any, str | None]:
    found = [r for r in getattr(state, collection) if normalize_text(getattr(r, attr)) == normalize_text(name)]
    if len(found) != 1:
        return None, f"{len(found)} {collection} named {name!r}, expected exactly one"
    return found[0], None


def _contact(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> tuple[str | None, set[str]]:
    covers = {key("contacts", spec["name"])}
    contact, problem = _only("contacts", "name", spec["name"], after)
    if problem:
        return problem, covers
    start = before.contact(spec["name"]) or Contact(name=spec["name"], phone="")
    want = start.model_dump() | {k: v for k, v in spec.items() if k in Contact.model_fields}
    return _mismatch(contact, want, ("phone", "email", "favorite")), covers


def _mismatch(record: Any, want: dict[str, Any], fields: tuple[str, ...]) -> str | None:
    """Which of `fields` of `record` differ from `want` (compared as `_same_field` does), or None."""
    wrong = [f for f in fields if not _same_field(f, getattr(record, f), want[f])]
    if not wrong:
        return None
    name = getattr(record, "name", None) or getattr(record, "title", "")
    return f"{name}: " + ", ".join(f"{f}={getattr(record, f)!r}, expected {want[f]!r}" for f in wrong)


def _same_field(field: str, actual: Any, wanted: Any) -> bool:
    if field == "phone":
        return re.sub(r"\D", "", actual) == re.sub(r"\D", "", wanted)
    if isinstance(wanted, str):
        return normalize_text(actual) == normalize_text(wanted)
    return actual == wanted


def _event(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> tuple[str | None, set[str]]:
    covers = {key("events", spec["title"])}
    event, problem = _only("events", "title", spec["title"], after)
    if problem:
        return problem, covers
    start, _ = _only("events", "title", spec["title"], before)
    base = start.model_dump() if start is not None else {"location": ""}
    want = base | {k: v for k, v in spec.items() if k in Event.model_fields}
    return _mismatch(event, want, ("date", "time", "location")), covers


def _note(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> tuple[str | None, set[str]]:
    covers = {key("notes", spec["title"])}
    note, problem = _only("notes", "title", spec["title"], after)
    if problem:
        return problem, covers
    problem = body_problem(spec, note.body, _year(after))
    return (f"note {note.title!r}: {problem}" if problem else None), covers


def _absent(collection: str, attr: str) -> Check:
    def check(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> tuple[str | None, set[str]]:
        covers = {key(collection, spec["name"])}
        wanted = normalize_text(spec["name"])
        if any(normalize_text(getattr(item, attr)) == wanted for item in getattr(after, collection)):
            return f"{spec['name']!r} is still in {collection}", covers
        return None, covers
    return check


def _filter(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> tuple[str | None, set[str]]:
    actual = after.shop_filter.model_dump()
    wrong = {k: actual[k] for k, v in spec.items() if k != "kind" and actual[k] != v}
    return (f"shop filter differs: {wrong}" if wrong else None), set()


def _cart(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> tuple[str | None, set[str]]:
    ok = sorted(after.cart) == sorted(spec["ids"])
    return (None if ok else f"cart is {after.cart}, expected {spec['ids']}"), {"cart"}


def _order(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> tuple[str | None, set[str]]:
    new = after.orders[len(before.orders):]
    if after.orders[: len(before.orders)] != before.orders or len(new) != 1:
        return f"{len(new)} new order(s), expected exactly one", {"orders"}
    if sorted(new[0].product_ids) != sorted(spec["ids"]):
        return f"the new order is {new[0].product_ids}, expected {spec['ids']}", {"orders"}
    return None, {"orders"}


def _answer(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> tuple[str | None, set[str]]:
    if after.answer is None:
        return "no answer was given", set()
    if len(after.answer.split()) > MAX_ANSWER_WORDS:
        return f"the answer has {len(after.answer.split())} words; give the value in at most {MAX_ANSWER_WORDS}", set()
    problem = values.compare(spec.get("type", "text"), after.answer, spec["value"], _year(after))
    return (f"answer: {problem}" if problem else None), set()


def _opened(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> tuple[str | None, set[str]]:
    """The screen `spec["screen"]` ('App/page/arg') was opened during the episode, and no other first.
    Opening a screen changes no app data, so it covers nothing in the collateral-change diff."""
    new = after.opened[len(before.opened):]
    if spec["screen"] not in new:
        return f"{spec['screen']} was not opened (opened: {new or 'nothing'})", set()
    if spec.get("first") and new[0] != spec["screen"]:
        return f"{new[0]} was opened before {spec['screen']}", set()
    return None, set()


CHECKS: dict[str, Check] = {
    "message": _message, "setting": _setting, "contact": _contact, "no_contact": _absent("contacts", "name"),
    "event": _event, "no_event": _absent("events", "title"), "note": _note, "no_note": _absent("notes", "title"),
    "no_thread": _absent("messages", "contact"), "filter": _filter, "cart": _cart, "order": _order,
    "answer": _answer, "opened": _opened,
}


def evaluate(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> Evaluation:
    """Score `after` (the final state) against a task's evaluator spec."""
    changes = changed_keys(before, after)
    if spec.get("infeasible"):
        if after.goal_status != "infeasible":
            return _result(["the task is infeasible; expected status(goal_status='infeasible')"])
        return _result([f"changed {k} ({v}) on an infeasible task" for k, v in changes.items()],
                       "correctly reported infeasible")
    if after.goal_status == "infeasible":
        return _result(["reported infeasible, but the task is feasible"])
    failures, covered = [], set()
    for check in spec["checks"]:
        problem, keys = CHECKS[check["kind"]](check, before, after)
        covered |= keys
        if problem:
            failures.append(problem)
    failures += [f"unrequested change to {k} ({v})" for k, v in changes.items() if k not in covered]
    return _result(failures)


def _result(failures: list[str], passed: str = "all checks pass") -> Evaluation:
    return Evaluation(reward=float(not failures), success=not failures, detail="; ".join(failures) or passed)
