"""The phone's layout tree: what is drawn, what is tapped and what the agent reads are one list.

A screen is a flat, z-ordered list of `Node`s in logical phone pixels (1080x2400). The renderer
draws them, `Screen.hit` finds the topmost node under a tap, and `Screen.describe` writes the
AndroidWorld-style `ui_elements` text; all three map logical bounds to screenshot pixels through
the same `Scale.rect`, so a tap on any drawn pixel of an element reaches exactly that element.
This module knows nothing about apps or state; it must not draw or mutate anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LOGICAL_W, LOGICAL_H = 1080, 2400
STATUS_H = 84
APPBAR_BOTTOM = 252
NAV_TOP = 2268
KEYBOARD_TOP = 1428
ROW_H = 168

Handler = Callable[[], Any]
SliderHandler = Callable[[float], Any]


@dataclass
class Node:
    """One drawn element. Handlers are closures over app state, built fresh for every screen."""

    cls: str
    bounds: tuple[int, int, int, int]
    text: str = ""
    desc: str = ""
    style: str = "text"
    sub: str = ""
    on_tap: Handler | None = None
    on_long: Handler | None = None
    on_slide: SliderHandler | None = None
    on_submit: Handler | None = None
    field: str | None = None
    checked: bool | None = None
    focused: bool = False
    value: float | None = None
    color: tuple[int, int, int] | None = None
    listed: bool = True  # False for keyboard keys: the IME is not part of the app's UI tree
    hint: str = ""  # an EditText's placeholder (AndroidWorld's `hint_text`)
    scrollable: bool = False  # a list that can move (AndroidWorld's `is_scrollable`)
    package: str = ""  # the app (or system UI) the node belongs to; `Device` fills it in
    image: str = ""  # what a picture shows ("avatar:Alice Chen", "product:w1", "app:Shop"); drawn, never listed

    @property
    def clickable(self) -> bool:
        return self.on_tap is not None or self.on_slide is not None or self.field is not None

    @property
    def editable(self) -> bool:
        return self.field is not None


@dataclass(frozen=True)
class Scale:
    """Maps logical phone pixels to screenshot pixels; the single rounding rule for draw and hit."""

    width: int
    height: int

    @classmethod
    def for_height(cls, height: int) -> Scale:
        return cls(width=round(height * LOGICAL_W / LOGICAL_H), height=height)

    @property
    def factor(self) -> float:
        return self.width / LOGICAL_W

    def rect(self, bounds: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """Half-open screenshot-pixel box [x0, x1) x [y0, y1) covered by `bounds`."""
        sx, sy = self.width / LOGICAL_W, self.height / LOGICAL_H
        x0, y0, x1, y1 = bounds
        return round(x0 * sx), round(y0 * sy), round(x1 * sx), round(y1 * sy)

    def to_logical_x(self, x: float, bounds: tuple[int, int, int, int]) -> float:
        """Fraction (0..1) of the way across `bounds` that screenshot column `x` lies."""
        x0, _, x1, _ = self.rect(bounds)
        return min(1.0, max(0.0, (x + 0.5 - x0) / max(1, x1 - x0)))


@dataclass
class Screen:
    """A built screen: nodes bottom-to-top, plus a breadcrumb title for the text observation."""

    title: str
    nodes: list[Node] = field(default_factory=list)
    modal_from: int | None = None
    _described: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)  # a screen never changes

    def elements(self) -> list[Node]:
        """Nodes in the agent's `ui_elements` order (their index is what `click(index)` uses)."""
        return [n for n in self.nodes[self.modal_from or 0 :]
                if n.listed and (n.text or n.desc or n.hint or n.clickable or n.scrollable)]

    def hit(self, scale: Scale, x: float, y: float) -> Node | None:
        """Topmost interactive node whose drawn box contains screenshot pixel (x, y)."""
        first = self.modal_from or 0
        for node in reversed(self.nodes[first:]):
            if not node.clickable:
                continue
            x0, y0, x1, y1 = scale.rect(node.bounds)
            if x0 <= x < x1 and y0 <= y < y1:
                return node
        return None

    def describe(self, scale: Scale, units: str = "pixels") -> list[dict[str, Any]]:
        """AndroidWorld `UIElement` fields for every listed node, plus `index` and `bounds`.

        `bbox_pixels` is in device pixels (the 1080x2400 phone) and `bbox` is that box divided by
        the screen size, as AndroidWorld's `representation_utils` writes them (x_min, x_max, y_min,
        y_max); empty strings are None, as there. `bounds` is [x0, y0, x1, y1] in the unit the
        env's actions use: screenshot pixels, 0-999 `normalized`, or `device` pixels."""
        if units in self._described:
            return [dict(e) for e in self._described[units]]
        out = self._described[units] = []
        for index, node in enumerate(self.elements()):
            x0, y0, x1, y1 = node.bounds if units == "device" else scale.rect(node.bounds)
            if units == "normalized":
                x0, x1 = (v * 1000 // scale.width for v in (x0, x1))
                y0, y1 = (v * 1000 // scale.height for v in (y0, y1))
            out.append({"index": index, "bounds": [x0, y0, x1, y1], **ui_element(node)})
        return [dict(e) for e in out]


def ui_element(node: Node) -> dict[str, Any]:
    """One node as AndroidWorld's `UIElement` (as a dict, with `bbox`es as dicts)."""
    x0, y0, x1, y1 = node.bounds
    pixels = {"x_min": x0, "x_max": x1, "y_min": y0, "y_max": y1}
    return {
        "text": node.text or None, "content_description": node.desc or None, "class_name": node.cls,
        "bbox": {"x_min": x0 / LOGICAL_W, "x_max": x1 / LOGICAL_W, "y_min": y0 / LOGICAL_H, "y_max": y1 / LOGICAL_H},
        "bbox_pixels": pixels, "hint_text": node.hint or None,
        "is_checked": bool(node.checked), "is_checkable": node.checked is not None, "is_clickable": node.clickable,
        "is_editable": node.editable, "is_enabled": True, "is_focused": node.focused,
        "is_focusable": node.editable or node.clickable, "is_long_clickable": node.on_long is not None,
        "is_scrollable": node.scrollable, "is_selected": bool(node.checked) and node.style == "chip",
        "is_visible": True, "package_name": node.package or None,
        "resource_name": f"{node.package}:id/{node.style}" if node.package else None,
        "tooltip": None, "resource_id": None,
    }


def box_center(box: tuple[int, int, int, int] | list[int]) -> tuple[int, int]:
    """The pixel a tap on a half-open box aims at (what `click(index)` touches)."""
    x0, y0, x1, y1 = box
    return (x0 + x1 - 1) // 2, (y0 + y1 - 1) // 2


def format_elements(elements: list[dict[str, Any]]) -> str:
    """One line per element; the format the expert and models read back."""
    lines = []
    for e in elements:
        parts = [f"[{e['index']}] {e['class_name'].rsplit('.', 1)[-1]}"]
        for label, key in (("", "text"), ("desc=", "content_description"), ("hint=", "hint_text")):
            if e.get(key):
                parts.append(label + _quote(e[key]))
        x0, y0, x1, y1 = e["bounds"]
        parts.append(f"bounds=[{x0},{y0}][{x1},{y1}]")
        flags = (("clickable", "is_clickable"), ("long-clickable", "is_long_clickable"), ("editable", "is_editable"),
                 ("scrollable", "is_scrollable"))
        parts += [flag for flag, key in flags if e.get(key)]
        if e.get("is_checkable", e.get("is_checked") is not None):
            parts.append(f"checked={str(bool(e['is_checked'])).lower()}")
        if e.get("is_focused"):
            parts.append("focused")
        lines.append(" ".join(parts))
    return "\n".join(lines)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
