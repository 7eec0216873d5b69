"""Task evaluators: declarative checks over the phone's `PhoneState`, never over pixels or claims.

A task's `evaluator` is `{"checks": [{"kind": ..., ...}, ...]}` (all must hold) or
`{"infeasible": true}`. Checks compare the final state with the starting state where "new" matters
(a message must have been *sent* during the episode, not merely exist). The agent's own words are
used only where the task asks for them: the text of `answer`, and `status(infeasible)` on a task
that cannot be done. A feasible task declared infeasible fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from coachgym.envs.core import Evaluation
from coachgym.envs.phone.state import PhoneState

Check = Callable[[dict[str, Any], PhoneState, PhoneState], str | None]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _alnum(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _message(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> str | None:
    new = [m for m in after.messages[len(before.messages):] if m.outgoing and _norm(m.contact) == _norm(spec["to"])]
    if not new:
        return f"no message was sent to {spec['to']}"
    if not any(all(_norm(part) in _norm(m.body) for part in spec.get("contains", [])) for m in new):
        return f"no message to {spec['to']} contains {spec.get('contains')}"
    return None


def _setting(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> str | None:
    value = getattr(after.settings, spec["key"])
    if "value" in spec and value != spec["value"]:
        return f"{spec['key']} is {value}, expected {spec['value']}"
    if not spec.get("min", value) <= value <= spec.get("max", value):
        return f"{spec['key']} is {value}, expected {spec.get('min')}..{spec.get('max')}"
    return None


def _contact(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> str | None:
    contact = after.contact(spec["name"])
    if contact is None:
        return f"no contact named {spec['name']}"
    if "phone" in spec and _digits(contact.phone) != _digits(spec["phone"]):
        return f"{contact.name}'s phone is {contact.phone}, expected {spec['phone']}"
    if "email" in spec and _norm(contact.email) != _norm(spec["email"]):
        return f"{contact.name}'s email is {contact.email!r}, expected {spec['email']!r}"
    if "favorite" in spec and contact.favorite != spec["favorite"]:
        return f"{contact.name} favorite={contact.favorite}"
    return None


def _absent(collection: str, attr: str) -> Check:
    def check(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> str | None:
        if any(_norm(getattr(item, attr)) == _norm(spec["name"]) for item in getattr(after, collection)):
            return f"{spec['name']!r} is still in {collection}"
        return None
    return check


def _event(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> str | None:
    for event in after.events:
        if _norm(event.title) == _norm(spec["title"]) and all(
                getattr(event, k) == spec[k] for k in ("date", "time") if k in spec) and (
                "location" not in spec or _norm(event.location) == _norm(spec["location"])):
            return None
    return f"no event matching {spec}"


def _note(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> str | None:
    note = next((n for n in after.notes if _norm(n.title) == _norm(spec["title"])), None)
    if note is None:
        return f"no note titled {spec['title']!r}"
    missing = [part for part in spec.get("contains", []) if _norm(part) not in _norm(note.body)]
    return f"note {note.title!r} lacks {missing}" if missing else None


def _filter(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> str | None:
    actual = after.shop_filter.model_dump()
    wrong = {k: actual[k] for k, v in spec.items() if k != "kind" and actual[k] != v}
    return f"shop filter differs: {wrong}" if wrong else None


def _cart(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> str | None:
    return None if sorted(after.cart) == sorted(spec["ids"]) else f"cart is {after.cart}, expected {spec['ids']}"


def _order(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> str | None:
    new = after.orders[len(before.orders):]
    if not any(sorted(o.product_ids) == sorted(spec["ids"]) for o in new):
        return f"no new order of exactly {spec['ids']}"
    return None


def _answer(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> str | None:
    """The answer must mention one expected option; punctuation and spacing are ignored
    ("415-555-0114" matches "415 555 0114")."""
    if after.answer is None:
        return "no answer was given"
    given = _alnum(after.answer)
    if not any(_alnum(option) in given for option in spec["any_of"]):
        return f"answer {after.answer!r} does not mention any of {spec['any_of']}"
    return None


CHECKS: dict[str, Check] = {
    "message": _message, "setting": _setting, "contact": _contact, "no_contact": _absent("contacts", "name"),
    "event": _event, "no_event": _absent("events", "title"), "note": _note, "no_note": _absent("notes", "title"),
    "no_thread": _absent("messages", "contact"), "filter": _filter, "cart": _cart, "order": _order,
    "answer": _answer,
}


def evaluate(spec: dict[str, Any], before: PhoneState, after: PhoneState) -> Evaluation:
    """Score `after` (the final state) against a task's evaluator spec."""
    if spec.get("infeasible"):
        ok = after.goal_status == "infeasible"
        return Evaluation(reward=float(ok), success=ok,
                          detail="correctly reported infeasible" if ok else "the task is infeasible; expected "
                          "status(goal_status='infeasible')")
    if after.goal_status == "infeasible":
        return Evaluation(reward=0.0, success=False, detail="reported infeasible, but the task is feasible")
    failures = [msg for check in spec["checks"] if (msg := CHECKS[check["kind"]](check, before, after))]
    return Evaluation(reward=float(not failures), success=not failures, detail="; ".join(failures) or "all checks pass")
