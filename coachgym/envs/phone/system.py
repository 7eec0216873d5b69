"""System UI around the apps: status bar, launcher, navigation bar, keyboard, shade, recents, dialogs.

These are the parts of the screen that belong to the phone rather than to an app. Each function
returns nodes in logical pixels for `Device` to stack; they read state and wire handlers but
must not change anything themselves when called.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from coachgym.envs.phone.host import Dialog, PhoneHost
from coachgym.envs.phone.state import PhoneState
from coachgym.envs.phone.ui import KEYBOARD_TOP, LOGICAL_H, LOGICAL_W, NAV_TOP, STATUS_H, Handler, Node

QUICK_TILES = [("Wi-Fi", "wifi"), ("Bluetooth", "bluetooth"), ("Airplane mode", "airplane_mode"),
               ("Dark mode", "dark_mode"), ("Do not disturb", "do_not_disturb")]
_LETTERS = ["qwertyuiop", "asdfghjkl", "⇧zxcvbnm⌫"]
_SYMBOLS = ["1234567890", "@#$_&-+()/", "=*\"':;!?⌫"]
SUGGESTION = "\x00"  # what a suggestion tap sends, before the word
SWITCH_LAYOUT = "\x01"  # what the ?123 / ABC key sends
SUGGESTIONS = ["I", "the", "Thanks", "yes", "see", "you", "soon", "tonight", "tomorrow", "meeting", "report", "late",
               "love", "please", "call", "back", "birthday", "happy", "sure", "no", "problem", "running", "still"]


def toggler(state: PhoneState, key: str) -> Handler:
    """Flip one boolean setting; shared by the Settings app and the quick tiles."""
    def flip() -> None:
        setattr(state.settings, key, not getattr(state.settings, key))
    return flip


def status_bar(state: PhoneState, color: tuple[int, int, int] | None = None) -> list[Node]:
    """Clock and status icons; `color` overrides the theme's text colour (white on the wallpaper)."""
    s = state.settings
    nodes = [Node("android.widget.TextView", (36, 8, 220, STATUS_H - 8), text=state.time, style="status",
                  color=color)]
    icons = [("Battery", f"{state.battery}%", f"Battery {state.battery} percent")]
    if s.wifi and not s.airplane_mode:
        icons.append(("Wi-Fi", "wifi", "Wi-Fi connected"))
    if s.bluetooth:
        icons.append(("Bluetooth", "bt", "Bluetooth on"))
    if s.airplane_mode:
        icons.append(("Airplane", "plane", "Airplane mode on"))
    if s.do_not_disturb:
        icons.append(("DND", "dnd", "Do not disturb on"))
    right = LOGICAL_W - 36
    for _, glyph, desc in icons:
        width = 130 if glyph.endswith("%") else 64
        nodes.append(Node("android.widget.ImageView", (right - width, 12, right, STATUS_H - 12), desc=desc,
                          sub=glyph, style="status_icon", color=color))
        right -= width + 16
    return nodes


def launcher(device: PhoneHost) -> list[Node]:
    """Home: wallpaper, clock, the app grid (seed order), a search bar and a dock of favourites."""
    state = device.state
    nodes = [
        Node("android.widget.FrameLayout", (0, 0, LOGICAL_W, NAV_TOP), style="wallpaper"),
        Node("android.widget.TextClock", (72, 220, 1008, 420), text=state.time, style="home_clock"),
        Node("android.widget.TextView", (72, 420, 1008, 500), text=_pretty_date(state.date), style="home_date"),
    ]
    for i, name in enumerate(state.launcher):
        col, row = i % 4, i // 4
        x0, y0 = 60 + col * 252, 1040 + row * 300
        nodes.append(Node("android.widget.TextView", (x0, y0, x0 + 204, y0 + 264), text=name, desc=f"Open {name}",
                          style="appicon", on_tap=_launch(device, name)))
    nodes.append(Node("android.widget.TextView", (60, 1700, LOGICAL_W - 60, 1836), hint="Search apps",
                      style="search"))
    nodes.append(Node("android.widget.FrameLayout", (36, 1940, LOGICAL_W - 36, 2220), style="dock"))
    for i, name in enumerate(state.dock):
        x0 = 84 + i * 234
        nodes.append(Node("android.widget.ImageView", (x0, 1970, x0 + 210, 2190), desc=name, style="appicon",
                          on_tap=_launch(device, name)))
    return nodes


