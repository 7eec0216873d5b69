"""Calendar: an agenda of events (long-press to delete), event details (edit, delete) and a validated event form."""

from __future__ import annotations

import datetime as dt
import re

from coachgym.envs.phone.apps.base import App, fields
from coachgym.envs.phone.state import Event
from coachgym.envs.phone.ui import Handler
from coachgym.envs.phone.widgets import Layout, View


def pretty(event: Event) -> str:
    day = dt.date.fromisoformat(event.date).strftime("%a, %b %-d")
    return f"{day} · {event.time}" + (f" · {event.location}" if event.location else "")


class CalendarApp(App):
    name = "Calendar"

    def page_main(self, ui: Layout, view: View) -> None:
        ui.appbar("Calendar", None, [("+", "New event", self.go("edit"))])
        events = sorted(self.state.events, key=lambda e: (e.when, e.title))
        ui.rows(events, lambda e: ui.row(e.title, pretty(e), self.go("detail", self._key(e)), self.confirm(
            "Delete event?", f"“{e.title}” will be removed.", "Delete", self._delete(e))))

    def page_detail(self, ui: Layout, view: View) -> None:
        event = self._event(view.arg)
        if event is None:
            ui.appbar("Event", self.up())
            ui.text("This event no longer exists.")
            return
        fields = {"title": event.title, "date": event.date, "time": event.time, "location": event.location}
        ui.appbar(event.title, self.up(), [("✎", "Edit event", self.go("edit", view.arg, fields))])
        ui.text(dt.date.fromisoformat(event.date).strftime("%A, %B %-d, %Y"))
        ui.text(f"Time: {event.time}")
        ui.text(f"Location: {event.location or 'none'}")
        ui.buttons([("Delete", self.confirm("Delete event?", f"“{event.title}” will be removed.", "Delete",
                                            self.remover(self.state.events, event, "Event deleted")))])

    def page_edit(self, ui: Layout, view: View) -> None:
        self.form(ui, view, "event", fields(("title", "Title"), ("date", "Date (YYYY-MM-DD)"),
                                            ("time", "Time (HH:MM)"), ("location", "Location")),
                  lambda: self._save(view))

    def title(self, view: View) -> str:
        if view.page == "detail":
            event = self._event(view.arg)
            return event.title if event else "Event"
        return {"main": "Calendar", "edit": "Edit event" if view.arg else "New event"}[view.page]

    def _delete(self, event: Event) -> Handler:
        def delete() -> None:
            self.state.events.remove(event)
            self.device.say("Event deleted")
        return delete

    @staticmethod
    def _key(event: Event) -> str:
        return f"{event.when} {event.title}"

    def _event(self, key: str) -> Event | None:
        return next((e for e in self.state.events if self._key(e) == key), None)

    def _save(self, view: View) -> None:
        values = self.required(view, "title", "date", "time")
        if values is None:
            return
        try:
            dt.date.fromisoformat(values["date"])
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", values["time"]):
                raise ValueError
        except ValueError:
            self.device.say("Use a date like 2026-11-30 and a time like 14:30")
            return
        event = Event(title=values["title"], date=values["date"], time=values["time"],
                      location=values.get("location", ""))
        original = self._event(view.arg)
        if original is not None:
            self.state.events.remove(original)
        self.state.events.append(event)
        self.finish("Event saved")
        if original is not None and self.device.view is not None and self.device.view.page == "detail":
            self.device.view.arg = self._key(event)
