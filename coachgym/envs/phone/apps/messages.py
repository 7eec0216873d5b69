"""Messages (SMS): conversation list, new-conversation picker and a thread with a composer."""

from __future__ import annotations

from coachgym.envs.phone.apps.base import App
from coachgym.envs.phone.state import Message
from coachgym.envs.phone.ui import Handler
from coachgym.envs.phone.widgets import Layout, View, bubble_height


class MessagesApp(App):
    name = "Messages"

    def page_main(self, ui: Layout, view: View) -> None:
        ui.appbar("Messages", None, [("+", "Start chat", self.go("new"))])

        def row(thread: str) -> None:
            last = self.state.thread(thread)[-1]
            preview = ("You: " if last.outgoing else "") + last.body
            ui.row(thread, preview, self.go("thread", thread), self.confirm(
                "Delete conversation?", f"All messages with {thread} will be deleted.", "Delete", self._delete(thread)),
                image=f"avatar:{thread}")

        ui.rows(self.state.threads(), row)

    def page_new(self, ui: Layout, view: View) -> None:
        ui.appbar("New conversation", self.up())
        ui.field("to", "To: name or number", submit=lambda: self._start(view.fields.get("to", "")))
        query = view.fields.get("to", "").strip().casefold()
        matches = [c for c in sorted(self.state.contacts, key=lambda c: c.name) if query in c.name.casefold()]
        ui.rows(matches, lambda c: ui.row(c.name, c.phone, self._opener(c.name), image=f"avatar:{c.name}"))

    def page_thread(self, ui: Layout, view: View) -> None:
        contact = self.state.contact(view.arg)
        ui.appbar(view.arg, self.up(), [])
        if contact is not None:
            ui.text(contact.phone, style="caption", height=72)
        ui.compose("body", "Text message", lambda: self._send(view))
        room, shown = ui.bottom - ui.y, []
        for message in reversed(self.state.thread(view.arg)):
            room -= bubble_height(message.body)
            if room < 0:
                break
            shown.append(message)
        for message in reversed(shown):
            ui.bubble(message.body, message.outgoing, message.time.split(" ")[1])

    def title(self, view: View) -> str:
        return {"main": "Messages", "new": "New conversation"}.get(view.page, view.arg)

    def _opener(self, thread: str) -> Handler:
        return lambda: self._start(thread)

    def _start(self, who: str) -> None:
        who = who.strip()
        if not who:
            self.device.say("Enter a name or number")
            return
        contact = self.state.contact(who)
        self.device.pop()
        self.device.push("thread", contact.name if contact else who)

    def _send(self, view: View) -> None:
        body = view.fields.get("body", "").strip()
        if not body:
            self.device.say("Type a message first")
            return
        self.state.messages.append(Message(contact=view.arg, body=body, outgoing=True, time=self.state.clock))
        view.fields["body"] = ""
        self.device.say("Message sent")

    def _delete(self, thread: str) -> Handler:
        def delete() -> None:
            self.state.messages[:] = [m for m in self.state.messages if m.contact != thread]
            self.device.say("Conversation deleted")
        return delete
