"""Rewards only the real task earns: per task family, a wrong answer, an over-broad one and a plan
with collateral damage are played through the env by the expert, and all must fail."""

from __future__ import annotations

import json
from typing import Any

import pytest

from coachgym.envs.phone import PhoneEnv
from coachgym.envs.phone.expert import PhoneExpert
from coachgym.envs.phone.values import compare

ON_SCREEN_TIMES = "Standup 09:00, Design review 11:30, Lunch 13:00, Dentist 08:30, Budget 15:00"
HALF_HOURS = " ".join(f"{h:02d}:{m:02d}" for h in range(8, 18) for m in (0, 30))


def _replace_answer(text: str):
    return lambda plan: [*plan[:-1], ["answer", text]]


def _then(*steps: list[Any]):
    return lambda plan: [*plan, *steps]


def _swap(old: str, new: str):
    return lambda plan: [[new if part == old else part for part in step] for step in plan]


def _text(name: str, body: str) -> list[list[Any]]:
    return [["open", "Messages"], ["tap", "Start chat"], ["type", "To: name or number", name.split()[0]],
            ["tap", name], ["type", "Text message", body], ["tap", "Send"]]


# (family, kind, task, how the honest plan is changed)
CASES = [
    ("contacts", "wrong", "contacts-add-priya", _swap("+1 415 555 0142", "+1 415 555 0124")),
    ("contacts", "over-broad", "contacts-ask-nina", _replace_answer("+1 415 555 0113 +1 415 555 0114 +1 415 555 0115")),
    ("contacts", "collateral", "contacts-delete-ivan",
     _then(["open", "Contacts"], ["tap", "Bob Martinez"], ["tap", "Delete"], ["tap", "Delete"])),
    ("messages", "wrong", "messages-text-carol",
     _swap("I'll send the report tonight", "I'll send the report tomorrow")),
    ("messages", "over-broad", "messages-ask-bob", _replace_answer("Did you get the tickets? Yes, two seats in row F")),
    ("messages", "collateral", "messages-text-carol", _then(*_text("Dana Kim", "I'll send the report tonight"))),
    ("calendar", "wrong", "calendar-ask-dentist", _replace_answer("18:30")),
    ("calendar", "over-broad", "calendar-ask-dentist", _replace_answer(ON_SCREEN_TIMES)),
    ("calendar", "collateral", "calendar-delete-yoga",
     _then(["open", "Calendar"], ["tap", "Movie night"], ["tap", "Delete"], ["tap", "Delete"])),
    ("settings", "wrong", "settings-brightness-30", lambda plan: [*plan[:-1], ["slide", "Brightness", 50]]),
    ("settings", "over-broad", "settings-wifi-off", _then(["tap", "Bluetooth"], ["tap", "Do not disturb"])),
    ("settings", "collateral", "settings-dark-mode", _then(["tap", "Wi-Fi"])),
    ("notes", "wrong", "notes-ask-wifi", _replace_answer("not sunflower42")),
    ("notes", "over-broad", "notes-ask-wifi", _replace_answer("milk, eggs, spinach, rice sunflower42 Dune")),
    ("notes", "collateral", "notes-delete-books", _then(["long", "Groceries"], ["tap", "Delete"])),
    ("shop", "wrong", "shop-ask-field-watch", _replace_answer("$2,200")),
    ("shop", "over-broad", "cross-ask-cheapest-watch", _replace_answer("$70 $220 $295")),
    ("shop", "collateral", "shop-buy-dive",
     lambda plan: [["open", "Shop"], ["tap", "Tote Bag"], ["tap", "Add to cart"], ["back"], *plan]),
    ("cross-app", "wrong", "cross-next-meeting-alice",
     _swap("My next meeting is at 11:30", "My next meeting is at 13:00")),
    ("cross-app", "over-broad", "cross-next-meeting-alice",
     _swap("My next meeting is at 11:30", f"My next meeting is at one of {HALF_HOURS}")),
    ("cross-app", "over-broad", "cross-wifi-password-dana",
     _swap("The guest wifi password is sunflower42", "milk, eggs, spinach, rice. guest network: sunflower42. "
           "Alice: scarf. passport, charger. Dune; Piranesi")),
    ("cross-app", "collateral", "cross-lunch-bob", _then(*_text("Dana Kim", "Lunch is at Cafe Rio"))),
    ("infeasible", "wrong", "infeasible-5g", _swap("infeasible", "complete")),
    ("infeasible", "over-broad", "infeasible-buy-ring",
     lambda plan: [*plan[:-1], ["tap", "Field Watch"], ["tap", "Add to cart"], plan[-1]]),
    ("infeasible", "collateral", "infeasible-delete-gym",
     lambda plan: [*plan[:-1], ["tap", "Yoga"], ["tap", "Delete"], ["tap", "Delete"], plan[-1]]),
]


