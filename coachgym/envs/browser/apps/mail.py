"""The built-in webmail: folders, search, reading, composing, replying, forwarding, starring.

Backend state (evaluators read it): `emails(id, folder, sender, recipient, subject, body, read,
starred, sent_at)`; folders are inbox, sent and trash. The user's own address is `me@example.test`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from coachgym.envs.browser.apps.server import Request, Response, WebApp, esc, redirect

INBOX = json.loads((Path(__file__).parent / "data" / "mail.json").read_text(encoding="utf-8"))
ME = "me@example.test"
FOLDERS = ("inbox", "sent", "trash")


class MailApp(WebApp):
    name = "mail"
    title = "Webmail"
    nav = [("Inbox", ""), ("Sent", "?folder=sent"), ("Trash", "?folder=trash"), ("Compose", "compose")]
    schema = """
    CREATE TABLE emails (id INTEGER PRIMARY KEY, folder TEXT, sender TEXT, recipient TEXT, subject TEXT,
                         body TEXT, read INTEGER DEFAULT 0, starred INTEGER DEFAULT 0, sent_at TEXT);
    """

    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", "", self.listing),
            ("GET", r"m/(\d+)", self.read),
            ("POST", r"m/(\d+)/(star|delete|unread)", self.change),
            ("GET", "compose", self.compose),
            ("POST", "send", self.send),
        ]

    def seed(self, setup: dict[str, Any]) -> None:
        for mail in INBOX:
            self.db.execute("INSERT INTO emails (folder, sender, recipient, subject, body, sent_at) "
                            "VALUES ('inbox', ?, ?, ?, ?, ?)", (mail["sender"], ME, mail["subject"], mail["body"],
                                                                 mail["sent_at"]))

    def listing(self, request: Request) -> Response:
        folder = request.arg("folder") if request.arg("folder") in FOLDERS else "inbox"
        query = request.arg("q")
        rows = self.db.execute(
            "SELECT id, sender, recipient, subject, read, starred, sent_at FROM emails WHERE folder = ? AND "
            "(subject LIKE ? OR body LIKE ? OR sender LIKE ?) ORDER BY sent_at DESC, id DESC",
            (folder, f"%{query}%", f"%{query}%", f"%{query}%")).fetchall()
        items = "".join(
            f'<tr class="{"" if read else "unread"}"><td>{"★" if starred else ""}</td>'
            f"<td>{esc(sender if folder != 'sent' else 'To: ' + recipient)}</td>"
            f'<td><a href="{self.url(f"m/{mid}")}">{esc(subject)}</a></td><td>{esc(sent_at)}</td></tr>'
            for mid, sender, recipient, subject, read, starred, sent_at in rows)
        search = f"""<form method="get" action="{self.url()}" role="search"><input type="hidden" name="folder" value="{folder}">
        <input name="q" aria-label="Search mail" placeholder="Search mail" value="{esc(query)}">
        <button type="submit">Search</button></form>"""
        table = f"<table>{items}</table>" if rows else "<p>No messages.</p>"
        return self.page(folder.capitalize(), search + table, notice=request.arg("notice"))

    def _mail(self, mid: str) -> tuple[Any, ...] | None:
        return self.db.execute("SELECT id, folder, sender, recipient, subject, body, starred, sent_at FROM emails "
                               "WHERE id = ?", (int(mid),)).fetchone()

    def read(self, request: Request, mid: str) -> Response:
        mail = self._mail(mid)
        if mail is None:
            return self.page("Not found", "<p>No such message.</p>", status=404)
        self.db.execute("UPDATE emails SET read = 1 WHERE id = ?", (int(mid),))
        self.db.commit()
        _, folder, sender, recipient, subject, body, starred, sent_at = mail

        def action(verb: str, label: str) -> str:
            return (f'<form class="inline" method="post" action="{self.url(f"m/{mid}/{verb}")}">'
                    f'<button type="submit">{label}</button></form>')

        return self.page(subject, f"""<table><tr><th>From</th><td>{esc(sender)}</td></tr>
        <tr><th>To</th><td>{esc(recipient)}</td></tr><tr><th>Date</th><td>{esc(sent_at)}</td></tr></table>
        <p class="body">{esc(body)}</p>
        <a href="{self.url(f'compose?reply={mid}')}">Reply</a> <a href="{self.url(f'compose?forward={mid}')}">Forward</a>
        {action('star', 'Unstar' if starred else 'Star')} {action('unread', 'Mark as unread')}
        {action('delete', 'Delete') if folder != 'trash' else ''}""")

    def change(self, request: Request, mid: str, verb: str) -> Response:
        if verb == "star":
            self.db.execute("UPDATE emails SET starred = 1 - starred WHERE id = ?", (int(mid),))
        elif verb == "unread":
            self.db.execute("UPDATE emails SET read = 0 WHERE id = ?", (int(mid),))
        else:
            self.db.execute("UPDATE emails SET folder = 'trash' WHERE id = ?", (int(mid),))
        self.db.commit()
        return redirect(self.url(f"m/{mid}") if verb == "star" else self.url("?notice=Done"))

    def compose(self, request: Request, error: str = "") -> Response:
        to, subject, body = request.arg("to"), request.arg("subject"), request.arg("body")
        for key, prefix in (("reply", "Re: "), ("forward", "Fwd: ")):
            original = self._mail(request.arg(key)) if request.arg(key).isdigit() else None
            if original is not None:
                subject = original[4] if original[4].startswith(prefix) else prefix + original[4]
                to = original[2] if key == "reply" else to
                body = body or (f"\n\n---------- Forwarded message ----------\nFrom: {original[2]}\n{original[5]}"
                                if key == "forward" else "")
        error_html = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
        return self.page("New message", f"""{error_html}<form method="post" action="{self.url('send')}">
        <div class="field"><label for="to">To</label><input id="to" name="to" value="{esc(to)}"></div>
        <div class="field"><label for="subject">Subject</label><input id="subject" name="subject" value="{esc(subject)}"></div>
        <div class="field"><label for="body">Message</label><textarea id="body" name="body" rows="6" cols="60">{esc(body)}</textarea></div>
        <button type="submit">Send</button></form>""")

    def send(self, request: Request) -> Response:
        to = request.arg("to")
        if "@" not in to:
            return self.compose(request, error="Please enter a valid recipient address.")
        self.db.execute("INSERT INTO emails (folder, sender, recipient, subject, body, read, sent_at) "
                        "VALUES ('sent', ?, ?, ?, ?, 1, '2026-11-15 12:00')",
                        (ME, to, request.arg("subject"), request.form.get("body", "")))
        self.db.commit()
        return redirect(self.url("?notice=Message sent"))
