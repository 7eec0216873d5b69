"""The first 62 built-in phone tasks over six apps, and the plan helpers.

More tasks are in `tasks_more.py`; `suite.py` joins both into the suite.

Each task has a natural-language goal, a state-based evaluator (see `evaluate.py`) and, in
`setup["plan"]`, the high-level steps the scripted expert follows (it resolves them against the
live UI tree, so the plan names things by their on-screen text, never by index or pixel). Goals
are written against the fixed world in `world.py`; answers the goal implies (the time of "my next
meeting") are facts of that world. This module must not import UI or rendering code.
"""

from __future__ import annotations

from typing import Any


Plan = list[list[Any]]


def _open(app: str) -> list[Any]:
    return ["open", app]


def _new_chat(name: str) -> Plan:
    return [_open("Messages"), ["tap", "Start chat"], ["type", "To: name or number", name], ["tap", name]]


def _text(name: str, body: str) -> Plan:
    return [*_new_chat(name), ["type", "Text message", body], ["tap", "Send"]]


def _contact(name: str) -> Plan:
    return [_open("Contacts"), ["tap", name]]


def _form(*pairs: tuple[str, str]) -> Plan:
    return [["type", hint, value] for hint, value in pairs]


def _event(title: str) -> Plan:
    return [_open("Calendar"), ["tap", title]]


def _shop_filter(category: str, low: str = "", high: str = "", free: bool = False, sort: str = "") -> Plan:
    plan = [_open("Shop"), ["tap", "Filter products"], ["tap", category]]
    if sort:
        plan.append(["tap", sort])
    if free:
        plan.append(["tap", "Free shipping only"])
    plan += _form(*[(hint, v) for hint, v in (("Min price ($)", low), ("Max price ($)", high)) if v])
    return [*plan, ["tap", "Apply"]]


def _buy(*names: str) -> Plan:
    plan = [_open("Shop")]
    for name in names:
        plan += [["tap", name], ["tap", "Add to cart"], ["back"]]
    return [*plan, ["tap", "Open cart"], ["tap", "Checkout"], ["tap", "Place order"]]


def _check(kind: str, **spec: Any) -> dict[str, Any]:
    return {"kind": kind, **spec}


def _answer(plan: Plan, answer: str, kind: str = "text", value: Any = None) -> tuple[Plan, list[dict[str, Any]]]:
    """A question task: the expert answers `answer`; the check wants `value` (default: `answer`) as a `kind`
    (see `values.compare`; for text, a list of accepted phrasings)."""
    expected = value if value is not None else ([answer] if kind == "text" else answer)
    return [*plan, ["answer", answer]], [_check("answer", type=kind, value=expected)]


OTHER_PLACES = ["Room 4", "Room 2", "Smile Clinic", "Room 7", "Studio B", "Harbor Hall", "Rex Cinema"]
OTHER_NOTES = ["spinach", "scarf", "passport", "Piranesi"]  # pasting every note along with the password fails