def nav_bar(back: Handler, home: Handler, recents: Handler) -> list[Node]:
    nodes = [Node("android.widget.FrameLayout", (0, NAV_TOP, LOGICAL_W, LOGICAL_H), style="navbar")]
    for i, (desc, glyph, handler) in enumerate([("Back", "back", back), ("Home", "home", home),
                                                  ("Overview", "recents", recents)]):
        x0 = 90 + i * 320
        nodes.append(Node("android.widget.ImageButton", (x0, NAV_TOP + 6, x0 + 260, LOGICAL_H - 6), desc=desc,
                          sub=glyph, style="nav", on_tap=handler))
    return nodes


def keyboard(device: PhoneHost) -> list[Node]:
    """The soft keyboard: a suggestion strip over letter (or ?123 symbol) keys; not in the UI tree."""
    nodes = [Node("android.inputmethodservice.KeyboardView", (0, KEYBOARD_TOP, LOGICAL_W, NAV_TOP), style="keyboard")]
    strip = 112
    words = suggestions(device)
    for i, word in enumerate(words):
        x0 = i * LOGICAL_W // len(words)
        nodes.append(Node("android.inputmethodservice.Suggestion", (x0, KEYBOARD_TOP, x0 + LOGICAL_W // len(words),
                          KEYBOARD_TOP + strip), text=word, style="suggestion", listed=False,
                          sub="last" if i == len(words) - 1 else "", on_tap=_key(device.type_key, SUGGESTION + word)))
    key_h = (NAV_TOP - KEYBOARD_TOP - strip) // 4
    rows: list[list[tuple[str, str, int]]] = [[(k, k, 108) for k in row]
                                              for row in (_SYMBOLS if device.symbols else _LETTERS)]
    if not device.symbols:
        rows[2][0] = ("⇧", "⇧", 162)
    rows[2][-1] = ("⌫", "⌫", 162)
    rows.append([("ABC" if device.symbols else "?123", SWITCH_LAYOUT, 162), (",", ",", 108), ("space", " ", 432),
                 (".", ".", 108), ("⏎", "⏎", 216)])
    for r, row in enumerate(rows):
        width = sum(w for _, _, w in row)
        x = (LOGICAL_W - width) // 2
        y = KEYBOARD_TOP + strip + r * key_h
        for label, char, w in row:
            shown = label.upper() if device.shift and label.isalpha() and len(label) == 1 else label
            nodes.append(Node("android.inputmethodservice.Keyboard$Key", (x + 6, y + 10, x + w - 6, y + key_h - 10),
                              text=shown, style="key", checked=device.shift if char == "⇧" else None, listed=False,
                              on_tap=_key(device.type_key, char)))
            x += w
    return nodes


def suggestions(device: PhoneHost) -> list[str]:
    """Three words completing the word being typed (contact first names, then common words)."""
    view = device.view
    typed = view.fields.get(view.focus or "", "") if view is not None else ""
    partial = typed.split(" ")[-1].casefold() if typed and not typed.endswith(" ") else ""
    if not partial:
        return ["I", "the", "Thanks"]
    names = [c.name.split()[0] for c in device.state.contacts]
    words = [w for w in dict.fromkeys(names + SUGGESTIONS)
             if w.casefold().startswith(partial) and w.casefold() != partial]
    return [*words, "I", "the", "Thanks"][:3]


