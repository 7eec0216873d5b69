"""The fixed starting data every phone episode begins from, and how a task's setup edits it.

One shared world keeps tasks comparable and lets task authors write goals against known facts
("my next meeting" is always computable from this data). Tasks change it only through
`setup["world"]`: `add` appends records, `settings` overrides switches, `clock` moves time.
The seed only shuffles the launcher's icon order, so pixels vary while app data stays fixed; a
task may fix that layout with `setup["world"]["layout_seed"]`, which then also shuffles the note
and product lists and picks the dock's apps (GUI tasks whose target must be found on the screen).
This module must not know about screens or evaluation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coachgym.envs.phone.state import Contact, Event, Message, Note, Notification, PhoneState, Product, Settings

APPS = ["Contacts", "Messages", "Calendar", "Settings", "Notes", "Shop"]

_CONTACTS = [
    ("Alice Chen", "+1 415 555 0101", "alice.chen@example.com"),
    ("Bob Martinez", "+1 415 555 0102", "bob.m@example.com"),
    ("Carol White", "+1 415 555 0103", "carol@example.com"),
    ("Dana Kim", "+1 415 555 0104", "dana.kim@example.com"),
    ("Ethan Brooks", "+1 415 555 0105", ""),
    ("Fatima Noor", "+1 415 555 0106", "fatima@example.com"),
    ("George Li", "+1 415 555 0107", ""),
    ("Hana Sato", "+1 415 555 0108", "hana.sato@example.com"),
    ("Ivan Petrov", "+1 415 555 0109", ""),
    ("Julia Rossi", "+1 415 555 0110", "julia@example.com"),
    ("Kofi Mensah", "+1 415 555 0111", ""),
    ("Lena Vogel", "+1 415 555 0112", "lena.v@example.com"),
    ("Mateo Silva", "+1 415 555 0113", ""),
    ("Nina Patel", "+1 415 555 0114", "nina.p@example.com"),
    ("Oscar Dahl", "+1 415 555 0115", ""),
]

_MESSAGES = [
    ("Bob Martinez", "Did you get the tickets?", False, "2026-11-22 18:05"),
    ("Bob Martinez", "Yes, two seats in row F", True, "2026-11-22 18:09"),
    ("Carol White", "Can you send me the report?", False, "2026-11-22 20:30"),
    ("Dana Kim", "Running 10 min late", False, "2026-11-23 08:12"),
    ("+1 650 555 0199", "Your package has shipped", False, "2026-11-23 08:40"),
    ("Alice Chen", "Are we still on for this week?", False, "2026-11-23 09:15"),
]

_EVENTS = [
    ("Standup", "2026-11-23", "09:00", "Room 4"),
    ("Design review", "2026-11-23", "11:30", "Room 2"),
    ("Lunch with Dana", "2026-11-23", "13:00", "Cafe Rio"),
    ("Dentist", "2026-11-24", "08:30", "Smile Clinic"),
    ("Budget meeting", "2026-11-24", "15:00", "Room 7"),
    ("Yoga", "2026-11-25", "18:00", "Studio B"),
    ("Team offsite", "2026-11-26", "10:00", "Harbor Hall"),
    ("Call with Bob", "2026-11-27", "16:30", "Phone"),
    ("Movie night", "2026-11-28", "20:00", "Rex Cinema"),
]

_NOTES = [
    ("Groceries", "milk, eggs, spinach, rice"),
    ("Wifi password", "guest network: sunflower42"),
    ("Gift ideas", "Alice: scarf. Bob: headphones."),
    ("Trip packing", "passport, charger, sandals"),
    ("Book list", "Dune; Piranesi; The Overstory"),
]

_PRODUCTS = [
    ("w1", "Slim Leather Wallet", "Wallets", 120, True, 4.6),
    ("w2", "Classic Bifold Wallet", "Wallets", 85, True, 4.2),
    ("w3", "Travel Zip Wallet", "Wallets", 240, False, 4.4),
    ("w4", "Carbon Card Holder", "Wallets", 310, True, 4.7),
    ("w5", "Canvas Trifold", "Wallets", 35, False, 3.9),
    ("w6", "Minimalist Wallet", "Wallets", 180, True, 4.8),
    ("w7", "Designer Long Wallet", "Wallets", 450, True, 4.1),
    ("b1", "City Backpack", "Bags", 140, True, 4.5),
    ("b2", "Weekender Duffel", "Bags", 260, False, 4.3),
    ("b3", "Tote Bag", "Bags", 45, True, 4.0),
    ("b4", "Laptop Messenger", "Bags", 175, True, 4.6),
    ("b5", "Hiking Pack 30L", "Bags", 210, False, 4.7),
    ("s1", "Trail Runner", "Shoes", 130, True, 4.4),
    ("s2", "Leather Loafer", "Shoes", 190, False, 4.2),
    ("s3", "Canvas Sneaker", "Shoes", 60, True, 4.1),
    ("s4", "Rain Boot", "Shoes", 95, False, 3.8),
    ("s5", "Court Classic", "Shoes", 110, True, 4.5),
    ("t1", "Field Watch", "Watches", 220, True, 4.6),
    ("t2", "Dive Watch", "Watches", 380, False, 4.8),
    ("t3", "Digital Sport Watch", "Watches", 70, True, 4.0),
    ("t4", "Dress Watch", "Watches", 295, True, 4.3),
]

CATEGORIES = ["All", "Wallets", "Bags", "Shoes", "Watches"]
_RECORDS = {"contacts": Contact, "messages": Message, "events": Event, "notes": Note, "products": Product,
            "notifications": Notification}


def base_state() -> PhoneState:
    return PhoneState(
        contacts=[Contact(name=n, phone=p, email=e, favorite=n == "Alice Chen") for n, p, e in _CONTACTS],
        messages=[Message(contact=c, body=b, outgoing=o, time=t) for c, b, o, t in _MESSAGES],
        events=[Event(title=t, date=d, time=h, location=loc) for t, d, h, loc in _EVENTS],
        notes=[Note(title=t, body=b) for t, b in _NOTES],
        products=[Product(id=i, name=n, category=c, price=p, free_shipping=f, rating=r)
                  for i, n, c, p, f, r in _PRODUCTS],
        notifications=[Notification(app="Messages", title="Alice Chen", text="Are we still on for this week?",
                                    thread="Alice Chen")],
        launcher=list(APPS),
    )


def build_state(world: dict[str, Any], seed: int) -> PhoneState:
    """The starting state for a task: the base world, the task's edits, launcher order from `seed`."""
    state = base_state()
    for key, records in world.get("add", {}).items():
        getattr(state, key).extend(_RECORDS[key].model_validate(r) for r in records)
    if "settings" in world:
        state.settings = Settings.model_validate(state.settings.model_dump() | world["settings"])
    if "clock" in world:
        state.clock = world["clock"]
    layout = np.random.default_rng(world.get("layout_seed", seed))
    state.launcher = [APPS[i] for i in layout.permutation(len(APPS))]
    if "layout_seed" in world:
        state.notes = [state.notes[i] for i in layout.permutation(len(state.notes))]
        state.products = [state.products[i] for i in layout.permutation(len(state.products))]
        state.dock = [APPS[i] for i in layout.choice(len(APPS), size=len(state.dock), replace=False)]
    return state
