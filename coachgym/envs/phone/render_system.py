"""How the system UI is drawn: status bar, launcher (icons, search bar, dock), shade, recents, keyboard, nav bar.

A mixin of `Renderer` (which supplies `px`, `_text` and `_paste`), one `_draw_<style>` method per
system node style, kept apart from the app widgets in `render.py`. Icons come from `icons.py`.
This module must not change nodes or state.
"""

from __future__ import annotations

from typing import Any

from coachgym.envs.phone import icons
from coachgym.envs.phone.ui import Node

WHITE = (255, 255, 255)
STATUS_GLYPHS = {"wifi": "wifi", "bt": "bluetooth", "plane": "airplane", "dnd": "dnd"}
TILE_GLYPHS = {"Wi-Fi": "wifi", "Bluetooth": "bluetooth", "Airplane mode": "airplane", "Dark mode": "moon",
               "Do not disturb": "dnd"}
APP_COLORS = {"Contacts": (66, 133, 244), "Messages": (52, 168, 83), "Calendar": (234, 67, 53),
              "Settings": (95, 99, 104), "Notes": (251, 188, 4), "Shop": (171, 71, 188)}


class SystemDrawing:
    px: Any
    _text: Any
    _paste: Any

    def _icon(self, name: str, box, color, scale: float = 1.0) -> None:
        """Glyph `name` centred in `box`, `scale` of its height."""
        x0, y0, x1, y1 = box
        side = max(4, round((y1 - y0 + 1) * scale))
        self._paste(icons.glyph(name, side, color), (x0 + x1 + 1 - side) // 2, (y0 + y1 + 1 - side) // 2)

    def _draw_status(self, draw, node: Node, box, theme) -> None:
        ink = node.color or theme["text"]
        self._text(draw, (box[0], (box[1] + box[3]) / 2), node.text, "status", ink, box[2] - box[0], True)

    def _draw_status_icon(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        ink = node.color or theme["text"]
        if node.sub in STATUS_GLYPHS:
            self._icon(STATUS_GLYPHS[node.sub], box, ink, 0.9)
            return
        level = int(node.sub.rstrip("%") or 0)  # the battery: a body, a cap and a fill, then the percentage
        body_w, body_h = self.px(30), self.px(48)
        bx1, cy = x1 - self.px(4), (y0 + y1) // 2
        body = (bx1 - body_w, cy - body_h // 2 + self.px(3), bx1, cy + body_h // 2)
        cap = (body[0] + body_w // 3, body[1] - self.px(5), body[2] - body_w // 3, body[1])
        draw.rectangle(cap, fill=ink)
        draw.rounded_rectangle(body, radius=self.px(5), outline=ink, width=max(1, self.px(3)))
        top = body[3] - round((body[3] - body[1]) * level / 100)
        draw.rectangle((body[0] + 1, max(body[1] + 1, top), body[2] - 1, body[3] - 1), fill=ink)
        self._text(draw, (body[0] - self.px(8), cy), node.sub, "small", ink, body[0] - x0, anchor="rm")

    def _draw_appicon(self, draw, node: Node, box, theme) -> None:
        """A launcher icon: round coloured badge with the app's glyph; labelled unless in the dock."""
        x0, y0, x1, y1 = box
        app = node.text or node.desc.removeprefix("Open ")
        side = min(self.px(160), x1 - x0 + 1)
        cx = (x0 + x1 + 1) // 2
        top = y0 + self.px(8) if node.text else (y0 + y1 + 1 - side) // 2
        self._paste(icons.app_icon(app, side, APP_COLORS.get(app, icons.tint(app))), cx - side // 2, top)
        if node.text:
            self._text(draw, (cx, y1 - self.px(40)), node.text, "caption", WHITE, x1 - x0, anchor="mm")

    def _draw_wallpaper(self, draw, node: Node, box, theme) -> None:
        """A vertical gradient wallpaper, drawn as bands (cheap and deterministic)."""
        x0, y0, x1, y1 = box
        top, bottom = theme["wallpaper"], theme["wallpaper2"]
        bands = 24
        for i in range(bands):
            t = i / (bands - 1)
            color = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom))
            draw.rectangle((x0, y0 + (y1 - y0 + 1) * i // bands, x1, y0 + (y1 - y0 + 1) * (i + 1) // bands), fill=color)

    def _draw_home_clock(self, draw, node: Node, box, theme) -> None:
        self._text(draw, (box[0], (box[1] + box[3]) / 2), node.text, "clock", WHITE, box[2] - box[0])

    def _draw_home_date(self, draw, node: Node, box, theme) -> None:
        self._text(draw, (box[0], (box[1] + box[3]) / 2), node.text, "body", WHITE, box[2] - box[0])

    def _draw_dock(self, draw, node: Node, box, theme) -> None:
        draw.rounded_rectangle(box, radius=self.px(64), fill=theme["dock"])

    def _draw_search(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        draw.rounded_rectangle(box, radius=(y1 - y0) // 2, fill=theme["field"])
        side = self.px(56)
        self._paste(icons.glyph("search", side, theme["text2"]), x0 + self.px(40), (y0 + y1 + 1 - side) // 2)
        self._text(draw, (x0 + self.px(120), (y0 + y1) / 2), node.hint, "body", theme["text2"], x1 - x0 - self.px(160))

    def _draw_navbar(self, draw, node: Node, box, theme) -> None:
        draw.rectangle(box, fill=theme["nav"])

    def _draw_nav(self, draw, node: Node, box, theme) -> None:
        cx, cy, r = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2, self.px(30)
        width = max(1, self.px(5))
        if node.sub == "back":
            draw.polygon([(cx + r, cy - r), (cx + r, cy + r), (cx - r, cy)], outline=theme["text"], width=width)
        elif node.sub == "home":
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=theme["text"], width=width)
        else:
            draw.rounded_rectangle((cx - r, cy - r, cx + r, cy + r), radius=self.px(6), outline=theme["text"],
                                   width=width)

    def _draw_keyboard(self, draw, node: Node, box, theme) -> None:
        draw.rectangle(box, fill=theme["keyboard"])

    def _draw_suggestion(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        self._text(draw, ((x0 + x1) / 2, (y0 + y1) / 2), node.text, "caption", theme["text"], x1 - x0, anchor="mm")
        if node.sub != "last":
            draw.line((x1, y0 + self.px(20), x1, y1 - self.px(20)), fill=theme["divider"], width=1)

    def _draw_key(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        special = len(node.text) > 1 or node.text in "⇧⌫⏎"
        fill = theme["accent"] if node.checked else theme["key2" if special else "key"]
        draw.rounded_rectangle(box, radius=self.px(14), fill=fill)
        role = "caption" if len(node.text) > 1 else "body"
        self._text(draw, ((x0 + x1) / 2, (y0 + y1) / 2), node.text, role, theme["text"], x1 - x0, anchor="mm")

    def _draw_shade(self, draw, node: Node, box, theme) -> None:
        draw.rectangle(box, fill=theme["shade"])

    def _draw_shade_text(self, draw, node: Node, box, theme) -> None:
        self._text(draw, (box[0], (box[1] + box[3]) / 2), node.text, "body", (235, 235, 240), box[2] - box[0])

    def _draw_tile(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        on = bool(node.checked)
        draw.rounded_rectangle(box, radius=self.px(44), fill=theme["accent"] if on else theme["card"])
        side = self.px(56)
        glyph = TILE_GLYPHS.get(node.text)
        left = x0 + self.px(32)
        if glyph:
            self._paste(icons.glyph(glyph, side, WHITE if on else (200, 204, 214)), left, (y0 + y1 + 1 - side) // 2)
            left += side + self.px(20)
        self._text(draw, (left, (y0 + y1) / 2), node.text, "caption", WHITE, x1 - left - self.px(16))

    def _draw_card(self, draw, node: Node, box, theme) -> None:
        """A notification or a recent app: app icon, bold title, optional second line."""
        x0, y0, x1, y1 = box
        draw.rounded_rectangle(box, radius=self.px(36), fill=theme["card"])
        left = x0 + self.px(40)
        app = node.desc or node.text
        side = self.px(96)
        self._paste(icons.app_icon(app, side, APP_COLORS.get(app, icons.tint(app))), left, y0 + self.px(40))
        left += side + self.px(34)
        self._text(draw, (left, y0 + (y1 - y0) * (0.35 if node.sub else 0.3)), node.text, "body", WHITE,
                   x1 - left - self.px(36), True)
        if node.sub:
            self._text(draw, (left, y0 + (y1 - y0) * 0.7), node.sub, "caption", (200, 204, 214),
                       x1 - left - self.px(36))

    def _draw_toast(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        draw.rounded_rectangle(box, radius=self.px(60), fill=(50, 52, 58))
        self._text(draw, ((x0 + x1) / 2, (y0 + y1) / 2), node.text, "caption", WHITE, x1 - x0 - self.px(48),
                   anchor="mm")