def shade(device: PhoneHost) -> list[Node]:
    state = device.state
    nodes = [Node("android.widget.FrameLayout", (0, 0, LOGICAL_W, NAV_TOP), style="shade"),
             Node("android.widget.TextView", (48, 40, 1032, 160), text=f"{state.time}  {_pretty_date(state.date)}",
                  style="shade_text")]
    for i, (label, key) in enumerate(QUICK_TILES):
        col, row = i % 3, i // 3
        x0, y0 = 36 + col * 340, 200 + row * 200
        nodes.append(Node("android.widget.ToggleButton", (x0, y0, x0 + 320, y0 + 176), text=label,
                          checked=getattr(state.settings, key), style="tile", on_tap=toggler(state, key)))
    y = 640
    nodes.append(Node("android.widget.TextView", (48, y, 700, y + 90), text="Notifications", style="shade_text"))
    y += 100
    for index, note in enumerate(state.notifications[:6]):
        nodes.append(Node("android.widget.LinearLayout", (36, y, LOGICAL_W - 36, y + 200), text=note.title,
                          sub=note.text, desc=note.app, style="card", on_tap=_open_notification(device, index)))
        y += 220
    if state.notifications:
        nodes.append(Node("android.widget.Button", (700, y + 20, LOGICAL_W - 36, y + 140), text="Clear all",
                          style="button2", on_tap=state.notifications.clear))
    else:
        nodes.append(Node("android.widget.TextView", (48, y, 900, y + 90), text="No notifications", style="shade_text"))
    return nodes


def recents(device: PhoneHost) -> list[Node]:
    nodes = [Node("android.widget.FrameLayout", (0, 0, LOGICAL_W, NAV_TOP), style="shade"),
             Node("android.widget.TextView", (48, 120, 900, 220), text="Recent apps", style="shade_text")]
    y = 260
    for name in device.recents[:6]:
        nodes.append(Node("android.widget.LinearLayout", (72, y, LOGICAL_W - 72, y + 240), text=name,
                          style="card", on_tap=_resume(device, name)))
        y += 270
    if device.recents:
        nodes.append(Node("android.widget.Button", (700, y + 20, LOGICAL_W - 72, y + 140), text="Clear all",
                          style="button2", on_tap=_clear_recents(device)))
    else:
        nodes.append(Node("android.widget.TextView", (72, y, 900, y + 90), text="No recent items", style="shade_text"))
    return nodes


def dialog(box: Dialog, dismiss: Handler) -> list[Node]:
    top = 860
    nodes = [Node("android.view.View", (0, 0, LOGICAL_W, LOGICAL_H), desc="Dismiss dialog", style="scrim",
                  on_tap=dismiss),
             Node("android.widget.FrameLayout", (96, top, LOGICAL_W - 96, top + 560), style="dialog"),
             Node("android.widget.TextView", (150, top + 50, LOGICAL_W - 150, top + 150), text=box.title,
                  style="title"),
             Node("android.widget.TextView", (150, top + 170, LOGICAL_W - 150, top + 330), text=box.text, style="body")]
    width = (LOGICAL_W - 300 - 24 * (len(box.choices) - 1)) // len(box.choices)
    for i, (label, handler) in enumerate(box.choices):
        x0 = 150 + i * (width + 24)
        nodes.append(Node("android.widget.Button", (x0, top + 400, x0 + width, top + 520), text=label,
                          style="button" if i == len(box.choices) - 1 else "button2", on_tap=handler))
    return nodes


def _pretty_date(date: str) -> str:
    return dt.date.fromisoformat(date).strftime("%A, %B %-d")


def _launch(device: PhoneHost, name: str) -> Handler:
    return lambda: device.launch(name)


def _resume(device: PhoneHost, name: str) -> Handler:
    return lambda: device.resume(name)


def _key(type_key: Callable[[str], None], char: str) -> Handler:
    return lambda: type_key(char)


def _clear_recents(device: PhoneHost) -> Handler:
    def clear() -> None:
        device.recents.clear()
        device.saved.clear()
        device.overlay = None
    return clear


def _open_notification(device: PhoneHost, index: int) -> Handler:
    def open_it() -> None:
        note = device.state.notifications.pop(index)
        if note.thread:
            device.launch("Messages", page="thread", arg=note.thread)
        else:
            device.launch(note.app)
    return open_it
