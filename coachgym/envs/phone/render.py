"""Pure-Python renderer: draws a `Screen`'s nodes into an RGB screenshot with Pillow.

Drawing goes straight to the target resolution (no 1080x2400 canvas and resize), through
`Scale.rect`, the same rounding the hit-test uses, so a node's drawn pixels and its tappable box
coincide. Text uses Roboto (pip `font-roboto`, Apache-2.0) with DejaVu Sans for symbols it
lacks; pictures (icons, avatars, product photos) are vector drawings from `icons.py`, pasted from a
cache. System UI styles live in `render_system.py`. Fonts, text fitting and pictures are cached,
so a frame costs a few milliseconds. This module must not change nodes or state.
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from coachgym.envs.phone import icons
from coachgym.envs.phone.render_system import SystemDrawing
from coachgym.envs.phone.ui import Node, Scale, Screen

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
Color = tuple[int, int, int]

LIGHT: dict[str, Color] = {
    "bg": (250, 250, 252), "surface": (236, 239, 244), "text": (28, 28, 32), "text2": (96, 100, 110),
    "accent": (26, 115, 232), "on_accent": (255, 255, 255), "divider": (220, 222, 228), "field": (255, 255, 255),
    "bubble_in": (232, 234, 240), "bubble_out": (26, 115, 232), "key": (255, 255, 255), "keyboard": (214, 218, 226),
    "nav": (240, 241, 245), "shade": (32, 36, 44), "card": (58, 63, 74), "wallpaper": (40, 72, 138),
    "wallpaper2": (150, 112, 176), "dock": (214, 208, 232), "key2": (188, 194, 206),
}
DARK: dict[str, Color] = LIGHT | {
    "bg": (18, 18, 22), "surface": (38, 40, 48), "text": (232, 232, 236), "text2": (160, 164, 174),
    "divider": (56, 58, 66), "field": (30, 32, 38), "bubble_in": (48, 50, 60), "key": (70, 72, 80),
    "keyboard": (36, 38, 44), "nav": (24, 24, 28), "wallpaper": (16, 28, 58), "wallpaper2": (60, 40, 84),
    "dock": (46, 44, 60), "key2": (52, 54, 62),
}
# Logical font sizes (px at 1080 wide) per text role.
SIZES = {"title": 56, "title_small": 50, "body": 44, "caption": 36, "small": 34, "clock": 160, "status": 36}


def _roboto() -> tuple[str, str] | None:
    """Roboto regular/bold from the `font-roboto` package (Apache-2.0), when installed."""
    try:
        import font_roboto
    except ImportError:
        return None
    return font_roboto.font_files["Roboto"], font_roboto.font_files["RobotoMedium"]


ROBOTO = _roboto()


@lru_cache(maxsize=4)
def _cmap(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(path, lazy=True).getBestCmap())


def font_path(bold: bool, text: str = "") -> str:
    """COACHGYM_PHONE_FONT if set; else Roboto (as on Android) when it has every glyph of `text`;
    else DejaVu Sans (Debian `fonts-dejavu-core`), which has the symbols Roboto lacks."""
    if os.environ.get("COACHGYM_PHONE_FONT"):
        return os.environ["COACHGYM_PHONE_FONT"]
    if ROBOTO is not None:
        path = ROBOTO[bold]
        if all(ord(ch) in _cmap(path) for ch in text):
            return path
    return str(FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"))


@lru_cache(maxsize=128)
def _load(path: str, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(path, max(6, size))
    except OSError:
        warnings.warn(f"Font {path} not found; pip install font-roboto, install the Debian package "
                      "`fonts-dejavu-core` or set COACHGYM_PHONE_FONT. Using Pillow's built-in font, so screenshots "
                      "differ from reference.", stacklevel=2)
        return ImageFont.load_default(max(6, size))


@lru_cache(maxsize=4096)
def font(size: int, bold: bool = False, text: str = "") -> ImageFont.FreeTypeFont:
    """The face that draws `text` at `size` px (see `font_path`)."""
    return _load(font_path(bold, text), size)


@lru_cache(maxsize=4096)
def fit(text: str, size: int, width: int, bold: bool = False) -> str:
    """`text` cut with an ellipsis so it fits `width` pixels on one line."""
    face = font(size, bold, text)
    if face.getlength(text) <= width:
        return text
    while text and face.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


@lru_cache(maxsize=1024)
def wrap(text: str, size: int, width: int) -> tuple[str, ...]:
    face, lines, line = font(size, False, text), [], ""
    for word in text.split(" "):
        candidate = f"{line} {word}".strip()
        if line and face.getlength(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return tuple([*lines, line])


@lru_cache(maxsize=8192)
def glyphs(text: str, size: int, bold: bool) -> tuple[Image.Image | None, int, int, float, float]:
    """A cached coverage mask for one line of text (FreeType rendering dominates frame time
    otherwise), with its offset from the pen origin, advance width and half line height."""
    face = font(size, bold, text)
    ascent, descent = face.getmetrics()
    left, top, right, bottom = face.getbbox(text, anchor="la")
    if right <= left or bottom <= top:
        return None, 0, 0, 0.0, 0.0
    mask = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(mask).text((-left, -top), text, font=face, fill=255, anchor="la")
    return mask, left, top, face.getlength(text), (ascent + descent) / 2


class Renderer(SystemDrawing):
    """Draws screens at one scale; `render(screen, dark)` returns an HxWx3 uint8 array."""

    def __init__(self, scale: Scale):
        self.scale = scale
        self.k = scale.factor
        self.image: Image.Image | None = None

    def px(self, logical: float) -> int:
        return max(1, round(logical * self.k))

    def render(self, screen: Screen, dark: bool = False) -> np.ndarray:
        theme = DARK if dark else LIGHT
        image = self.image = Image.new("RGB", (self.scale.width, self.scale.height), theme["bg"])
        draw = ImageDraw.Draw(image)
        for node in screen.nodes:
            x0, y0, x1, y1 = self.scale.rect(node.bounds)
            if node.style == "scrim":
                image = self._dim(image, (x0, y0, x1, y1))
                draw = ImageDraw.Draw(image)
            else:  # Pillow boxes include their last row and column; `Scale.rect` is half-open
                getattr(self, f"_draw_{node.style}", self._draw_text)(draw, node, (x0, y0, x1 - 1, y1 - 1), theme)
        # frombuffer over a bytearray is about twice as fast as np.asarray(image) and stays writable.
        pixels = np.frombuffer(bytearray(image.tobytes()), dtype=np.uint8)
        return pixels.reshape(self.scale.height, self.scale.width, 3)

    # ----------------------------------------------------------------- helpers
    def _text(self, draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, role: str, color: Color,
              width: int, bold: bool = False, anchor: str = "lm") -> None:
        """Draw one line of text, anchored left/middle/right ("l"/"m"/"r") and vertically centred."""
        size = self.px(SIZES[role])
        mask, left, top, length, middle = glyphs(fit(text, size, max(1, width), bold), size, bold)
        if mask is None:
            return
        x = xy[0] - {"l": 0, "m": length / 2, "r": length}[anchor[0]]
        draw.bitmap((round(x + left), round(xy[1] - middle + top)), mask, fill=color)

    def _paste(self, picture: Image.Image, x: int, y: int) -> None:
        """Composite an RGBA picture (from `icons`) onto the frame at screenshot pixel (x, y)."""
        assert self.image is not None
        self.image.paste(picture, (x, y), picture)

    def _dim(self, image: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
        region = image.crop(box)
        image.paste(Image.blend(region, Image.new("RGB", region.size, (0, 0, 0)), 0.55), box[:2])
        return image

    # ----------------------------------------------------------------- one method per node style
    def _draw_list(self, draw, node: Node, box, theme) -> None:
        """A list container is only a region; its rows draw themselves."""

    def _draw_bg(self, draw, node: Node, box, theme) -> None:
        draw.rectangle(box, fill=theme["bg"])

    def _draw_text(self, draw, node: Node, box, theme) -> None:
        role = node.style if node.style in SIZES else "body"
        color = theme["text2"] if node.style in ("caption", "hint") else theme["text"]
        self._text(draw, (box[0], (box[1] + box[3]) / 2), node.text, role, color, box[2] - box[0],
                   bold=node.style in ("title", "title_small"))

    def _draw_appbar(self, draw, node: Node, box, theme) -> None:
        draw.rectangle(box, fill=theme["surface"])

    def _draw_title(self, draw, node: Node, box, theme) -> None:
        self._text(draw, (box[0], (box[1] + box[3]) / 2), node.text, "title", theme["text"], box[2] - box[0], True)

    def _draw_icon(self, draw, node: Node, box, theme, filled: bool = False) -> None:
        x0, y0, x1, y1 = box
        if filled:
            draw.rounded_rectangle(box, radius=self.px(40), fill=theme["accent"])
        label = node.text or node.sub
        if label in icons.TEXT_GLYPHS:
            color = theme["on_accent"] if filled else (theme["accent"] if label == "★" else theme["text"])
            self._icon(icons.TEXT_GLYPHS[label], box, color, 0.45)
            return
        role = "title" if len(label) <= 2 else "caption"
        color = theme["on_accent"] if filled else (theme["accent"] if len(label) > 2 else theme["text"])
        self._text(draw, ((x0 + x1) / 2, (y0 + y1) / 2), label, role, color, x1 - x0, True, "mm")

    def _draw_icon_filled(self, draw, node: Node, box, theme) -> None:
        self._draw_icon(draw, node, box, theme, filled=True)

    def _draw_row(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        left = x0 + self.px(48)
        if node.image:
            side = self.px(104)
            self._paste(self._picture(node.image, side), left, (y0 + y1 + 1 - side) // 2)
            left += side + self.px(36)
        width = x1 - left - self.px(48 + (60 if node.desc else 0))
        if node.sub:
            self._text(draw, (left, y0 + (y1 - y0) * 0.36), node.text, "body", theme["text"], width)
            self._text(draw, (left, y0 + (y1 - y0) * 0.72), node.sub, "caption", theme["text2"], width)
        else:
            self._text(draw, (left, (y0 + y1) / 2), node.text, "body", theme["text"], width)
        if node.desc:
            side = self.px(52)
            self._paste(icons.glyph("star", side, theme["accent"]), x1 - self.px(48) - side, (y0 + y1 + 1 - side) // 2)
        draw.line((left, y1, x1, y1), fill=theme["divider"], width=1)

    def _draw_picture(self, draw, node: Node, box, theme) -> None:
        """A large avatar or product photo, centred in its box."""
        x0, y0, x1, y1 = box
        side = min(x1 - x0, y1 - y0) + 1
        self._paste(self._picture(node.image, side), (x0 + x1 + 1 - side) // 2, y0)

    @staticmethod
    def _picture(image: str, side: int) -> Image.Image:
        kind, _, name = image.partition(":")
        if kind == "product":
            product_id, _, category = name.partition(":")
            return icons.product_photo(product_id, category, side)
        return icons.avatar(name, side)

    def _draw_field(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        outline = theme["accent"] if node.focused else theme["divider"]
        draw.rounded_rectangle(box, radius=self.px(24), fill=theme["field"], outline=outline,
                               width=self.px(6) if node.focused else 1)
        shown, color = (node.text, theme["text"]) if node.text else (node.hint, theme["text2"])
        lines = wrap(shown, self.px(SIZES["body"]), x1 - x0 - self.px(72)) if y1 - y0 > self.px(200) else (shown,)
        step = self.px(60)
        top = y0 + self.px(75) if len(lines) > 1 or y1 - y0 > self.px(200) else (y0 + y1) / 2
        for i, line in enumerate(lines[: max(1, (y1 - y0) // step)]):
            self._text(draw, (x0 + self.px(36), top + i * step), line, "body", color, x1 - x0 - self.px(72))
        if node.focused:
            last = lines[-1] if node.text else ""
            caret = x0 + self.px(36) + int(font(self.px(SIZES["body"]), False, last).getlength(last))
            line_y = top + (len(lines) - 1) * step if node.text else top
            draw.line((caret, line_y - self.px(26), caret, line_y + self.px(26)), fill=theme["accent"], width=2)

    def _draw_switch(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        self._draw_row(draw, Node(node.cls, node.bounds, text=node.text, sub=node.sub), box, theme)
        tx1, ty = x1 - self.px(48), (y0 + y1) // 2
        track = (tx1 - self.px(120), ty - self.px(30), tx1, ty + self.px(30))
        draw.rounded_rectangle(track, radius=self.px(30), fill=theme["accent"] if node.checked else theme["divider"])
        cx = track[2] - self.px(30) if node.checked else track[0] + self.px(30)
        r = self.px(24)
        draw.ellipse((cx - r, ty - r, cx + r, ty + r), fill=(255, 255, 255))

    def _draw_checkbox(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        s, cy = self.px(60), (y0 + y1) // 2
        square = (x0, cy - s // 2, x0 + s, cy + s // 2)
        draw.rounded_rectangle(square, radius=self.px(8), outline=theme["accent"], width=max(1, self.px(5)),
                               fill=theme["accent"] if node.checked else None)
        if node.checked:
            self._text(draw, ((square[0] + square[2]) / 2, cy), "✓", "body", theme["on_accent"], s, True, "mm")
        self._text(draw, (x0 + s + self.px(30), cy), node.text, "body", theme["text"], x1 - x0 - s - self.px(30))

    def _draw_slider(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        cy, value = (y0 + y1) // 2, node.value or 0.0
        r = min(self.px(28), (y1 - y0) // 2)
        draw.rounded_rectangle((x0, cy - self.px(8), x1, cy + self.px(8)), radius=self.px(8), fill=theme["divider"])
        knob = min(x1 - r, max(x0 + r, x0 + round(value * (x1 - x0))))
        draw.rounded_rectangle((x0, cy - self.px(8), knob, cy + self.px(8)), radius=self.px(8), fill=theme["accent"])
        draw.ellipse((knob - r, cy - r, knob + r, cy + r), fill=theme["accent"])

    def _draw_button(self, draw, node: Node, box, theme, primary: bool = True) -> None:
        x0, y0, x1, y1 = box
        if primary:
            draw.rounded_rectangle(box, radius=self.px(60), fill=theme["accent"])
        else:
            draw.rounded_rectangle(box, radius=self.px(60), outline=theme["accent"], width=max(1, self.px(4)))
        color = theme["on_accent"] if primary else theme["accent"]
        self._text(draw, ((x0 + x1) / 2, (y0 + y1) / 2), node.text, "body", color, x1 - x0 - self.px(24), True, "mm")

    def _draw_button2(self, draw, node: Node, box, theme) -> None:
        self._draw_button(draw, node, box, theme, primary=False)

    def _draw_chip(self, draw, node: Node, box, theme) -> None:
        self._draw_button(draw, node, box, theme, primary=bool(node.checked))

    def _draw_bubble_in(self, draw, node: Node, box, theme, outgoing: bool = False) -> None:
        x0, y0, x1, y1 = box
        draw.rounded_rectangle(box, radius=self.px(36), fill=theme["bubble_out" if outgoing else "bubble_in"])
        color = theme["on_accent"] if outgoing else theme["text"]
        size = self.px(SIZES["caption"])
        for i, line in enumerate(wrap(node.text, size, x1 - x0 - self.px(72))):
            self._text(draw, (x0 + self.px(36), y0 + self.px(48) + i * self.px(60)), line, "caption", color,
                       x1 - x0 - self.px(72))
        self._text(draw, (x1 - self.px(30), y1 - self.px(30)), node.sub, "small", color, x1 - x0, anchor="rm")

    def _draw_bubble_out(self, draw, node: Node, box, theme) -> None:
        self._draw_bubble_in(draw, node, box, theme, outgoing=True)

    def _draw_dialog(self, draw, node: Node, box, theme) -> None:
        draw.rounded_rectangle(box, radius=self.px(48), fill=theme["surface"])