def _play(env: PhoneEnv, task_id: str, change=None) -> dict[str, Any]:
    obs, _ = env.reset(seed=0, options={"task_id": f"phone-{task_id}"})
    task = env.task
    if change is not None:
        task = task.model_copy(update={"setup": {**task.setup, "plan": change(task.setup["plan"])}})
    expert = PhoneExpert(task)
    while True:
        obs, _, terminated, truncated, info = env.step(expert.act(obs))
        assert "action_error" not in info, info["action_error"]
        if terminated or truncated:
            return info


@pytest.mark.parametrize("family, kind, task_id, change", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_a_wrong_broad_or_destructive_episode_earns_nothing(family, kind, task_id, change):
    env = PhoneEnv(screenshot_height=320)
    assert _play(env, task_id)["success"], "the honest plan must pass, so the failure below is the change's"
    info = _play(env, task_id, change)
    assert info["success"] is False and info["evaluation"]["reward"] == 0.0, info["evaluation"]


def test_every_family_has_all_three_kinds_of_bad_episode(suite):
    families = {tag for task in suite.tasks for tag in task.tags} & {c[0] for c in CASES}
    assert families == {"contacts", "messages", "calendar", "settings", "notes", "shop", "cross-app", "infeasible"}
    for family in families:
        assert {c[1] for c in CASES if c[0] == family} == {"wrong", "over-broad", "collateral"}


@pytest.mark.parametrize("kind, text, expected, ok", [
    ("money", "$70", 70, True), ("money", "It costs 70 dollars.", 70, True), ("money", "$170", 70, False),
    ("money", "$2,200", 220, False), ("money", "$220.00", 220, True), ("money", "$70 or $220", 70, False),
    ("time", "8:30", "08:30", True), ("time", "8:30 am", "08:30", True), ("time", "18:30", "08:30", False),
    ("time", "8:30 pm", "08:30", False), ("time", "4 pm", "16:00", True),
    ("date", "Tuesday, November 24", "2026-11-24", True), ("date", "Nov 25", "2026-11-24", False),
    ("phone", "It is 415-555-0114.", "+1 415 555 0114", True), ("phone", "+1 415 555 0101", "+1 415 555 0114", False),
    ("email", "Lena.V@example.com", "lena.v@example.com", True),
    ("text", "Sunflower42.", ["sunflower42"], True), ("text", "not sunflower42", ["sunflower42"], False),
    ("text", "“Movie night”", ["Movie night"], True), ("number", "none", 3, False),
    ("number", "2 events: 08:30 and 15:00", 2, True), ("number", "2 or 3", 2, False),
])
def test_values_are_compared_as_values(kind, text, expected, ok):
    assert (compare(kind, text, expected) is None) is ok


def test_answering_with_everything_on_screen_fails_every_question(suite):
    """The over-broad answer of the issue: the question's screen, all of its text, as the answer."""
    env = PhoneEnv(screenshot_height=320)
    questions = [t for t in suite.tasks if "question" in t.tags]
    assert len(questions) >= 15
    for task in questions:
        obs, _ = env.reset(seed=0, options={"task_id": task.id})
        expert = PhoneExpert(task.model_copy(update={"setup": {**task.setup, "plan": task.setup["plan"][:-1]}}))
        while expert.plan:
            obs = env.step(expert.act(obs))[0]
        everything = "; ".join(e["text"] or e["content_description"] or "" for e in env.ui_elements())
        env.step(f'{{"action_type": "answer", "text": {json.dumps(everything)}}}')
        info = env.step('{"action_type": "status", "goal_status": "complete"}')[4]
        assert info["success"] is False, (task.id, everything)
