"""The built-in forms app: table booking, reservations, account sign-up (inside an iframe), feedback.

Backend state (evaluators read it): `reservations`, `accounts`, `feedback`. The sign-up form is
deliberately served in an <iframe> so tasks exercise element ids across frames. Forms validate
on the server and re-render with an error, as real sites do.
"""

from __future__ import annotations

import re
from typing import Any

from coachgym.envs.browser.apps.server import Request, Response, WebApp, esc, redirect

TIMES = ("12:00", "12:30", "13:00", "18:00", "18:30", "19:00", "19:30", "20:00", "20:30")
PLANS = ("Free", "Pro", "Team")
TOPICS = ("Food", "Service", "Website", "Other")
_DATE = re.compile(r"^2\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


class BookingApp(WebApp):
    name = "booking"
    title = "Bistro Booking"
    nav = [("Book a table", "book"), ("My reservations", "reservations"), ("Create account", "signup"),
           ("Feedback", "feedback")]
    schema = """
    CREATE TABLE reservations (id INTEGER PRIMARY KEY, name TEXT, date TEXT, time TEXT, party INTEGER,
                               seating TEXT, notes TEXT, status TEXT DEFAULT 'booked');
    CREATE TABLE accounts (id INTEGER PRIMARY KEY, username TEXT, email TEXT, password TEXT, plan TEXT,
                           newsletter INTEGER);
    CREATE TABLE feedback (id INTEGER PRIMARY KEY, rating INTEGER, topic TEXT, comment TEXT);
    """

    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", "", self.home),
            ("GET", "book", self.book_form),
            ("POST", "book", self.book),
            ("GET", "reservations", self.reservations),
            ("POST", r"reservations/(\d+)/cancel", self.cancel),
            ("GET", "signup", self.signup_page),
            ("GET", "signup-form", self.signup_form),
            ("POST", "signup-form", self.signup),
            ("GET", "feedback", self.feedback_form),
            ("POST", "feedback", self.feedback),
        ]

    def seed(self, setup: dict[str, Any]) -> None:
        for name, date, time, party in setup.get("reservations", []):
            self.db.execute("INSERT INTO reservations (name, date, time, party, seating, notes) "
                            "VALUES (?, ?, ?, ?, 'Indoor', '')", (name, date, time, party))

    def home(self, request: Request) -> Response:
        return self.page("Welcome", "<p>Book a table, manage your reservations, create an account or tell us "
                         "what you think, using the links above.</p>", notice=request.arg("notice"))

    def book_form(self, request: Request, error: str = "") -> Response:
        times = "".join(f"<option{' selected' if t == request.arg('time') else ''}>{t}</option>" for t in TIMES)
        seating = "".join(
            f'<input type="radio" id="seat-{s.lower()}" name="seating" value="{s}"{" checked" if s == "Indoor" else ""}>'
            f'<label for="seat-{s.lower()}">{s}</label>' for s in ("Indoor", "Outdoor"))
        error_html = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
        return self.page("Book a table", f"""{error_html}<form method="post" action="{self.url('book')}">
        <div class="field"><label for="name">Name</label><input id="name" name="name" value="{esc(request.arg('name'))}"></div>
        <div class="field"><label for="date">Date</label><input id="date" name="date" placeholder="YYYY-MM-DD"
             value="{esc(request.arg('date'))}"></div>
        <div class="field"><label for="time">Time</label><select id="time" name="time">{times}</select></div>
        <div class="field"><label for="party">Party size</label><input id="party" name="party" type="number" min="1"
             max="12" value="{esc(request.arg('party') or '2')}"></div>
        <fieldset><legend>Seating</legend>{seating}</fieldset>
        <div class="field"><label for="notes">Notes</label><textarea id="notes" name="notes" rows="2"></textarea></div>
        <button type="submit">Book</button></form>""")

    def book(self, request: Request) -> Response:
        party = request.arg("party")
        if not request.arg("name"):
            return self.book_form(request, "Please enter a name.")
        if not _DATE.match(request.arg("date")):
            return self.book_form(request, "Please enter the date as YYYY-MM-DD.")
        if not party.isdigit() or not 1 <= int(party) <= 12:
            return self.book_form(request, "Party size must be between 1 and 12.")
        if request.arg("time") not in TIMES:
            return self.book_form(request, "Please choose a time.")
        rid = self.db.execute("INSERT INTO reservations (name, date, time, party, seating, notes) VALUES "
                              "(?, ?, ?, ?, ?, ?)", (request.arg("name"), request.arg("date"), request.arg("time"),
                                                     int(party), request.arg("seating") or "Indoor",
                                                     request.arg("notes"))).lastrowid
        self.db.commit()
        return redirect(self.url(f"?notice=Reservation {rid} confirmed"))

    def reservations(self, request: Request) -> Response:
        rows = self.db.execute("SELECT id, name, date, time, party FROM reservations WHERE status = 'booked' "
                               "ORDER BY date, time").fetchall()
        body = "".join(
            f"<tr><td>{esc(name)}</td><td>{date}</td><td>{time}</td><td>{party} people</td><td>"
            f'<form class="inline" method="post" action="{self.url(f"reservations/{rid}/cancel")}">'
            f'<button type="submit" aria-label="Cancel {esc(name)} {date}">Cancel</button></form></td></tr>'
            for rid, name, date, time, party in rows)
        return self.page("My reservations", f"<table>{body}</table>" if rows else "<p>No reservations.</p>",
                         notice=request.arg("notice"))

    def cancel(self, request: Request, rid: str) -> Response:
        self.db.execute("UPDATE reservations SET status = 'cancelled' WHERE id = ?", (int(rid),))
        self.db.commit()
        return redirect(self.url("reservations?notice=Reservation cancelled"))

    def signup_page(self, request: Request) -> Response:
        return self.page("Create account", f'<p>Fill in the form below.</p>'
                         f'<iframe title="Sign-up form" src="{self.url("signup-form")}"></iframe>')

    def signup_form(self, request: Request, error: str = "", done: str = "") -> Response:
        if done:
            return Response(f'<!doctype html><html><body><p role="status">{esc(done)}</p></body></html>')
        plans = "".join(f"<option>{p}</option>" for p in PLANS)
        error_html = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
        return Response(f"""<!doctype html><html><head><link rel="stylesheet" href="/static/apps.css"></head><body>
        {error_html}<form method="post" action="{self.url('signup-form')}">
        <div class="field"><label for="username">Username</label><input id="username" name="username"></div>
        <div class="field"><label for="email">Email</label><input id="email" name="email" type="email"></div>
        <div class="field"><label for="password">Password</label><input id="password" name="password" type="password"></div>
        <div class="field"><label for="plan">Plan</label><select id="plan" name="plan">{plans}</select></div>
        <div class="field"><input type="checkbox" id="newsletter" name="newsletter" value="1">
          <label for="newsletter">Send me the newsletter</label></div>
        <div class="field"><input type="checkbox" id="terms" name="terms" value="1">
          <label for="terms">I accept the terms</label></div>
        <button type="submit">Create account</button></form></body></html>""")

    def signup(self, request: Request) -> Response:
        if not request.arg("username") or "@" not in request.arg("email") or len(request.arg("password")) < 6:
            return self.signup_form(request, error="Username, a valid email and a password of 6+ characters are required.")
        if request.arg("terms") != "1":
            return self.signup_form(request, error="You must accept the terms.")
        plan = request.arg("plan") if request.arg("plan") in PLANS else "Free"
        self.db.execute("INSERT INTO accounts (username, email, password, plan, newsletter) VALUES (?, ?, ?, ?, ?)",
                        (request.arg("username"), request.arg("email"), request.arg("password"), plan,
                         int(request.arg("newsletter") == "1")))
        self.db.commit()
        return self.signup_form(request, done=f"Account {request.arg('username')} created.")

    def feedback_form(self, request: Request) -> Response:
        stars = "".join(f'<input type="radio" id="r{i}" name="rating" value="{i}"><label for="r{i}">{i} stars</label>'
                        for i in range(1, 6))
        topics = "".join(f"<option>{t}</option>" for t in TOPICS)
        return self.page("Feedback", f"""<form method="post" action="{self.url('feedback')}">
        <fieldset><legend>Rating</legend>{stars}</fieldset>
        <div class="field"><label for="topic">Topic</label><select id="topic" name="topic">{topics}</select></div>
        <div class="field"><label for="comment">Comment</label><textarea id="comment" name="comment"></textarea></div>
        <button type="submit">Send feedback</button></form>""")

    def feedback(self, request: Request) -> Response:
        rating = request.arg("rating")
        self.db.execute("INSERT INTO feedback (rating, topic, comment) VALUES (?, ?, ?)",
                        (int(rating) if rating.isdigit() else None, request.arg("topic"), request.arg("comment")))
        self.db.commit()
        return redirect(self.url("?notice=Thank you for your feedback"))
