"""The built-in browser task suite: 63 tasks over the shop, webmail and booking apps.

Each task is data: the app and its initial state (`setup`), a goal in plain words, a state-based
evaluator spec (see `apps/evaluate.py`) and, as privileged information for the scripted expert
only, a `plan` of steps that name elements by role and accessible name (never by id: ids are read
from the observation at run time). Families are split train/dev/test round-robin (3:1:1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from coachgym.envs.core import Task, TaskSuite

DATA = Path(__file__).parent / "apps" / "data"
CATALOG = {p["name"]: p for p in json.loads((DATA / "shop.json").read_text(encoding="utf-8"))}
INBOX = json.loads((DATA / "mail.json").read_text(encoding="utf-8"))
SPLITS = ("train", "train", "train", "dev", "test")
CART_SQL = "SELECT p.name, c.qty FROM cart c JOIN products p ON p.id = c.product_id"
SENT_SQL = "SELECT recipient, subject, body FROM emails WHERE folder = 'sent'"


def click(role: str, name: str) -> dict[str, Any]:
    return {"do": "click", "role": role, "name": name}


def fill(role: str, name: str, text: str, enter: bool = False) -> dict[str, Any]:
    return {"do": "type", "role": role, "name": name, "text": text, "enter": enter}


def choose(name: str, option: str) -> dict[str, Any]:
    return {"do": "select", "role": "combobox", "name": name, "option": option}


def finish(text: str = "done") -> dict[str, Any]:
    return {"do": "answer", "text": text}


def sql(app: str, query: str, expected: list[list[Any]]) -> dict[str, Any]:
    return {"type": "sql", "app": app, "query": query, "expected": expected}


# ----------------------------------------------------------------------------------- shop
def _open_product(name: str) -> list[dict[str, Any]]:
    return [fill("textbox", "Search", name, enter=True), click("link", name)]


def _add(name: str, qty: int) -> list[dict[str, Any]]:
    steps = _open_product(name)
    if qty != 1:
        steps.append(fill("spinbutton", "Quantity", str(qty)))
    return [*steps, click("button", "Add to cart")]


def _shop_tasks() -> list[list[dict[str, Any]]]:
    add = [("Blue Ceramic Mug", 1), ("Yoga Mat", 2), ("USB-C Cable", 3), ("Desk Lamp", 1), ("Tennis Balls", 4),
           ("Chef Knife", 1)]
    buy = [("Wireless Mouse", 1, "Ada Lovelace", "12 Analytical Way, London", "Express", "Card"),
           ("Notebook A5", 5, "Alan Turing", "7 Bletchley Road, Milton Keynes", "Standard", "Card"),
           ("Running Shoes", 1, "Grace Hopper", "1 Navy Yard, Arlington", "Express", "Cash on delivery"),
           ("Steel Water Bottle", 2, "Katherine Johnson", "44 Orbit Lane, Hampton", "Standard", "Cash on delivery"),
           ("Gel Pens", 3, "Edsger Dijkstra", "3 Shortest Path, Austin", "Express", "Card")]
    cheapest = [("Electronics", None), ("Sports", None), ("Kitchen", 20.0)]
    prices = ["Mechanical Keyboard", "Cycling Helmet", "Tea Kettle", "Portable Charger"]
    removal = [("Webcam HD", "Jump Rope"), ("Stapler", "Paper Clips"), ("Red Ceramic Mug", "Yoga Mat")]
    updates = [("Gel Pens", 4), ("Tennis Balls", 6)]
    families: list[list[dict[str, Any]]] = [[], [], [], [], [], []]
    for name, qty in add:
        families[0].append(dict(goal=f"Add {qty} x '{name}' to the shopping cart.", plan=[*_add(name, qty), finish()],
                                evaluator=sql("shop", CART_SQL, [[name, qty]])))
    for name, qty, person, address, shipping, payment in buy:
        plan = [*_add(name, qty), click("link", "Proceed to checkout"), fill("textbox", "Full name", person),
                fill("textbox", "Address", address), choose("Shipping", shipping), click("radio", payment),
                click("button", "Place order"), finish()]
        families[1].append(dict(
            goal=f"Buy {qty} x '{name}' for {person}, {address}, with {shipping} shipping, paying by {payment}.",
            plan=plan,
            evaluator={"type": "all", "checks": [
                sql("shop", "SELECT name, address, shipping, payment FROM orders", [[person, address, shipping, payment]]),
                sql("shop", "SELECT p.name, i.qty FROM order_items i JOIN products p ON p.id = i.product_id",
                    [[name, qty]])]}))
    for category, limit in cheapest:
        pool = [p for p in CATALOG.values() if p["category"] == category and (limit is None or p["price"] <= limit)]
        target = min(pool, key=lambda p: p["price"])["name"]
        rule = f" costing at most ${limit:.0f}" if limit else ""
        plan = [choose("Category", category), choose("Sort by", "price-asc"), click("button", "Search"),
                click("link", target), click("button", "Add to cart"), finish()]
        families[2].append(dict(goal=f"Add the cheapest {category} product{rule} to the cart (one unit).",
                                plan=plan, evaluator=sql("shop", CART_SQL, [[target, 1]]), start="/shop/"))
    for name in prices:
        price = f"{CATALOG[name]['price']:.2f}"
        families[3].append(dict(goal=f"What is the price of '{name}' in the shop? Answer with the number.",
                                plan=[*_open_product(name), finish(price)],
                                evaluator={"type": "answer", "expected": price, "match": "number"}))
    for keep, drop in removal:
        families[4].append(dict(goal=f"Remove '{drop}' from the shopping cart, keeping everything else.",
                                cart=[[keep, 1], [drop, 2]], start="/shop/cart",
                                plan=[click("button", f"Remove {drop}"), finish()],
                                evaluator=sql("shop", CART_SQL, [[keep, 1]])))
    for name, qty in updates:
        families[5].append(dict(goal=f"Change the quantity of '{name}' in the cart to {qty}.",
                                cart=[[name, 1], ["Paper Clips", 2]], start="/shop/cart",
                                plan=[fill("spinbutton", f"Quantity of {name}", str(qty)),
                                      click("button", f"Update {name}"), finish()],
                                evaluator=sql("shop", CART_SQL, [[name, qty], ["Paper Clips", 2]])))
    return families


# ----------------------------------------------------------------------------------- mail
def _open_mail(index: int, search: bool) -> list[dict[str, Any]]:
    subject = INBOX[index]["subject"]
    prefix = [fill("textbox", "Search mail", subject.split()[0], enter=True)] if search else []
    return [*prefix, click("link", subject)]


def _mail_tasks() -> list[list[dict[str, Any]]]:
    sends = [("bob@example.test", "Meeting notes", "Notes are in the shared folder."),
             ("carol@example.test", "Thank you", "Thanks for the help yesterday!"),
             ("dave@example.test", "Lunch?", "Are you free for lunch on Tuesday?"),
             ("erin@example.test", "Slides", "Here are the slides for Monday.")]
    replies = [(0, "Noon on Friday works for me."), (1, "I will review section 3 today."),
               (5, "Please cancel my membership."), (9, "I will be there!")]
    forwards = [(2, "frank@example.test"), (7, "accounts@example.test"), (8, "oncall@example.test")]
    deletes, stars = [11, 13, 6], [4, 12]
    questions = [(3, "730914", "What is the one-time confirmation code in the password reset email?"),
                 (2, "TRK-88213-Q", "What is the tracking number of the parcel from Carol?"),
                 (9, "5813", "What is the door code for Judy's birthday party?"),
                 (12, "ORD-30457", "What is the order number of the laptop order?")]
    families: list[list[dict[str, Any]]] = [[], [], [], [], [], []]
    for to, subject, body in sends:
        plan = [click("link", "Compose"), fill("textbox", "To", to), fill("textbox", "Subject", subject),
                fill("textbox", "Message", body), click("button", "Send"), finish()]
        families[0].append(dict(goal=f"Send an email to {to} with subject '{subject}' and message '{body}'.",
                                plan=plan, evaluator=sql("mail", SENT_SQL, [[to, subject, body]])))
    for i, (index, text) in enumerate(replies):
        mail = INBOX[index]
        plan = [*_open_mail(index, search=i % 2 == 0), click("link", "Reply"), fill("textbox", "Message", text),
                click("button", "Send"), finish()]
        families[1].append(dict(goal=f"Reply to the email '{mail['subject']}' from {mail['sender']} with the "
                                f"message '{text}'.", plan=plan,
                                evaluator=sql("mail", SENT_SQL, [[mail["sender"], f"Re: {mail['subject']}", text]])))
    for index, to in forwards:
        mail = INBOX[index]
        plan = [*_open_mail(index, search=True), click("link", "Forward"), fill("textbox", "To", to),
                click("button", "Send"), finish()]
        families[2].append(dict(goal=f"Forward the email '{mail['subject']}' to {to}.", plan=plan,
                                evaluator=sql("mail", "SELECT recipient, subject FROM emails WHERE folder = 'sent'",
                                              [[to, f"Fwd: {mail['subject']}"]])))
    for index in deletes:
        subject = INBOX[index]["subject"]
        families[3].append(dict(goal=f"Delete the email with subject '{subject}'.",
                                plan=[*_open_mail(index, search=False), click("button", "Delete"), finish()],
                                evaluator=sql("mail", "SELECT subject FROM emails WHERE folder = 'trash'", [[subject]])))
    for index in stars:
        mail = INBOX[index]
        families[4].append(dict(goal=f"Star the email '{mail['subject']}' from {mail['sender']}.",
                                plan=[*_open_mail(index, search=True), click("button", "Star"), finish()],
                                evaluator=sql("mail", "SELECT subject FROM emails WHERE starred = 1",
                                              [[mail["subject"]]])))
    for index, code, question in questions:
        families[5].append(dict(goal=question + " Answer with the code only.",
                                plan=[*_open_mail(index, search=True), finish(code)],
                                evaluator={"type": "answer", "expected": code, "match": "exact"}))
    return families


# ----------------------------------------------------------------------------------- booking
def _booking_tasks() -> list[list[dict[str, Any]]]:
    books = [("Maria Lopez", "2026-12-04", "19:00", 4, "Indoor"), ("Tom Becker", "2026-12-05", "12:30", 2, "Outdoor"),
             ("Aiko Tanaka", "2026-12-11", "20:00", 6, "Indoor"), ("Omar Haddad", "2026-12-12", "18:30", 3, "Outdoor"),
             ("Lena Novak", "2027-01-08", "13:00", 8, "Indoor"), ("Sam Okafor", "2027-01-15", "19:30", 2, "Indoor"),
             ("Nina Rossi", "2027-02-14", "20:30", 2, "Outdoor"), ("Piet de Vries", "2027-03-01", "12:00", 5, "Indoor")]
    existing = [["Maria Lopez", "2026-12-04", "19:00", 4], ["Tom Becker", "2026-12-05", "12:30", 2],
                ["Aiko Tanaka", "2026-12-11", "20:00", 6]]
    signups = [("quietfox", "fox@example.test", "hunter22", "Pro", True), ("jdoe", "jdoe@example.test", "secret99", "Free", False),
               ("teamlead", "lead@example.test", "s3cure!!", "Team", True), ("mira", "mira@example.test", "pa55word", "Pro", False),
               ("kofi", "kofi@example.test", "letmein7", "Free", True)]
    feedback = [(5, "Food", "The soup was excellent."), (3, "Service", "We waited a long time."),
                (4, "Website", "Booking was easy."), (1, "Other", "Parking was full.")]
    families: list[list[dict[str, Any]]] = [[], [], [], []]
    for name, date, time, party, seating in books:
        plan = [click("link", "Book a table"), fill("textbox", "Name", name), fill("textbox", "Date", date),
                choose("Time", time), fill("spinbutton", "Party size", str(party)), click("radio", seating),
                click("button", "Book"), finish()]
        families[0].append(dict(goal=f"Book a table for {party} under the name {name} on {date} at {time}, "
                                f"{seating.lower()} seating.", plan=plan,
                                evaluator=sql("booking", "SELECT name, date, time, party, seating FROM reservations "
                                              "WHERE status = 'booked'", [[name, date, time, party, seating]])))
    for i, (name, date, _, _) in enumerate(existing):
        families[1].append(dict(goal=f"Cancel the reservation of {name} on {date}.", reservations=existing,
                                plan=[click("link", "My reservations"), click("button", f"Cancel {name} {date}"), finish()],
                                evaluator=sql("booking", "SELECT name, date FROM reservations WHERE status = 'booked'",
                                              [r[:2] for j, r in enumerate(existing) if j != i])))
    for username, email, password, plan_name, newsletter in signups:
        plan = [click("link", "Create account"), fill("textbox", "Username", username), fill("textbox", "Email", email),
                fill("textbox", "Password", password), choose("Plan", plan_name),
                *([click("checkbox", "Send me the newsletter")] if newsletter else []),
                click("checkbox", "I accept the terms"), click("button", "Create account"), finish()]
        wants = "with" if newsletter else "without"
        families[2].append(dict(goal=f"Create an account '{username}' with email {email}, password {password} and "
                                f"the {plan_name} plan, {wants} the newsletter.", plan=plan,
                                evaluator=sql("booking", "SELECT username, email, password, plan, newsletter FROM accounts",
                                              [[username, email, password, plan_name, int(newsletter)]])))
    for rating, topic, comment in feedback:
        plan = [click("link", "Feedback"), click("radio", f"{rating} stars"), choose("Topic", topic),
                fill("textbox", "Comment", comment), click("button", "Send feedback"), finish()]
        families[3].append(dict(goal=f"Leave feedback: {rating} stars, topic {topic}, comment '{comment}'.", plan=plan,
                                evaluator=sql("booking", "SELECT rating, topic, comment FROM feedback",
                                              [[rating, topic, comment]])))
    return families


def builtin_suite() -> TaskSuite:
    """63 tasks: shop (23), webmail (20), booking forms (20)."""
    tasks = []
    for app, families in (("shop", _shop_tasks()), ("mail", _mail_tasks()), ("booking", _booking_tasks())):
        for family_index, family in enumerate(families):
            for index, spec in enumerate(family):
                setup = {"kind": "app", "app": app, "start": spec.get("start", f"/{app}/"), "plan": spec["plan"]}
                setup.update({key: spec[key] for key in ("cart", "reservations") if key in spec})
                tasks.append(Task(id=f"{app}-{family_index}-{index}", env="browser", goal=spec["goal"], setup=setup,
                                  evaluator=spec["evaluator"], split=SPLITS[index % len(SPLITS)], tags=[app],
                                  max_steps=len(spec["plan"]) + 10))
    return TaskSuite(name="browser", env="browser", tasks=tasks, reference_score=1.0,
                     description="Local shop, webmail and booking web apps scored from their backend state.")
