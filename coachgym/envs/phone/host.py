"""What apps and system screens may use of the phone: the `PhoneHost` protocol and its `Dialog`.

`Device` builds the apps and the system screens, so they cannot import it back; they are typed
against this small API instead (back stack, toasts, dialogs, launching apps), which `Device`
implements. This module must not hold behaviour.
"""

from __future__ import annotations

from typing import Protocol

from coachgym.envs.phone.state import PhoneState
from coachgym.envs.phone.ui import Handler
from coachgym.envs.phone.widgets import View


class Dialog:
    """A modal question with buttons; `choices` are (label, handler) pairs."""

    def __init__(self, title: str, text: str, choices: list[tuple[str, Handler]]):
        self.title, self.text, self.choices = title, text, choices


class PhoneHost(Protocol):
    """The phone as its apps and system screens see it (implemented by `device.Device`)."""

    state: PhoneState
    stack: list[View]
    saved: dict[str, list[View]]
    recents: list[str]
    overlay: str | None

    @property
    def view(self) -> View | None:
        """The page on top of the current app's back stack."""

    def push(self, page: str, arg: str = "", fields: dict[str, str] | None = None) -> None:
        """Open a page of the current app on top of the back stack."""

    def pop(self) -> None:
        """Close the top page."""

    def say(self, message: str) -> None:
        """Show a toast."""

    def ask(self, title: str, text: str, choices: list[tuple[str, Handler]]) -> None:
        """Show a `Dialog`; choosing closes it and runs the choice's handler."""

    def launch(self, name: str, page: str = "main", arg: str = "") -> None:
        """Open an app (fresh back stack) at `page`."""

    def resume(self, name: str) -> None:
        """Bring a recent app back with its saved back stack."""
