"""Pure-Python renderer: draws a `Screen`'s nodes into an RGB screenshot with Pillow.

Drawing goes straight to the target resolution (no 1080x2400 canvas and resize), through
`Scale.rect`, the same rounding the hit-test uses, so a node's drawn pixels and its tappable box
coincide. Text uses DejaVu Sans (Debian `fonts-dejavu-core`); fonts and text fitting are cached,
so a frame costs a few milliseconds. This module must not change nodes or state.
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from coachgym.envs.phone.ui import Node, Scale, Screen

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
Color = tuple[int, int, int]

LIGHT: dict[str, Color] = {
    "bg": (250, 250, 252), "surface": (236, 239, 244), "text": (28, 28, 32), "text2": (96, 100, 110),
    "accent": (26, 115, 232), "on_accent": (255, 255, 255), "divider": (220, 222, 228), "field": (255, 255, 255),
    "bubble_in": (232, 234, 240), "bubble_out": (26, 115, 232), "key": (255, 255, 255), "keyboard": (214, 218, 226),
    "nav": (240, 241, 245), "shade": (32, 36, 44), "card": (58, 63, 74), "wallpaper": (62, 92, 140),
}
DARK: dict[str, Color] = LIGHT | {
    "bg": (18, 18, 22), "surface": (38, 40, 48), "text": (232, 232, 236), "text2": (160, 164, 174),
    "divider": (56, 58, 66), "field": (30, 32, 38), "bubble_in": (48, 50, 60), "key": (70, 72, 80),
    "keyboard": (36, 38, 44), "nav": (24, 24, 28), "wallpaper": (24, 36, 60),
}
# Logical font sizes (px at 1080 wide) per text role.
SIZES = {"title": 56, "title_small": 50, "body": 44, "caption": 36, "small": 34, "clock": 160, "status": 36}


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans at `size` px; COACHGYM_PHONE_FONT overrides; Pillow's built-in font is the fallback."""
    default = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    path = os.environ.get("COACHGYM_PHONE_FONT") or str(default)
    try:
        return ImageFont.truetype(path, max(6, size))
    except OSError:
        warnings.warn(f"Font {path} not found; install the Debian package `fonts-dejavu-core` or set "
                      "COACHGYM_PHONE_FONT. Using Pillow's built-in font, so screenshots differ from reference.",
                      stacklevel=2)
        return ImageFont.load_default(max(6, size))


@lru_cache(maxsize=4096)
def fit(text: str, size: int, width: int, bold: bool = False) -> str:
    """`text` cut with an ellipsis so it fits `width` pixels on one line."""
    face = font(size, bold)
    if face.getlength(text) <= width:
        return text
    while text and face.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


@lru_cache(maxsize=1024)
def wrap(text: str, size: int, width: int) -> tuple[str, ...]:
    face, lines, line = font(size), [], ""
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
    face = font(size, bold)
    ascent, descent = face.getmetrics()
    left, top, right, bottom = face.getbbox(text, anchor="la")
    if right <= left or bottom <= top:
        return None, 0, 0, 0.0, 0.0
    mask = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(mask).text((-left, -top), text, font=face, fill=255, anchor="la")
    return mask, left, top, face.getlength(text), (ascent + descent) / 2


