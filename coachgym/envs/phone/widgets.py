"""`Layout`: the small widget toolkit apps use to lay out one screen of nodes.

Apps describe *what* is on a page (a row, a switch, a text field); `Layout` decides *where*
(logical pixels, top to bottom) and which part of a long list is visible, so every app looks
and scrolls the same way. It must not keep state between screens: scroll offsets and typed text
live in the `View` it is given, and handlers are closures the app passes in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from pydantic import BaseModel

from coachgym.envs.phone.ui import APPBAR_BOTTOM, LOGICAL_W, ROW_H, STATUS_H, Handler, Node, SliderHandler

T = TypeVar("T")
MARGIN = 48
FIELD_H = 150
BUTTON_H = 132


class View(BaseModel):
    """One page of an app on the back stack, with its unsaved UI state."""

    app: str
    page: str = "main"
    arg: str = ""
    fields: dict[str, str] = {}
    focus: str | None = None
    scroll: int = 0
    max_scroll: int = 0


class Layout:
    """Stacks widgets downward from the app bar; `bottom` shrinks when the keyboard is up."""

    def __init__(self, view: View, bottom: int):
        self.view = view
        self.nodes: list[Node] = []
        self.y = APPBAR_BOTTOM
        self.bottom = bottom

    def add(self, node: Node) -> Node:
        """Keep `node` unless it falls below the visible area (under the keyboard or nav bar):
        like an Android view clipped off-screen, it is then neither drawn nor in the UI tree."""
        if node.bounds[3] <= self.bottom:
            self.nodes.append(node)
        return node

    def _take(self, height: int) -> tuple[int, int]:
        top = self.y
        self.y += height
        return top, self.y

    # ----------------------------------------------------------------- chrome
    def appbar(self, title: str, back: Handler | None, actions: Sequence[tuple[str, str, Handler]] = ()) -> None:
        """Title bar; `actions` are (glyph, content description, handler) icon buttons on the right."""
        self.add(Node("android.widget.FrameLayout", (0, STATUS_H, LOGICAL_W, APPBAR_BOTTOM), style="appbar"))
        left = MARGIN
        if back is not None:
            self.add(Node("android.widget.ImageButton", (12, STATUS_H + 24, 132, STATUS_H + 144), desc="Navigate up",
                          style="icon", sub="←", on_tap=back))
            left = 156
        right = LOGICAL_W - 12
        for glyph, desc, handler in reversed(actions):
            width = 120 if len(glyph) <= 2 else 60 + 30 * len(glyph)
            self.add(Node("android.widget.Button" if len(glyph) > 2 else "android.widget.ImageButton",
                          (right - width, STATUS_H + 24, right, STATUS_H + 144), desc=desc,
                          text=glyph if len(glyph) > 2 else "", sub=glyph, style="icon", on_tap=handler))
            right -= width + 8
        self.add(Node("android.widget.TextView", (left, STATUS_H + 30, right, STATUS_H + 138), text=title,
                      style="title"))

    # ----------------------------------------------------------------- content
    def text(self, text: str, style: str = "body", height: int = 96) -> Node:
        top, bottom = self._take(height)
        return self.add(Node("android.widget.TextView", (MARGIN, top, LOGICAL_W - MARGIN, bottom), text=text,
                             style=style))

    def row(self, text: str, sub: str = "", on_tap: Handler | None = None, on_long: Handler | None = None,
            desc: str = "", image: str = "") -> Node:
        """A list row; `image` ("avatar:<name>", "product:<id>:<category>") is drawn at its start."""
        top, bottom = self._take(ROW_H)
        return self.add(Node("android.widget.LinearLayout", (0, top, LOGICAL_W, bottom), text=text, sub=sub,
                             desc=desc, style="row", on_tap=on_tap, on_long=on_long, image=image))

    def picture(self, image: str, desc: str, height: int = 320) -> Node:
        """A large picture (an ImageView with a content description, as accessible apps give them)."""
        top, bottom = self._take(height + 24)
        side = height
        x0 = (LOGICAL_W - side) // 2
        return self.add(Node("android.widget.ImageView", (x0, top + 12, x0 + side, top + 12 + side), desc=desc,
                             style="picture", image=image))

    def rows(self, items: Sequence[T], make: Callable[[T], object], reserve: int = 0) -> None:
        """A scrollable list: only the rows that fit are built (as on Android, off-screen rows are
        not in the UI tree); `view.scroll` is the first visible item."""
        fits = max(1, (self.bottom - reserve - self.y) // ROW_H)
        self.view.max_scroll = max(0, len(items) - fits)
        self.view.scroll = min(self.view.scroll, self.view.max_scroll)
        if items:  # the RecyclerView itself: listed (as AndroidWorld lists scrollable containers), never drawn
            shown = min(fits, len(items) - self.view.scroll)
            self.add(Node("androidx.recyclerview.widget.RecyclerView", (0, self.y, LOGICAL_W, self.y + shown * ROW_H),
                          style="list", scrollable=self.view.max_scroll > 0))
        for item in items[self.view.scroll : self.view.scroll + fits]:
            make(item)
        if not items:
            self.text("Nothing here yet", style="hint")

    def field(self, key: str, hint: str, submit: Handler | None = None, height: int = FIELD_H) -> Node:
        top, bottom = self._take(height + 24)
        value = self.view.fields.get(key, "")
        return self.add(Node("android.widget.EditText", (MARGIN, top + 12, LOGICAL_W - MARGIN, bottom - 12),
                             text=value, hint=hint, style="field", field=key, focused=self.view.focus == key,
                             on_submit=submit))

    def switch(self, label: str, checked: bool, toggle: Handler, sub: str = "") -> Node:
        top, bottom = self._take(ROW_H)
        return self.add(Node("android.widget.Switch", (0, top, LOGICAL_W, bottom), text=label, sub=sub,
                             checked=checked, style="switch", on_tap=toggle))

    def checkbox(self, label: str, checked: bool, toggle: Handler) -> Node:
        top, bottom = self._take(ROW_H - 24)
        return self.add(Node("android.widget.CheckBox", (MARGIN, top, LOGICAL_W - MARGIN, bottom), text=label,
                             checked=checked, style="checkbox", on_tap=toggle))

    def slider(self, label: str, value: int, slide: SliderHandler) -> Node:
        self.text(f"{label}: {value}%", style="body", height=84)
        top, bottom = self._take(120)
        return self.add(Node("android.widget.SeekBar", (MARGIN, top, LOGICAL_W - MARGIN, bottom), desc=label,
                             value=value / 100, style="slider", on_slide=slide))

    def buttons(self, items: Sequence[tuple[str, Handler]], primary: bool = True) -> list[Node]:
        """Equal-width buttons side by side."""
        top, bottom = self._take(BUTTON_H + 36)
        width = (LOGICAL_W - 2 * MARGIN - 24 * (len(items) - 1)) // len(items)
        nodes = []
        for i, (label, handler) in enumerate(items):
            x0 = MARGIN + i * (width + 24)
            nodes.append(self.add(Node("android.widget.Button", (x0, top + 18, x0 + width, bottom - 18), text=label,
                                       style="button" if primary else "button2", on_tap=handler)))
        return nodes

    def chips(self, options: Sequence[str], selected: str, choose: Callable[[str], Handler]) -> None:
        """Single-choice chips that wrap onto new lines."""
        x, top = MARGIN, self.y + 12
        for option in options:
            width = 72 + 26 * len(option)
            if x + width > LOGICAL_W - MARGIN:
                x, top = MARGIN, top + 120
            self.add(Node("android.widget.RadioButton", (x, top, x + width, top + 96), text=option,
                          checked=option == selected, style="chip", on_tap=choose(option)))
            x += width + 20
        self.y = top + 120

    def compose(self, key: str, hint: str, send: Handler) -> None:
        """A text box pinned to the bottom of the content with a send button beside it."""
        top = self.bottom - FIELD_H - 24
        self.add(Node("android.widget.EditText", (MARGIN, top, 840, top + FIELD_H), text=self.view.fields.get(key, ""),
                      hint=hint, style="field", field=key, focused=self.view.focus == key, on_submit=send))
        self.add(Node("android.widget.ImageButton", (864, top, LOGICAL_W - MARGIN, top + FIELD_H), desc="Send",
                      sub="➤", style="icon_filled", on_tap=send))
        self.bottom = top - 12

    def bubble(self, text: str, outgoing: bool, time: str) -> None:
        top, bottom = self._take(bubble_height(text))
        x0, x1 = (300, LOGICAL_W - MARGIN) if outgoing else (MARGIN, LOGICAL_W - 300)
        self.add(Node("android.widget.TextView", (x0, top + 12, x1, bottom - 12), text=text, sub=time,
                      style="bubble_out" if outgoing else "bubble_in"))


def bubble_height(text: str) -> int:
    """Logical height of a chat bubble; apps use it to fit the latest messages above the composer."""
    return 60 * max(1, -(-len(text) // 30)) + 84
