"""What every phone app has in common: a name, pages built into a `Layout`, and form helpers.

An app is a set of pages (`page_<name>` methods) that describe one screen each from `PhoneState`
and wire handlers that change it. Apps reach the rest of the phone only through `host.PhoneHost`,
the device's small API (push/pop/launch/say/ask). They must not draw, hit-test, or read the agent's actions.
"""

from __future__ import annotations

from typing import Any, ClassVar

from coachgym.envs.phone.host import PhoneHost
from coachgym.envs.phone.state import PhoneState
from coachgym.envs.phone.ui import Handler
from coachgym.envs.phone.widgets import FIELD_H, Layout, View


def fields(*pairs: tuple[str, str]) -> list[tuple[str, str, int]]:
    """Single-line form fields from (key, hint) pairs."""
    return [(key, hint, FIELD_H) for key, hint in pairs]


class App:
    name: ClassVar[str]

    @property
    def package(self) -> str:
        """The Android package name its UI elements report (`com.coachgym.<app>`)."""
        return f"com.coachgym.{self.name.casefold()}"

    def __init__(self, device: PhoneHost):
        self.device = device

    @property
    def state(self) -> PhoneState:
        return self.device.state

    def build(self, ui: Layout, view: View) -> None:
        getattr(self, f"page_{view.page}")(ui, view)

    def title(self, view: View) -> str:
        return view.arg or self.name

    def up(self) -> Handler | None:
        """The app bar's back arrow: only below the app's first page."""
        return self.device.pop if len(self.device.stack) > 1 else None

    def go(self, page: str, arg: str = "", fields: dict[str, str] | None = None) -> Handler:
        return lambda: self.device.push(page, arg, fields)

    def confirm(self, title: str, text: str, action: str, handler: Handler) -> Handler:
        """A handler that asks first; `handler` runs only on the confirming button."""
        return lambda: self.device.ask(title, text, [("Cancel", lambda: None), (action, handler)])

    def form(self, ui: Layout, view: View, noun: str, fields: list[tuple[str, str, int]], save: Handler,
             extra: list[tuple[str, Handler]] | None = None) -> None:
        """A new/edit page: app bar, one text field per (key, hint, height), then the buttons."""
        ui.appbar(f"Edit {noun}" if view.arg else f"New {noun}", self.up())
        for key, hint, height in fields:
            ui.field(key, hint, height=height)
        ui.buttons([*(extra or []), ("Save", save)])

    def remover(self, items: list[Any], item: Any, message: str) -> Handler:
        """Delete `item` from the state list `items`, then close its detail page."""
        def remove() -> None:
            items.remove(item)
            self.finish(message)
        return remove

    def required(self, view: View, *keys: str) -> dict[str, str] | None:
        """The form's stripped values, or None (with a toast naming the first empty field)."""
        values = {k: view.fields.get(k, "").strip() for k in {*view.fields, *keys}}
        missing = next((k for k in keys if not values[k]), None)
        if missing is not None:
            self.device.say(f"{missing.replace('_', ' ').capitalize()} is required")
            return None
        return values

    def finish(self, message: str) -> None:
        """Close the current page and confirm with a toast."""
        self.device.pop()
        self.device.say(message)
