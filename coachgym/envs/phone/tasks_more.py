"""More phone tasks: multi-app (read in one app, act in another), long-press, scroll-dependent, infeasible.

Same format as `tasks.py` plus a sixth field, the task's `setup["world"]` edits (see `world.py`),
for facts a task needs that the shared world lacks (a dinner invitation, a stranger's text).
Tasks whose target sits below the first screen are tagged `scroll`; the expert finds them by
scrolling, as a user would. This module must not import UI or rendering code.
"""

from __future__ import annotations

from typing import Any

from coachgym.envs.phone.tasks import (
    OTHER_NOTES,
    _answer,
    _buy,
    _check,
    _contact,
    _event,
    _form,
    _new_chat,
    _open,
    _shop_filter,
    _text,
)

Plan = list[list[Any]]
JULIA = {"add": {"messages": [{"contact": "Julia Rossi", "body": "Dinner at Luigi's on Friday at 19:30?",
                               "outgoing": False, "time": "2026-11-23 09:30"}]}}
ROSA = {"add": {"messages": [{"contact": "+1 650 555 0177", "body": "Hi, it's Rosa Diaz. This is my new number.",
                              "outgoing": False, "time": "2026-11-23 09:20"}]}}
GIFT = {"add": {"notes": [{"title": "Birthday gift", "body": "Kofi wants the Field Watch"}]}}


def _long_delete(app: str, name: str) -> Plan:
    return [_open(app), ["long", name], ["tap", "Delete"]]


def _new(app: str, button: str, *pairs: tuple[str, str]) -> Plan:
    return [_open(app), ["tap", button], *_form(*pairs), ["tap", "Save"]]


def _infeasible(*plan: list[Any]) -> Plan:
    return [*plan, ["status", "infeasible"]]


