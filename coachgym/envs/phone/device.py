"""The simulated phone: back stacks, overlays, focus, and the gestures an agent performs.

`Device` is the Android framework of this emulator. It owns what is on screen (app back stacks,
the notification shade, recent apps, dialogs, the soft keyboard) and turns gestures (tap,
long-press, typing, scroll/swipe, back/home) into calls on the handlers the current screen's
nodes carry. Apps change `state` only through those handlers. Gestures that make no sense in the
current state raise `ActionError` with the reason, so the env reports it instead of crashing.
This module must not draw pixels or decide task success.
"""

from __future__ import annotations

from typing import Any

from coachgym.envs.actions import ActionError
from coachgym.envs.phone import system
from coachgym.envs.phone.apps import APP_TYPES, App
from coachgym.envs.phone.host import Dialog
from coachgym.envs.phone.state import PhoneState
from coachgym.envs.phone.ui import KEYBOARD_TOP, NAV_TOP, STATUS_H, Handler, Node, Scale, Screen
from coachgym.envs.phone.widgets import Layout, View

ALIASES = {"sms": "Messages", "text": "Messages", "phonebook": "Contacts", "people": "Contacts",
           "shopping": "Shop", "store": "Shop", "notepad": "Notes", "keep": "Notes", "agenda": "Calendar"}

SCROLL_ROWS = 5
SYSTEM_PACKAGE = "com.android.systemui"
LAUNCHER_PACKAGE = "com.android.launcher3"
HOME_STYLES = {"bg", "wallpaper", "home_clock", "home_date", "appicon", "dock", "search"}


