"""Vector pictures for the phone, drawn with Pillow: app and tile icons, avatars, product photos.

Every picture is drawn from geometry (no image files), at 4x and downsampled, so edges are
anti-aliased like a real phone's; results are cached per (name, size), so a frame only pastes
them. Pictures depend only on their name and size (colours come from a CRC of the name, never
from Python's salted `hash`), so screenshots stay identical across runs. Glyphs are laid out on a
100x100 grid. This module must not know about nodes, screens or state.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from functools import lru_cache

from PIL import Image, ImageDraw

Color = tuple[int, int, int]
SS = 4  # supersampling factor
PALETTE: list[Color] = [(66, 133, 244), (219, 68, 55), (244, 160, 0), (15, 157, 88), (171, 71, 188),
                        (0, 172, 193), (255, 112, 67), (92, 107, 192), (124, 179, 66), (236, 64, 122)]


def tint(name: str) -> Color:
    """A stable colour for `name` (same on every run and machine)."""
    return PALETTE[zlib.crc32(name.encode()) % len(PALETTE)]


class _Pen:
    """Draws on a 100x100 grid scaled onto a supersampled canvas."""

    def __init__(self, size: int):
        self.k = size * SS / 100
        self.image = Image.new("RGBA", (size * SS, size * SS), (0, 0, 0, 0))
        self.draw = ImageDraw.Draw(self.image)

    def box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return x0 * self.k, y0 * self.k, x1 * self.k, y1 * self.k

    def pts(self, *points: tuple[float, float]) -> list[tuple[float, float]]:
        return [(x * self.k, y * self.k) for x, y in points]

    def w(self, width: float) -> int:
        return max(1, round(width * self.k))


Ink = tuple[int, int, int, int]
CLEAR: Ink = (0, 0, 0, 0)


def _person(p: _Pen, c: Ink) -> None:
    p.draw.ellipse(p.box(34, 14, 66, 46), fill=c)
    p.draw.chord(p.box(18, 52, 82, 116), 180, 360, fill=c)


def _chat(p: _Pen, c: Ink) -> None:
    p.draw.rounded_rectangle(p.box(12, 16, 88, 70), radius=p.w(14), fill=c)
    p.draw.polygon(p.pts((26, 64), (22, 88), (46, 68)), fill=c)
    for x in (32, 50, 68):
        p.draw.ellipse(p.box(x - 5, 38, x + 5, 48), fill=CLEAR)


def _calendar(p: _Pen, c: Ink) -> None:
    p.draw.rounded_rectangle(p.box(14, 20, 86, 88), radius=p.w(8), outline=c, width=p.w(7))
    p.draw.rectangle(p.box(14, 22, 86, 38), fill=c)
    for x in (32, 68):
        p.draw.rounded_rectangle(p.box(x - 4, 10, x + 4, 28), radius=p.w(3), fill=c)
    for row in range(2):
        for col in range(3):
            x, y = 30 + col * 20, 52 + row * 18
            p.draw.rectangle(p.box(x - 5, y - 5, x + 5, y + 5), fill=c)


def _gear(p: _Pen, c: Ink) -> None:
    points = []
    for i in range(48):
        angle = i / 48 * 2 * math.pi
        r = 44 if (i // 3) % 2 == 0 else 33
        points.append((50 + r * math.cos(angle), 50 + r * math.sin(angle)))
    p.draw.polygon(p.pts(*points), fill=c)
    p.draw.ellipse(p.box(36, 36, 64, 64), fill=CLEAR)


def _note(p: _Pen, c: Ink) -> None:
    p.draw.polygon(p.pts((20, 10), (64, 10), (82, 28), (82, 90), (20, 90)), fill=c)
    p.draw.polygon(p.pts((64, 10), (64, 28), (82, 28)), fill=CLEAR)
    for y in (44, 58, 72):
        p.draw.rectangle(p.box(30, y - 3, 72, y + 3), fill=CLEAR)


def _bag(p: _Pen, c: Ink) -> None:
    p.draw.arc(p.box(34, 10, 66, 50), 180, 360, fill=c, width=p.w(7))
    p.draw.polygon(p.pts((18, 32), (82, 32), (88, 90), (12, 90)), fill=c)
    p.draw.arc(p.box(36, 40, 64, 66), 0, 180, fill=CLEAR, width=p.w(6))


def _wifi(p: _Pen, c: Ink) -> None:
    for r in (44, 30, 16):
        p.draw.arc(p.box(50 - r, 78 - r, 50 + r, 78 + r), 225, 315, fill=c, width=p.w(9))
    p.draw.ellipse(p.box(43, 71, 57, 85), fill=c)


def _bluetooth(p: _Pen, c: Ink) -> None:
    p.draw.line(p.pts((30, 32), (68, 66), (50, 84), (50, 16), (68, 34), (30, 68)), fill=c, width=p.w(8), joint="curve")


def _airplane(p: _Pen, c: Ink) -> None:
    p.draw.polygon(p.pts((46, 8), (54, 8), (56, 38), (92, 58), (92, 66), (56, 56), (56, 78), (68, 88), (68, 94),
                         (50, 88), (32, 94), (32, 88), (44, 78), (44, 56), (8, 66), (8, 58), (44, 38)), fill=c)


def _moon(p: _Pen, c: Ink) -> None:
    p.draw.ellipse(p.box(14, 14, 86, 86), fill=c)
    p.draw.ellipse(p.box(38, 4, 100, 66), fill=CLEAR)


def _dnd(p: _Pen, c: Ink) -> None:
    p.draw.ellipse(p.box(10, 10, 90, 90), fill=c)
    p.draw.rectangle(p.box(26, 44, 74, 56), fill=CLEAR)


def _search(p: _Pen, c: Ink) -> None:
    p.draw.ellipse(p.box(12, 12, 64, 64), outline=c, width=p.w(9))
    p.draw.line(p.pts((58, 58), (88, 88)), fill=c, width=p.w(11))


def _back(p: _Pen, c: Ink) -> None:
    p.draw.line(p.pts((84, 50), (20, 50)), fill=c, width=p.w(9))
    p.draw.line(p.pts((46, 22), (18, 50), (46, 78)), fill=c, width=p.w(9), joint="curve")


def _plus(p: _Pen, c: Ink) -> None:
    p.draw.rectangle(p.box(45, 16, 55, 84), fill=c)
    p.draw.rectangle(p.box(16, 45, 84, 55), fill=c)


def _edit(p: _Pen, c: Ink) -> None:
    p.draw.polygon(p.pts((64, 14), (86, 36), (36, 86), (14, 86), (14, 64)), fill=c)
    p.draw.line(p.pts((56, 26), (74, 44)), fill=CLEAR, width=p.w(5))


def _star(p: _Pen, c: Ink, filled: bool = True) -> None:
    points = [(50 + (44 if i % 2 == 0 else 18) * math.sin(i * math.pi / 5),
               54 - (44 if i % 2 == 0 else 18) * math.cos(i * math.pi / 5)) for i in range(10)]
    if filled:
        p.draw.polygon(p.pts(*points), fill=c)
    else:
        p.draw.line(p.pts(*points, points[0]), fill=c, width=p.w(7), joint="curve")


def _send(p: _Pen, c: Ink) -> None:
    p.draw.polygon(p.pts((12, 14), (90, 50), (12, 86), (22, 54), (56, 50), (22, 46)), fill=c)


def _cart(p: _Pen, c: Ink) -> None:
    p.draw.line(p.pts((6, 14), (20, 14), (32, 66), (80, 66)), fill=c, width=p.w(8), joint="curve")
    p.draw.polygon(p.pts((24, 24), (92, 24), (82, 56), (30, 56)), fill=c)
    for x in (36, 74):
        p.draw.ellipse(p.box(x - 8, 74, x + 8, 90), fill=c)


def _filter(p: _Pen, c: Ink) -> None:
    for y, x0, x1 in ((24, 10, 90), (50, 24, 76), (76, 40, 60)):
        p.draw.rounded_rectangle(p.box(x0, y - 5, x1, y + 5), radius=p.w(4), fill=c)


GLYPHS: dict[str, Callable[[_Pen, Ink], None]] = {
    "person": _person, "chat": _chat, "calendar": _calendar, "gear": _gear, "note": _note, "bag": _bag,
    "wifi": _wifi, "bluetooth": _bluetooth, "airplane": _airplane, "moon": _moon, "dnd": _dnd, "search": _search,
    "back": _back, "plus": _plus, "edit": _edit, "star": _star, "star_outline": lambda p, c: _star(p, c, False),
    "send": _send, "cart": _cart, "filter": _filter,
}
APP_GLYPHS = {"Contacts": "person", "Messages": "chat", "Calendar": "calendar", "Settings": "gear", "Notes": "note",
              "Shop": "bag"}
TEXT_GLYPHS = {"←": "back", "+": "plus", "✎": "edit", "★": "star", "☆": "star_outline", "➤": "send"}


@lru_cache(maxsize=512)
def glyph(name: str, size: int, color: Color) -> Image.Image:
    """Icon `name` in `color` on transparency, `size` px square."""
    pen = _Pen(size)
    GLYPHS[name](pen, (*color, 255))
    return pen.image.resize((size, size), Image.Resampling.LANCZOS)


@lru_cache(maxsize=128)
def app_icon(app: str, size: int, color: Color) -> Image.Image:
    """A launcher icon: a white glyph on a `color` circle (an adaptive icon's round mask)."""
    pen = _Pen(size)
    pen.draw.ellipse(pen.box(0, 0, 100, 100), fill=(*color, 255))
    inner = glyph(APP_GLYPHS.get(app, "note"), size * SS * 56 // 100, (255, 255, 255))
    pen.image.alpha_composite(inner, (size * SS * 22 // 100, size * SS * 22 // 100))
    return pen.image.resize((size, size), Image.Resampling.LANCZOS)


@lru_cache(maxsize=512)
def avatar(name: str, size: int) -> Image.Image:
    """A contact's picture: a round, name-coloured badge with a head-and-shoulders silhouette and
    the name's initial, as a contacts app draws people without photos."""
    pen = _Pen(size)
    base = tint(name)
    pen.draw.ellipse(pen.box(0, 0, 100, 100), fill=(*base, 255))
    light = tuple(min(255, v + 70) for v in base)
    pen.draw.ellipse(pen.box(36, 18, 64, 46), fill=(*light, 255))
    pen.draw.chord(pen.box(20, 52, 80, 112), 180, 360, fill=(*light, 255))
    mask = Image.new("L", pen.image.size, 0)
    ImageDraw.Draw(mask).ellipse((0, 0, size * SS - 1, size * SS - 1), fill=255)
    pen.image.putalpha(Image.composite(pen.image.getchannel("A"), mask, mask))
    return pen.image.resize((size, size), Image.Resampling.LANCZOS)


def _wallet(p: _Pen, c: Ink, dark: Ink) -> None:
    p.draw.rounded_rectangle(p.box(16, 30, 84, 76), radius=p.w(8), fill=c)
    p.draw.rounded_rectangle(p.box(56, 44, 88, 62), radius=p.w(6), fill=dark)
    p.draw.ellipse(p.box(64, 49, 72, 57), fill=c)


def _bag_photo(p: _Pen, c: Ink, dark: Ink) -> None:
    p.draw.arc(p.box(34, 14, 66, 48), 180, 360, fill=dark, width=p.w(6))
    p.draw.rounded_rectangle(p.box(18, 30, 82, 86), radius=p.w(10), fill=c)
    p.draw.rectangle(p.box(18, 46, 82, 52), fill=dark)


def _shoe(p: _Pen, c: Ink, dark: Ink) -> None:
    p.draw.polygon(p.pts((14, 40), (38, 38), (50, 52), (84, 58), (90, 70), (14, 70)), fill=c)
    p.draw.rectangle(p.box(14, 70, 90, 78), fill=dark)
    for x in (40, 48, 56):
        p.draw.line(p.pts((x, 46), (x + 6, 54)), fill=dark, width=p.w(3))


def _watch(p: _Pen, c: Ink, dark: Ink) -> None:
    p.draw.rounded_rectangle(p.box(38, 8, 62, 92), radius=p.w(6), fill=dark)
    p.draw.ellipse(p.box(24, 26, 76, 78), fill=c)
    p.draw.ellipse(p.box(30, 32, 70, 72), fill=(250, 250, 250, 255))
    p.draw.line(p.pts((50, 52), (50, 38)), fill=dark, width=p.w(3))
    p.draw.line(p.pts((50, 52), (62, 56)), fill=dark, width=p.w(3))


PRODUCT_SHAPES = {"Wallets": _wallet, "Bags": _bag_photo, "Shoes": _shoe, "Watches": _watch}


@lru_cache(maxsize=256)
def product_photo(product_id: str, category: str, size: int) -> Image.Image:
    """A studio-style product shot: the category's object in the product's colour on a soft backdrop."""
    pen = _Pen(size)
    color = tint(product_id)
    backdrop = tuple(240 - (v // 12) for v in color)
    pen.draw.rounded_rectangle(pen.box(0, 0, 100, 100), radius=pen.w(12), fill=(*backdrop, 255))
    pen.draw.ellipse(pen.box(18, 80, 82, 92), fill=(0, 0, 0, 40))
    dark = tuple(max(0, v - 90) for v in color)
    PRODUCT_SHAPES.get(category, _wallet)(pen, (*color, 255), (*dark, 255))
    return pen.image.resize((size, size), Image.Resampling.LANCZOS)