# (id suffix, goal, plan, checks, tags, world); checks None means the task is infeasible.
MORE_TASKS: list[tuple[str, str, Plan, list[dict[str, Any]] | None, list[str], dict[str, Any]]] = [
    # --- scroll-dependent: the target is below the first screen of a list
    ("contacts-ask-oscar", "What is Oscar Dahl's phone number?",
     *_answer(_contact("Oscar Dahl"), "+1 415 555 0115", "phone"), ["contacts", "question", "scroll"], {}),
    ("contacts-favorite-mateo", "Add Mateo Silva to my favorite contacts.",
     [*_contact("Mateo Silva"), ["tap", "Add to favorites"]], [_check("contact", name="Mateo Silva", favorite=True)],
     ["contacts", "scroll"], {}),
    ("contacts-delete-oscar", "Remove Oscar Dahl from my contacts.",
     [*_contact("Oscar Dahl"), ["tap", "Delete"], ["tap", "Delete"]], [_check("no_contact", name="Oscar Dahl")],
     ["contacts", "scroll"], {}),
    ("contacts-edit-nina-email", "Nina Patel changed her email to nina.patel@example.com; update her contact.",
     [*_contact("Nina Patel"), ["tap", "Edit contact"], ["type", "Email", "nina.patel@example.com"], ["tap", "Save"]],
     [_check("contact", name="Nina Patel", email="nina.patel@example.com")], ["contacts", "scroll"], {}),
    ("shop-ask-dress-watch", "What does the Dress Watch cost in the Shop?",
     *_answer([_open("Shop"), ["tap", "Dress Watch"]], "$295", "money", 295), ["shop", "question", "scroll"], {}),
    ("shop-cart-court", "Add the Court Classic shoes to my cart.",
     [_open("Shop"), ["tap", "Court Classic"], ["tap", "Add to cart"]], [_check("cart", ids=["s5"])],
     ["shop", "scroll"], {}),
    ("shop-buy-rain-boot", "Buy the Rain Boot.", _buy("Rain Boot"), [_check("order", ids=["s4"])], ["shop", "scroll"],
     {}),
    ("shop-ask-hiking-rating", "What is the star rating of the Hiking Pack 30L?",
     *_answer([_open("Shop"), ["tap", "Hiking Pack 30L"]], "4.7", "number", 4.7), ["shop", "question", "scroll"], {}),
    ("contacts-long-delete-mateo", "Long-press Mateo Silva in Contacts and delete him.",
     _long_delete("Contacts", "Mateo Silva"), [_check("no_contact", name="Mateo Silva")],
     ["contacts", "long-press", "scroll"], {}),
    # --- long-press
    ("messages-long-delete-bob", "Delete my conversation with Bob Martinez.",
     _long_delete("Messages", "Bob Martinez"), [_check("no_thread", name="Bob Martinez")],
     ["messages", "long-press"], {}),
    ("messages-long-delete-dana", "Remove the whole chat with Dana Kim.",
     _long_delete("Messages", "Dana Kim"), [_check("no_thread", name="Dana Kim")], ["messages", "long-press"], {}),
    ("notes-long-delete-gift", "Delete the Gift ideas note.", _long_delete("Notes", "Gift ideas"),
     [_check("no_note", name="Gift ideas")], ["notes", "long-press"], {}),
    ("notes-long-delete-groceries", "I bought everything: delete my Groceries note.",
     _long_delete("Notes", "Groceries"), [_check("no_note", name="Groceries")], ["notes", "long-press"], {}),
    ("contacts-long-delete-george", "Delete George Li from my contacts.", _long_delete("Contacts", "George Li"),
     [_check("no_contact", name="George Li")], ["contacts", "long-press"], {}),
    ("calendar-long-delete-standup", "Standup is cancelled today; remove it from my calendar.",
     _long_delete("Calendar", "Standup"), [_check("no_event", name="Standup")], ["calendar", "long-press"], {}),
    # --- multi-app: read in one app, act in another
    ("cross-dentist-dana", "Text Dana Kim the time of my dentist appointment.",
     [*_event("Dentist"), *_text("Dana Kim", "My dentist appointment is at 08:30")],
     [_check("message", to="Dana Kim", time="08:30")], ["cross-app", "messages", "calendar"], {}),
    ("cross-note-lena-email", "Create a note titled Lena that contains Lena Vogel's email address.",
     [*_contact("Lena Vogel"), *_new("Notes", "New note", ("Title", "Lena"), ("Note", "lena.v@example.com"))],
     [_check("note", title="Lena", email="lena.v@example.com")], ["cross-app", "notes", "contacts"], {}),
    ("cross-julia-dinner", "Julia texted me about dinner. Add it to my calendar as \"Dinner with Julia\", with "
     "the day, time and place she suggested.",
     [_open("Messages"), ["tap", "Julia Rossi"],
      *_new("Calendar", "New event", ("Title", "Dinner with Julia"), ("Date (YYYY-MM-DD)", "2026-11-27"),
            ("Time (HH:MM)", "19:30"), ("Location", "Luigi's"))],
     [_check("event", title="Dinner with Julia", date="2026-11-27", time="19:30", location="Luigi's")],
     ["cross-app", "calendar", "messages"], JULIA),
    ("cross-julia-reply", "Reply to Julia's dinner invitation: tell her yes, see you at Luigi's.",
     _text("Julia Rossi", "Yes, see you at Luigi's"),
     [_check("message", to="Julia Rossi", contains=["yes", "Luigi's"])],
     ["messages"], JULIA),
    ("cross-carol-groceries", "Text Carol White the items on my Groceries note.",
     [_open("Notes"), ["tap", "Groceries"], ["back"], *_text("Carol White", "milk, eggs, spinach, rice")],
     [_check("message", to="Carol White", items=["milk", "eggs", "spinach", "rice"])],
     ["cross-app", "messages", "notes"], {}),
    ("cross-bob-call-time", "Tell Bob Martinez by SMS what time our call is.",
     [*_event("Call with Bob"), *_text("Bob Martinez", "Our call is at 16:30")],
     [_check("message", to="Bob Martinez", time="16:30")], ["cross-app", "messages", "calendar"], {}),
    ("cross-note-offsite", "Make a note titled Offsite whose text is where the team offsite takes place.",
     [*_event("Team offsite"), *_new("Notes", "New note", ("Title", "Offsite"), ("Note", "Harbor Hall"))],
     [_check("note", title="Offsite", text=["Harbor Hall"])], ["cross-app", "notes", "calendar"], {}),
    ("cross-buy-gift", "Buy the birthday gift described in my notes.",
     [_open("Notes"), ["tap", "Birthday gift"], ["back"], *_buy("Field Watch")], [_check("order", ids=["t1"])],
     ["cross-app", "shop", "notes"], GIFT),
    ("cross-george-dive-price", "Text George Li how much the Dive Watch costs.",
     [_open("Shop"), ["tap", "Dive Watch"], *_text("George Li", "The Dive Watch costs $380")],
     [_check("message", to="George Li", money=380)], ["cross-app", "messages", "shop"], {}),
    ("cross-save-rosa", "Someone texted me their new number. Save it as a contact named Rosa Diaz.",
     [_open("Messages"), ["tap", "+1 650 555 0177"],
      *_new("Contacts", "Create contact", ("Name", "Rosa Diaz"), ("Phone", "+1 650 555 0177"))],
     [_check("contact", name="Rosa Diaz", phone="+1 650 555 0177")], ["cross-app", "contacts", "messages"], ROSA),
    ("cross-wifi-fatima", "Send Fatima Noor the guest wifi password from my notes.",
     [_open("Notes"), ["tap", "Wifi password"], ["back"],
      *_text("Fatima Noor", "The guest wifi password is sunflower42")],
     [_check("message", to="Fatima Noor", contains=["sunflower42"], excludes=OTHER_NOTES)],
     ["cross-app", "messages", "notes"], {}),
    ("cross-note-lunch", "Create a note titled Lunch that says where my lunch today is.",
     [*_event("Lunch with Dana"), *_new("Notes", "New note", ("Title", "Lunch"), ("Note", "Cafe Rio"))],
     [_check("note", title="Lunch", text=["Cafe Rio"])], ["cross-app", "notes", "calendar"], {}),
    ("cross-hana-phone-sms", "Text Alice Chen Hana Sato's phone number.",
     [*_contact("Hana Sato"), *_text("Alice Chen", "Hana's number is +1 415 555 0108")],
     [_check("message", to="Alice Chen", phone="+1 415 555 0108")], ["cross-app", "messages", "contacts"], {}),
    ("cross-note-dana-late", "Save what Dana texted me this morning in a note titled Dana.",
     [_open("Messages"), ["tap", "Dana Kim"],
      *_new("Notes", "New note", ("Title", "Dana"), ("Note", "Running 10 min late"))],
     [_check("note", title="Dana", text=["Running 10 min late"])], ["cross-app", "notes", "messages"], {}),
    ("cross-julia-offsite-date", "Text Julia Rossi the date of the team offsite.",
     [*_event("Team offsite"), *_text("Julia Rossi", "The team offsite is on 2026-11-26")],
     [_check("message", to="Julia Rossi", date="2026-11-26")], ["cross-app", "messages", "calendar"], {}),
    ("cross-favorite-report", "Mark the person who asked me for the report as a favorite contact.",
     [_open("Messages"), ["tap", "Carol White"], *_contact("Carol White"), ["tap", "Add to favorites"]],
     [_check("contact", name="Carol White", favorite=True)], ["cross-app", "contacts", "messages"], {}),
    ("cross-cart-gift", "Add the birthday gift described in my notes to my cart, but don't order it yet.",
     [_open("Notes"), ["tap", "Birthday gift"], ["back"], _open("Shop"), ["tap", "Field Watch"],
      ["tap", "Add to cart"]],
     [_check("cart", ids=["t1"])], ["cross-app", "shop", "notes"], GIFT),
    # --- more single-app work
    ("calendar-ask-offsite-date", "On what date is the team offsite?",
     *_answer(_event("Team offsite"), "2026-11-26", "date"), ["calendar", "question"], {}),
    ("calendar-ask-count-tomorrow", "How many events do I have tomorrow?",
     *_answer([_open("Calendar")], "2", "number", 2), ["calendar", "question"], {}),
    ("settings-shade-bt-dnd", "From quick settings, turn on Bluetooth and Do not disturb.",
     [["shade"], ["tap", "Bluetooth"], ["tap", "Do not disturb"]],
     [_check("setting", key="bluetooth", value=True), _check("setting", key="do_not_disturb", value=True)],
     ["settings", "notification"], {}),
    ("shop-cart-two", "Put the Tote Bag and the Canvas Sneaker in my cart.",
     [_open("Shop"), ["tap", "Tote Bag"], ["tap", "Add to cart"], ["back"], ["tap", "Canvas Sneaker"],
      ["tap", "Add to cart"]], [_check("cart", ids=["b3", "s3"])], ["shop"], {}),
    ("notes-edit-wifi", "The guest wifi password is now moonflower7. Update my Wifi password note.",
     [_open("Notes"), ["tap", "Wifi password"], ["type", "Note", "guest network: moonflower7"], ["tap", "Save"]],
     [_check("note", title="Wifi password", text=["guest network: moonflower7", "moonflower7"])], ["notes"], {}),
    ("messages-reply-dana", "Reply to Dana Kim: \"No worries, take your time\".",
     _text("Dana Kim", "No worries, take your time"),
     [_check("message", to="Dana Kim", text=["No worries, take your time"])],
     ["messages"], {}),
    ("shop-ask-count-bags", "How many bags does the Shop sell?",
     *_answer(_shop_filter("Bags"), "5", "number", 5), ["shop", "question"], {}),
    ("contacts-ask-hana-email", "What is Hana Sato's email address?",
     *_answer(_contact("Hana Sato"), "hana.sato@example.com", "email"), ["contacts", "question"], {}),
    # --- infeasible: the phone cannot do it, or the thing does not exist
    ("infeasible-text-quinn", "Send Quinn Adams a text saying hello.",
     _infeasible(*_new_chat("Quinn Adams")[:3]), None, ["infeasible", "messages"], {}),
    ("infeasible-ethan-email", "What is Ethan Brooks's email address?",
     _infeasible(*_contact("Ethan Brooks")), None, ["infeasible", "contacts"], {}),
    ("infeasible-buy-headphones", "Buy Bob the gift listed for him in my Gift ideas note.",
     _infeasible(_open("Notes"), ["tap", "Gift ideas"], ["back"], _open("Shop")), None,
     ["infeasible", "cross-app", "shop", "notes"], {}),
    ("infeasible-cheap-watch", "Buy a watch with free shipping that costs less than $50.",
     _infeasible(*_shop_filter("Watches", free=True, sort="Price: low to high")), None, ["infeasible", "shop"], {}),
    ("infeasible-feb-30", "Add an event \"Review\" on February 30, 2027.", _infeasible(_open("Calendar")), None,
     ["infeasible", "calendar"], {}),
    ("infeasible-nfc", "Turn on NFC.", _infeasible(_open("Settings")), None, ["infeasible", "settings"], {}),
    ("infeasible-alarm", "Set an alarm for 7:00 tomorrow.", _infeasible(_open("Settings")), None,
     ["infeasible", "settings"], {}),
    ("infeasible-coupon", "Use the coupon code SAVE20 on my next Shop order.", _infeasible(*_buy()[:2]), None,
     ["infeasible", "shop"], {}),
    ("infeasible-voice-memo", "Play the voice memo attached to my Trip packing note.",
     _infeasible(_open("Notes"), ["tap", "Trip packing"]), None, ["infeasible", "notes"], {}),
]