class Device:
    """One phone (the `host.PhoneHost` its apps and system screens use). `screen()` is rebuilt
    lazily after every change, and is what is drawn and hit."""

    def __init__(self, state: PhoneState):
        self.state = state
        self.apps: dict[str, App] = {name: cls(self) for name, cls in APP_TYPES.items()}
        self.stack: list[View] = []
        self.saved: dict[str, list[View]] = {}
        self.recents: list[str] = []
        self.overlay: str | None = None
        self.dialog: Dialog | None = None
        self.toast = ""
        self.touches: list[tuple[float, float]] = []  # this step's touches, as fractions of the screen
        self.shift = False
        self.symbols = False
        self._screen: Screen | None = None

    # ----------------------------------------------------------------- what apps call
    @property
    def view(self) -> View | None:
        return self.stack[-1] if self.stack else None

    def push(self, page: str, arg: str = "", fields: dict[str, str] | None = None) -> None:
        """Open a page of the current app on top of the back stack."""
        assert self.view is not None, "push() needs an open app"
        self.stack.append(View(app=self.view.app, page=page, arg=arg, fields=dict(fields or {})))
        self.state.opened.append(f"{self.view.app}/{page}/{arg}")

    def pop(self) -> None:
        self.stack.pop()

    def say(self, message: str) -> None:
        """A toast: shown once at the bottom of the next screen and in the observation text."""
        self.toast = message

    def ask(self, title: str, text: str, choices: list[tuple[str, Handler]]) -> None:
        def closing(handler: Handler) -> Handler:
            def run() -> None:
                self.dialog = None
                handler()
            return run

        self.dialog = Dialog(title, text, [(label, closing(h)) for label, h in choices])

    def launch(self, name: str, page: str = "main", arg: str = "") -> None:
        """Start `name` fresh at `page` (what a launcher icon or a notification does)."""
        self._leave()
        self.saved.pop(name, None)
        self.stack = [View(app=name, page="main")]
        self.state.opened.append(f"{name}/main/")
        if page != "main":
            self.stack.append(View(app=name, page=page, arg=arg))
            self.state.opened.append(f"{name}/{page}/{arg}")
        self.recents = [name] + [r for r in self.recents if r != name]

    def resume(self, name: str) -> None:
        """Bring back an app exactly as it was left (what the recent-apps screen does)."""
        self._leave()
        stack = self.saved.pop(name, None)
        if stack is None:
            self.launch(name)
            return
        self.stack = stack
        self.recents = [name] + [r for r in self.recents if r != name]

    def _leave(self) -> None:
        self.overlay, self.dialog = None, None
        if self.stack:
            for view in self.stack:
                view.focus = None
            self.saved[self.stack[0].app] = self.stack
        self.stack = []

    # ----------------------------------------------------------------- the screen
    @property
    def keyboard_open(self) -> bool:
        return self.view is not None and self.view.focus is not None and not self.overlay and not self.dialog

    def screen(self) -> Screen:
        if self._screen is None:
            self._screen = self._build()
        return self._screen

    def changed(self) -> None:
        self._screen = None

    def _build(self) -> Screen:
        nodes = [Node("android.widget.FrameLayout", (0, 0, 1080, 2400), style="bg")]
        on_wallpaper = self.view is None and self.overlay is None
        nodes += system.status_bar(self.state, (255, 255, 255) if on_wallpaper else None)
        view = self.view
        if view is None:
            title = "Home screen"
            nodes += system.launcher(self)
        else:
            app = self.apps[view.app]
            layout = Layout(view, KEYBOARD_TOP if self.keyboard_open else NAV_TOP)
            app.build(layout, view)
            title = view.app if view.page == "main" else f"{view.app} › {app.title(view)}"
            for node in layout.nodes:
                node.package = app.package
            nodes += layout.nodes
            if self.keyboard_open:
                nodes += system.keyboard(self)
        modal_from = None
        if self.overlay == "shade":
            modal_from, title = len(nodes), "Notification shade"
            nodes += system.shade(self)
        elif self.overlay == "recents":
            modal_from, title = len(nodes), "Recent apps"
            nodes += system.recents(self)
        nodes += system.nav_bar(self.back, self.home, self.show_recents)
        if self.toast:
            nodes.append(Node("android.widget.Toast", (140, NAV_TOP - 220, 940, NAV_TOP - 100), text=self.toast,
                              style="toast"))
        if self.dialog is not None:
            modal_from, title = len(nodes), f"Dialog: {self.dialog.title}"
            nodes += system.dialog(self.dialog, self._dismiss)
        for node in nodes:
            node.package = node.package or (LAUNCHER_PACKAGE if view is None and node.style in HOME_STYLES
                                            else SYSTEM_PACKAGE)
        return Screen(title=title, nodes=nodes, modal_from=modal_from)

    def _dismiss(self) -> None:
        self.dialog = None

    # ----------------------------------------------------------------- gestures
    def tap(self, node: Node, fraction: float = 0.5) -> str:
        if node.field is not None:
            assert self.view is not None
            self.view.focus = node.field
            return f"Focused the text field {node.hint or node.text!r}; the keyboard is open."
        if node.on_slide is not None:
            node.on_slide(fraction)
            return f"Set {node.desc} to {round(fraction * 100)}%."
        if node.on_tap is None:
            return "Tapped a non-interactive element; nothing happened."
        node.on_tap()
        return f"Tapped {_label(node)}."

    def press_at(self, scale: Scale, verb: str, x: float, y: float) -> str | None:
        """Click, double_tap or long_press at (x, y) in `scale`'s pixels, as both action dialects
        touch the screen; None when nothing interactive is there (each dialect words that itself)."""
        self.touches.append((x / scale.width, y / scale.height))
        node = self.hit(scale, x, y)
        if node is None:
            return None
        if verb == "long_press":
            return self.long_press(node)
        feedback = self.tap(node, scale.to_logical_x(x, node.bounds))
        if verb == "double_tap":
            self.changed()
            node = self.hit(scale, x, y)
            feedback += " " + (self.tap(node, scale.to_logical_x(x, node.bounds)) if node
                               else "The second tap hit nothing.")
        return feedback

    def long_press(self, node: Node) -> str:
        if node.on_long is None:
            return f"Long-pressed {_label(node)}; it has no long-press action."
        node.on_long()
        return f"Long-pressed {_label(node)}."

    def type_text(self, text: str, node: Node | None, clear: bool) -> str:
        if node is not None:
            if node.field is None:
                raise ActionError(f"Element {_label(node)} is not a text field; pick an element marked 'editable'.")
            self.tap(node)
        view = self.view
        if view is None or view.focus is None or self.overlay or self.dialog:
            raise ActionError("No text field has focus. Give the index of an 'editable' element, or tap one first.")
        view.fields[view.focus] = text if clear else view.fields.get(view.focus, "") + text
        return f"Typed {text!r}."

    def type_key(self, key: str) -> None:
        view = self.view
        if view is None or view.focus is None:
            return
        current = view.fields.get(view.focus, "")
        if key.startswith(system.SUGGESTION):  # a suggestion replaces the word being typed
            words = current.split(" ")
            view.fields[view.focus] = " ".join([*words[:-1], key[len(system.SUGGESTION):]]) + " "
        elif key == system.SWITCH_LAYOUT:
            self.symbols = not self.symbols
            return
        elif key == "⌫":
            view.fields[view.focus] = current[:-1]
        elif key == "⇧":
            self.shift = not self.shift
            return
        elif key == "⏎":
            self.enter()
        else:
            view.fields[view.focus] = current + (key.upper() if self.shift else key)
        self.shift = False

    def enter(self) -> str:
        view = self.view
        if view is None or view.focus is None or self.overlay or self.dialog:
            return "Pressed Enter; no text field has focus, so nothing happened."
        focused = next((n for n in self.screen().nodes if n.field == view.focus), None)
        if focused is not None and focused.on_submit is not None:
            view.focus = None
            focused.on_submit()
            return "Pressed Enter; the field was submitted."
        return "Pressed Enter."

    def scroll(self, direction: str) -> str:
        view = self.view
        if self.overlay or self.dialog or view is None or direction in ("left", "right") or view.max_scroll == 0:
            return f"Scrolled {direction}; nothing on this screen moves that way."
        before = view.scroll
        step = SCROLL_ROWS if direction == "down" else -SCROLL_ROWS
        view.scroll = max(0, min(view.max_scroll, view.scroll + step))
        if view.scroll == before:
            return f"Scrolled {direction}; already at the {'end' if direction == 'down' else 'top'} of the list."
        return f"Scrolled {direction}."

    def swipe(self, direction: str, start_y_logical: float | None) -> str:
        """A finger swipe; from the status bar downward it opens the notification shade."""
        if direction == "down" and start_y_logical is not None and start_y_logical < STATUS_H:
            self.overlay, self.dialog = "shade", None
            return "Opened the notification shade."
        if self.overlay == "shade" and direction == "up":
            self.overlay = None
            return "Closed the notification shade."
        opposite = {"up": "down", "down": "up", "left": "right", "right": "left"}[direction]
        return self.scroll(opposite)

    def back(self) -> str:
        if self.dialog is not None:
            self.dialog = None
            return "Closed the dialog."
        if self.overlay is not None:
            self.overlay = None
            return "Closed the overlay."
        view = self.view
        if view is None:
            return "Already on the home screen."
        if view.focus is not None:
            view.focus = None
            return "Hid the keyboard."
        self.stack.pop()
        if not self.stack:
            return "Left the app; now on the home screen."
        return "Went back."

    def home(self) -> str:
        self._leave()
        return "Went to the home screen."

    def show_recents(self) -> None:
        self.dialog = None
        self.overlay = "recents"

    def open_app(self, name: str) -> str:
        wanted = ALIASES.get(name.strip().casefold(), name.strip())
        match = next((a for a in self.apps if a.casefold() == wanted.casefold()), None)
        if match is None:
            raise ActionError(f"No app named {name!r} is installed. Installed apps: {', '.join(self.apps)}.")
        self.launch(match)
        return f"Opened {match}."

    def snapshot(self) -> dict[str, Any]:
        """Everything that defines the world and the UI, for determinism checks."""
        return {
            "state": self.state.model_dump(),
            "stack": [v.model_dump() for v in self.stack],
            "saved": {k: [v.model_dump() for v in s] for k, s in self.saved.items()},
            "recents": self.recents, "overlay": self.overlay, "toast": self.toast, "shift": self.shift,
            "symbols": self.symbols,
            "dialog": None if self.dialog is None else [self.dialog.title, [c[0] for c in self.dialog.choices]],
        }

    def hit(self, scale: Scale, x: float, y: float) -> Node | None:
        return self.screen().hit(scale, x, y)


def _label(node: Node) -> str:
    name = node.text or node.desc or node.cls.rsplit(".", 1)[-1]
    return repr(name[:60])