class Renderer:
    """Draws screens at one scale; `render(screen, dark)` returns an HxWx3 uint8 array."""

    def __init__(self, scale: Scale):
        self.scale = scale
        self.k = scale.factor

    def px(self, logical: float) -> int:
        return max(1, round(logical * self.k))

    def render(self, screen: Screen, dark: bool = False) -> np.ndarray:
        theme = DARK if dark else LIGHT
        image = Image.new("RGB", (self.scale.width, self.scale.height), theme["bg"])
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

    def _draw_status(self, draw, node: Node, box, theme) -> None:
        self._text(draw, (box[0], (box[1] + box[3]) / 2), node.text, "status", theme["text"], box[2] - box[0], True)

    def _draw_status_icon(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, (y1 - y0) / 2
        if node.sub == "wifi":
            draw.pieslice((cx - r, cy - r * 0.6, cx + r, cy + r * 1.4), 225, 315, fill=theme["text"])
            return
        glyph = {"bt": "B", "plane": "✈", "dnd": "⊖"}.get(node.sub, node.sub)
        role = "small" if node.sub.endswith("%") else "status"
        self._text(draw, (cx, cy), glyph, role, theme["text"], x1 - x0, not node.sub.endswith("%"), "mm")

    def _draw_appbar(self, draw, node: Node, box, theme) -> None:
        draw.rectangle(box, fill=theme["surface"])

    def _draw_title(self, draw, node: Node, box, theme) -> None:
        self._text(draw, (box[0], (box[1] + box[3]) / 2), node.text, "title", theme["text"], box[2] - box[0], True)

    def _draw_icon(self, draw, node: Node, box, theme, filled: bool = False) -> None:
        x0, y0, x1, y1 = box
        if filled:
            draw.rounded_rectangle(box, radius=self.px(40), fill=theme["accent"])
        label = node.text or node.sub
        role = "title" if len(label) <= 2 else "caption"
        color = theme["on_accent"] if filled else (theme["accent"] if len(label) > 2 else theme["text"])
        self._text(draw, ((x0 + x1) / 2, (y0 + y1) / 2), label, role, color, x1 - x0, True, "mm")

    def _draw_icon_filled(self, draw, node: Node, box, theme) -> None:
        self._draw_icon(draw, node, box, theme, filled=True)

    def _draw_row(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        left, width = x0 + self.px(48), x1 - x0 - self.px(96 + (60 if node.desc else 0))
        if node.sub:
            self._text(draw, (left, y0 + (y1 - y0) * 0.36), node.text, "body", theme["text"], width)
            self._text(draw, (left, y0 + (y1 - y0) * 0.72), node.sub, "caption", theme["text2"], width)
        else:
            self._text(draw, (left, (y0 + y1) / 2), node.text, "body", theme["text"], width)
        if node.desc:
            self._text(draw, (x1 - self.px(48), (y0 + y1) / 2), "★", "title", theme["accent"], self.px(60), anchor="rm")
        draw.line((left, y1, x1, y1), fill=theme["divider"], width=1)

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
            caret = x0 + self.px(36) + int(font(self.px(SIZES["body"])).getlength(lines[-1] if node.text else ""))
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

    def _draw_clock(self, draw, node: Node, box, theme) -> None:
        self._text(draw, (box[0], (box[1] + box[3]) / 2), node.text, "clock", theme["text"], box[2] - box[0])

    def _draw_appicon(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        side = self.px(168)
        cx = (x0 + x1) // 2
        icon = (cx - side // 2, y0 + self.px(8), cx + side // 2, y0 + self.px(8) + side)
        draw.rounded_rectangle(icon, radius=self.px(44), fill=node.color or theme["accent"])
        self._text(draw, (cx, (icon[1] + icon[3]) / 2), node.text[0], "title", (255, 255, 255), side, True, "mm")
        self._text(draw, (cx, y1 - self.px(40)), node.text, "caption", theme["text"], x1 - x0, anchor="mm")

    def _draw_navbar(self, draw, node: Node, box, theme) -> None:
        draw.rectangle(box, fill=theme["nav"])

    def _draw_nav(self, draw, node: Node, box, theme) -> None:
        cx, cy, r = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2, self.px(30)
        if node.sub == "back":
            draw.polygon([(cx + r, cy - r), (cx + r, cy + r), (cx - r, cy)], outline=theme["text"])
        elif node.sub == "home":
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=theme["text"], width=max(1, self.px(5)))
        else:
            draw.rounded_rectangle((cx - r, cy - r, cx + r, cy + r), radius=self.px(6), outline=theme["text"],
                                   width=max(1, self.px(5)))

    def _draw_keyboard(self, draw, node: Node, box, theme) -> None:
        draw.rectangle(box, fill=theme["keyboard"])

    def _draw_key(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        draw.rounded_rectangle(box, radius=self.px(14), fill=theme["accent"] if node.checked else theme["key"])
        self._text(draw, ((x0 + x1) / 2, (y0 + y1) / 2), node.text, "body", theme["text"], x1 - x0, anchor="mm")

    def _draw_shade(self, draw, node: Node, box, theme) -> None:
        draw.rectangle(box, fill=theme["shade"])

    def _draw_shade_text(self, draw, node: Node, box, theme) -> None:
        self._text(draw, (box[0], (box[1] + box[3]) / 2), node.text, "body", (235, 235, 240), box[2] - box[0])

    def _draw_tile(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        draw.rounded_rectangle(box, radius=self.px(44), fill=theme["accent"] if node.checked else theme["card"])
        self._text(draw, (x0 + self.px(36), (y0 + y1) / 2), node.text, "caption", (255, 255, 255),
                   x1 - x0 - self.px(48))

    def _draw_card(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        draw.rounded_rectangle(box, radius=self.px(36), fill=theme["card"])
        left = x0 + self.px(48)
        if node.color is not None:
            draw.rounded_rectangle((left, y0 + self.px(40), left + self.px(96), y0 + self.px(136)),
                                   radius=self.px(24), fill=node.color)
            left += self.px(130)
        self._text(draw, (left, y0 + (y1 - y0) * (0.35 if node.sub else 0.3)), node.text, "body", (255, 255, 255),
                   x1 - left - self.px(36), True)
        if node.sub:
            self._text(draw, (left, y0 + (y1 - y0) * 0.7), node.sub, "caption", (200, 204, 214),
                       x1 - left - self.px(36))

    def _draw_dialog(self, draw, node: Node, box, theme) -> None:
        draw.rounded_rectangle(box, radius=self.px(48), fill=theme["surface"])

    def _draw_toast(self, draw, node: Node, box, theme) -> None:
        x0, y0, x1, y1 = box
        draw.rounded_rectangle(box, radius=self.px(60), fill=(50, 52, 58))
        self._text(draw, ((x0 + x1) / 2, (y0 + y1) / 2), node.text, "caption", (255, 255, 255), x1 - x0 - self.px(48),
                   anchor="mm")