# (id suffix, goal, plan, checks, tags); checks None means the task is infeasible.
_TASKS: list[tuple[str, str, Plan, list[dict[str, Any]] | None, list[str]]] = [
    ("contacts-add-priya", "Add a contact named Priya Shah with phone number +1 415 555 0142.",
     [_open("Contacts"), ["tap", "Create contact"], *_form(("Name", "Priya Shah"), ("Phone", "+1 415 555 0142")),
      ["tap", "Save"]], [_check("contact", name="Priya Shah", phone="+1 415 555 0142")], ["contacts"]),
    ("contacts-add-sam", "Create a contact Sam Okafor, phone +1 628 555 0190, email sam.okafor@example.com.",
     [_open("Contacts"), ["tap", "Create contact"], *_form(("Name", "Sam Okafor"), ("Phone", "+1 628 555 0190"),
                                                          ("Email", "sam.okafor@example.com")), ["tap", "Save"]],
     [_check("contact", name="Sam Okafor", phone="+1 628 555 0190", email="sam.okafor@example.com")], ["contacts"]),
    ("contacts-add-leo", "Save Leo Grant's number, +1 510 555 0177, as a new contact.",
     [_open("Contacts"), ["tap", "Create contact"], *_form(("Name", "Leo Grant"), ("Phone", "+1 510 555 0177")),
      ["tap", "Save"]], [_check("contact", name="Leo Grant", phone="+1 510 555 0177")], ["contacts"]),
    ("contacts-edit-bob", "Bob Martinez has a new number: +1 415 555 0199. Update his contact.",
     [*_contact("Bob Martinez"), ["tap", "Edit contact"], ["type", "Phone", "+1 415 555 0199"], ["tap", "Save"]],
     [_check("contact", name="Bob Martinez", phone="+1 415 555 0199")], ["contacts"]),
    ("contacts-edit-ethan", "Set Ethan Brooks's email to ethan.b@example.com.",
     [*_contact("Ethan Brooks"), ["tap", "Edit contact"], ["type", "Email", "ethan.b@example.com"], ["tap", "Save"]],
     [_check("contact", name="Ethan Brooks", email="ethan.b@example.com")], ["contacts"]),
    ("contacts-delete-ivan", "Delete Ivan Petrov from my contacts.",
     [*_contact("Ivan Petrov"), ["tap", "Delete"], ["tap", "Delete"]], [_check("no_contact", name="Ivan Petrov")],
     ["contacts"]),
    ("contacts-favorite-hana", "Mark Hana Sato as a favorite contact.",
     [*_contact("Hana Sato"), ["tap", "Add to favorites"]], [_check("contact", name="Hana Sato", favorite=True)],
     ["contacts"]),
    ("contacts-unfavorite-alice", "Remove Alice Chen from my favorites.",
     [*_contact("Alice Chen"), ["tap", "Remove from favorites"]],
     [_check("contact", name="Alice Chen", favorite=False)], ["contacts"]),
    ("contacts-ask-nina", "What is Nina Patel's phone number?",
     *_answer(_contact("Nina Patel"), "+1 415 555 0114", "phone"), ["contacts", "question"]),
    ("contacts-ask-lena", "What is Lena Vogel's email address?",
     *_answer(_contact("Lena Vogel"), "lena.v@example.com", "email"), ["contacts", "question"]),
    ("messages-text-carol", "Text Carol White: \"I'll send the report tonight\".",
     _text("Carol White", "I'll send the report tonight"),
     [_check("message", to="Carol White", text=["I'll send the report tonight"])],
     ["messages"]),
    ("messages-text-dana", "Send Dana Kim a message saying \"No problem, see you at 1\".",
     _text("Dana Kim", "No problem, see you at 1"),
     [_check("message", to="Dana Kim", text=["No problem, see you at 1"])],
     ["messages"]),
    ("messages-text-george", "Wish George Li a happy birthday by SMS.",
     _text("George Li", "Happy birthday, George!"), [_check("message", to="George Li", contains=["birthday"])],
     ["messages"]),
    ("messages-reply-alice", "Reply to Alice's latest message from the notification: say yes, it's still on.",
     [["shade"], ["tap", "Alice Chen"], ["type", "Text message", "Yes, it's still on!"], ["tap", "Send"]],
     [_check("message", to="Alice Chen", contains=["still on"])], ["messages", "notification"]),
    ("messages-text-number", "Send \"Please call me back\" to the number +1 650 555 0123.",
     [_open("Messages"), ["tap", "Start chat"], ["type", "To: name or number", "+1 650 555 0123"], ["enter"],
      ["type", "Text message", "Please call me back"], ["tap", "Send"]],
     [_check("message", to="+1 650 555 0123", text=["Please call me back"])], ["messages"]),
    ("messages-delete-spam", "Delete the conversation with +1 650 555 0199.",
     [_open("Messages"), ["long", "+1 650 555 0199"], ["tap", "Delete"]],
     [_check("no_thread", name="+1 650 555 0199")], ["messages"]),
    ("messages-ask-dana", "What did Dana text me this morning?",
     *_answer([_open("Messages"), ["tap", "Dana Kim"]], "Running 10 min late", "text",
             ["Running 10 min late", "10 min late", "She is running 10 min late", "Dana is running 10 min late"]),
     ["messages", "question"]),
    ("messages-ask-bob", "Which row are the seats Bob and I talked about in?",
     *_answer([_open("Messages"), ["tap", "Bob Martinez"]], "Row F", "text", ["Row F", "F"]), ["messages", "question"]),
    ("cross-next-meeting-alice", "Text Alice Chen the time of my next meeting.",
     [_open("Calendar"), ["tap", "Design review"], *_text("Alice Chen", "My next meeting is at 11:30")],
     [_check("message", to="Alice Chen", time="11:30")], ["cross-app", "messages", "calendar"]),
    ("cross-lunch-bob", "Tell Bob Martinez by text where my lunch today is.",
     [*_event("Lunch with Dana"), *_text("Bob Martinez", "Lunch is at Cafe Rio")],
     [_check("message", to="Bob Martinez", contains=["Cafe Rio"], excludes=OTHER_PLACES)],
     ["cross-app", "messages", "calendar"]),
    ("cross-note-carol-number", "Create a note titled Carol containing Carol White's phone number.",
     [*_contact("Carol White"), _open("Notes"), ["tap", "New note"],
      *_form(("Title", "Carol"), ("Note", "+1 415 555 0103")), ["tap", "Save"]],
     [_check("note", title="Carol", phone="+1 415 555 0103")], ["cross-app", "notes", "contacts"]),
    ("cross-coffee-hana", "Add an event \"Coffee with Hana\" tomorrow at 10:00.",
     [_open("Calendar"), ["tap", "New event"],
      *_form(("Title", "Coffee with Hana"), ("Date (YYYY-MM-DD)", "2026-11-24"), ("Time (HH:MM)", "10:00")),
      ["tap", "Save"]],
     [_check("event", title="Coffee with Hana", date="2026-11-24", time="10:00")], ["calendar"]),
    ("cross-wifi-password-dana", "Text Dana Kim the guest wifi password saved in my notes.",
     [_open("Notes"), ["tap", "Wifi password"], ["back"], *_text("Dana Kim", "The guest wifi password is sunflower42")],
     [_check("message", to="Dana Kim", contains=["sunflower42"], excludes=OTHER_NOTES)],
     ["cross-app", "messages", "notes"]),
    ("cross-ask-cheapest-watch", "How much is the cheapest watch with free shipping in the Shop?",
     *_answer(_shop_filter("Watches", free=True, sort="Price: low to high"), "$70", "money", 70), ["shop", "question"]),
    ("calendar-add-piano", "Schedule \"Piano lesson\" on 2026-11-29 at 17:00 at Music School.",
     [_open("Calendar"), ["tap", "New event"], *_form(("Title", "Piano lesson"), ("Date (YYYY-MM-DD)", "2026-11-29"),
                                                     ("Time (HH:MM)", "17:00"), ("Location", "Music School")),
      ["tap", "Save"]],
     [_check("event", title="Piano lesson", date="2026-11-29", time="17:00", location="Music School")], ["calendar"]),
    ("calendar-add-kickoff", "Create a calendar event \"Project kickoff\" on November 30, 2026 at 9:30.",
     [_open("Calendar"), ["tap", "New event"], *_form(("Title", "Project kickoff"), ("Date (YYYY-MM-DD)", "2026-11-30"),
                                                     ("Time (HH:MM)", "09:30")), ["tap", "Save"]],
     [_check("event", title="Project kickoff", date="2026-11-30", time="09:30")], ["calendar"]),
    ("calendar-add-haircut", "Book a \"Haircut\" in my calendar this Wednesday at 12:15.",
     [_open("Calendar"), ["tap", "New event"], *_form(("Title", "Haircut"), ("Date (YYYY-MM-DD)", "2026-11-25"),
                                                     ("Time (HH:MM)", "12:15")), ["tap", "Save"]],
     [_check("event", title="Haircut", date="2026-11-25", time="12:15")], ["calendar"]),
    ("calendar-delete-yoga", "Cancel my yoga class: delete it from the calendar.",
     [*_event("Yoga"), ["tap", "Delete"], ["tap", "Delete"]], [_check("no_event", name="Yoga")], ["calendar"]),
    ("calendar-delete-movie", "Delete the Movie night event.",
     [*_event("Movie night"), ["tap", "Delete"], ["tap", "Delete"]], [_check("no_event", name="Movie night")],
     ["calendar"]),
    ("calendar-move-budget", "Move the Budget meeting to 16:00 on the same day.",
     [*_event("Budget meeting"), ["tap", "Edit event"], ["type", "Time (HH:MM)", "16:00"], ["tap", "Save"]],
     [_check("event", title="Budget meeting", date="2026-11-24", time="16:00")], ["calendar"]),
    ("calendar-relocate-offsite", "The team offsite moved to Pier 7. Update the event's location.",
     [*_event("Team offsite"), ["tap", "Edit event"], ["type", "Location", "Pier 7"], ["tap", "Save"]],
     [_check("event", title="Team offsite", date="2026-11-26", time="10:00", location="Pier 7")], ["calendar"]),
    ("calendar-ask-dentist", "What time is my dentist appointment?",
     *_answer(_event("Dentist"), "08:30", "time"), ["calendar", "question"]),
    ("calendar-ask-last", "What is the last event in my calendar this week?",
     *_answer([_open("Calendar")], "Movie night"), ["calendar", "question"]),
    ("settings-wifi-off", "Turn off Wi-Fi.", [_open("Settings"), ["tap", "Wi-Fi"]],
     [_check("setting", key="wifi", value=False)], ["settings"]),
    ("settings-bluetooth-on", "Turn on Bluetooth.", [_open("Settings"), ["tap", "Bluetooth"]],
     [_check("setting", key="bluetooth", value=True)], ["settings"]),
    ("settings-dark-mode", "Switch the phone to dark mode.", [_open("Settings"), ["tap", "Dark mode"]],
     [_check("setting", key="dark_mode", value=True)], ["settings"]),
    ("settings-airplane", "Put the phone in airplane mode using quick settings.", [["shade"], ["tap", "Airplane mode"]],
     [_check("setting", key="airplane_mode", value=True)], ["settings", "notification"]),
    ("settings-dnd", "Turn on Do not disturb.", [["shade"], ["tap", "Do not disturb"]],
     [_check("setting", key="do_not_disturb", value=True)], ["settings", "notification"]),
    ("settings-brightness-30", "Set the screen brightness to 30%.", [_open("Settings"), ["slide", "Brightness", 30]],
     [_check("setting", key="brightness", min=28, max=32)], ["settings"]),
    ("settings-brightness-85", "Make the screen brighter: set brightness to 85%.",
     [_open("Settings"), ["slide", "Brightness", 85]], [_check("setting", key="brightness", min=83, max=87)],
     ["settings"]),
    ("settings-wifi-bluetooth", "Turn Wi-Fi off and Bluetooth on.",
     [_open("Settings"), ["tap", "Wi-Fi"], ["tap", "Bluetooth"]],
     [_check("setting", key="wifi", value=False), _check("setting", key="bluetooth", value=True)], ["settings"]),
    ("settings-night", "Get the phone ready for the night: dark mode on and brightness at 20%.",
     [_open("Settings"), ["tap", "Dark mode"], ["slide", "Brightness", 20]],
     [_check("setting", key="dark_mode", value=True), _check("setting", key="brightness", min=18, max=22)],
     ["settings"]),
    ("notes-add-meeting", "Create a note titled \"Meeting notes\" that says: discuss Q4 budget.",
     [_open("Notes"), ["tap", "New note"], *_form(("Title", "Meeting notes"), ("Note", "discuss Q4 budget")),
      ["tap", "Save"]], [_check("note", title="Meeting notes", text=["discuss Q4 budget"])], ["notes"]),
    ("notes-add-shopping", "Make a note called Hardware with the text: batteries, tape.",
     [_open("Notes"), ["tap", "New note"], *_form(("Title", "Hardware"), ("Note", "batteries, tape")), ["tap", "Save"]],
     [_check("note", title="Hardware", items=["batteries", "tape"])], ["notes"]),
    ("notes-delete-books", "Delete my Book list note.", [_open("Notes"), ["long", "Book list"], ["tap", "Delete"]],
     [_check("no_note", name="Book list")], ["notes"]),
    ("notes-delete-packing", "I'm back from the trip; delete the Trip packing note.",
     [_open("Notes"), ["tap", "Trip packing"], ["tap", "Delete"], ["tap", "Delete"]],
     [_check("no_note", name="Trip packing")], ["notes"]),
    ("notes-append-bread", "Add bread to my Groceries note, keeping what is already there.",
     [_open("Notes"), ["tap", "Groceries"], ["append", "Note", ", bread"], ["tap", "Save"]],
     [_check("note", title="Groceries", items=["milk", "eggs", "spinach", "rice", "bread"])], ["notes"]),
    ("notes-ask-wifi", "What is the guest wifi password?",
     *_answer([_open("Notes"), ["tap", "Wifi password"]], "sunflower42"), ["notes", "question"]),
    ("shop-filter-wallets", "In the Shop, filter wallets priced 100-300 with free shipping.",
     _shop_filter("Wallets", "100", "300", free=True),
     [_check("filter", category="Wallets", min_price=100, max_price=300, free_shipping=True)], ["shop"]),
    ("shop-filter-bags", "Show bags under $200, cheapest first.",
     _shop_filter("Bags", high="200", sort="Price: low to high"),
     [_check("filter", category="Bags", min_price=None, max_price=200, free_shipping=False,
             sort="Price: low to high")], ["shop"]),
    ("shop-filter-shoes", "Find shoes with free shipping, best rated first.",
     _shop_filter("Shoes", free=True, sort="Rating"),
     [_check("filter", category="Shoes", min_price=None, max_price=None, free_shipping=True, sort="Rating")], ["shop"]),
    ("shop-cart-minimalist", "Put the Minimalist Wallet in my shopping cart.",
     [_open("Shop"), ["tap", "Minimalist Wallet"], ["tap", "Add to cart"]], [_check("cart", ids=["w6"])], ["shop"]),
    ("shop-buy-dive", "Buy the Dive Watch.", _buy("Dive Watch"), [_check("order", ids=["t2"])], ["shop"]),
    ("shop-cart-cheapest-wallet", "Add the cheapest wallet that ships for free to the cart.",
     [*_shop_filter("Wallets", free=True, sort="Price: low to high"), ["tap", "Classic Bifold Wallet"],
      ["tap", "Add to cart"]], [_check("cart", ids=["w2"])], ["shop"]),
    ("shop-buy-two", "Order the City Backpack and the Trail Runner together in one order.",
     _buy("City Backpack", "Trail Runner"), [_check("order", ids=["b1", "s1"])], ["shop"]),
    ("shop-ask-field-watch", "How much does the Field Watch cost?",
     *_answer([_open("Shop"), ["tap", "Field Watch"]], "$220", "money", 220), ["shop", "question"]),
    ("infeasible-text-zoe", "Text Zoe Park \"see you soon\".",
     [*_new_chat("Zoe Park")[:3], ["status", "infeasible"]], None, ["infeasible", "messages"]),
    ("infeasible-brightness-150", "Set the brightness to 150%.", [_open("Settings"), ["status", "infeasible"]], None,
     ["infeasible", "settings"]),
    ("infeasible-delete-gym", "Delete my Gym event on Friday.", [_open("Calendar"), ["status", "infeasible"]], None,
     ["infeasible", "calendar"]),
    ("infeasible-buy-ring", "Buy the Aurora Smart Ring from the Shop.", [_open("Shop"), ["status", "infeasible"]], None,
     ["infeasible", "shop"]),
    ("infeasible-5g", "Turn on 5G in Settings.", [_open("Settings"), ["status", "infeasible"]], None,
     ["infeasible", "settings"]),
    ("infeasible-call-bob", "Call Bob Martinez.", [_contact("Bob Martinez")[0], ["status", "infeasible"]], None,
     ["infeasible", "contacts"]),
]
