"""Reference policies for MiniWoB++ pages whose facts are colours, shapes and counts: what the agent needs
is in the screenshot (a colour swatch, blocks to count, a polygon on a canvas, a digit drawn as an image),
not in the outline's text.

They read `p.obs["screenshot"]` (an HxWx3 RGB array at `device_scale_factor` pixels per CSS pixel, drawn
without set-of-marks) and the element boxes, and act with coordinates or ids. None reads the page's DOM.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

import numpy as np
from PIL import ImageColor
from scipy import ndimage

from tests.browser.miniwob_play import Play, policy

Box = tuple[float, float, float, float]  # x, y, width, height in CSS pixels

SHAPE_COLORS = ("red", "green", "blue", "aqua", "black", "magenta", "yellow")  # the palette of common/shapes.js


# ----------------------------------------------------------------------------------- reading pixels
def _rgb(name: str) -> np.ndarray:
    return np.array(ImageColor.getrgb(name))


def _near(image: np.ndarray, color: np.ndarray, tolerance: int = 24) -> np.ndarray:
    """Where the image has this colour (a little anti-aliasing or blending allowed)."""
    return np.abs(image - color).sum(axis=-1) <= tolerance


def _regions(mask: np.ndarray) -> list[tuple[int, int, int, int, int]]:
    """(x, y, width, height, pixel count) of each connected region of the mask, in mask pixels."""
    labels, _ = ndimage.label(mask)
    found = []
    for index, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
        found.append((cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start,
                      int((labels[rows, cols] == index).sum())))
    return found


def _squares(p: Play, mask: np.ndarray, side: float) -> list[tuple[float, float]]:
    """CSS centres of the filled squares of about `side` CSS pixels in the mask (a swatch in the query,
    or the query's yellow box, differ in size from what the task area draws)."""
    s = p.scale
    found = []
    for x, y, w, h, count in _regions(mask):
        if abs(w / s - side) <= 3 and abs(h / s - side) <= 3 and count >= 0.8 * w * h:
            found.append(((x + w / 2) / s, (y + h / 2) / s))
    return found


# ----------------------------------------------------------------------------------- colours
@policy("click-color")
def _click_color(p: Play) -> None:
    """The goal names the colour; each box is a filled square of it, 50 CSS pixels wide."""
    wanted = _rgb(re.search(r"Click on the (\w+) colored box", p.goal).group(1))
    x, y = _squares(p, _near(p.pixels(), wanted), 50)[0]
    p.click_xy(x, y)


@policy("click-shades")
def _click_shades(p: Play) -> None:
    """Twelve 12-pixel squares in shades of red, green and blue: a shade's hue is its strongest channel."""
    channel = ("red", "green", "blue").index(re.search(r"shades of (\w+)", p.goal).group(1))
    image, s = p.pixels(), p.scale
    for x, y in _squares(p, ~_near(image, _rgb("white"), 0), 12):
        if image[round(y * s), round(x * s)].argmax() == channel:
            p.click_xy(x, y)
    p.submit()


@policy("visual-addition")
def _visual_addition(p: Play) -> None:
    """Both addends are drawn as light blue 10-pixel blocks: the answer is how many there are."""
    blocks = _squares(p, _near(p.pixels(), _rgb("#7fb0ff")), 10)
    p.type(p.ids("textbox")[0], str(len(blocks)))
    p.submit()


def _swatch(p: Play) -> np.ndarray:
    """The colour of the small black-bordered square drawn inside the query (12 pixels with its border)."""
    image = p.pixels()
    s = p.scale
    x, y, w, h, _ = next(r for r in _regions(_near(image, _rgb("black"))) if abs(r[2] / s - 12) <= 1
                         and abs(r[3] / s - 12) <= 1)
    return image[y + h // 2, x + w // 2]


def _pick_color(p: Play, rgb: np.ndarray) -> None:
    """The colour picker's text field takes the hex code; the page scores how close it is.
    Not mirrored: the reference env starts each episode on the same page without reloading it, so the
    code typed here would still be in the field when the parity test's wrong plan submits untouched."""
    p.unmirrored(f'type("{p.ids("textbox")[0]}", "{"".join(f"{int(c):02X}" for c in rgb)}")')
    p.submit()


@policy("use-colorwheel")
def _use_colorwheel(p: Play) -> None:
    _pick_color(p, _rgb(re.search(r"Select (\w+) with the color picker", p.goal).group(1)))


@policy("use-colorwheel-2")
def _use_colorwheel_2(p: Play) -> None:
    _pick_color(p, _swatch(p))


# ----------------------------------------------------------------------------------- shapes
def _polygon_sides(radii: np.ndarray, angles: np.ndarray) -> int:
    """The number of sides (3-7) of the regular polygon whose outline lies at `radii` from its centre in the
    directions `angles`: the side count and rotation whose outline fits best after scaling."""
    best = (math.inf, 0)
    for sides in range(3, 8):
        sector = 2 * math.pi / sides
        for turn in np.linspace(0, sector, 90, endpoint=False):
            shape = math.cos(math.pi / sides) / np.cos((angles - turn) % sector - math.pi / sides)
            size = (radii * shape).sum() / (shape * shape).sum()
            best = min(best, (float(((radii - size * shape) ** 2).sum()), sides))
    return best[1]


@policy("count-sides")
def _count_sides(p: Play) -> None:
    """The canvas shows a regular polygon around its middle: walk out from the middle in every direction
    to the first dark pixel, and fit polygons with 3 to 7 sides to those distances."""
    x, y, w, h = p.env.unwrapped.snap.boxes[p.ids("canvas")[0]]
    image = p.pixels((x, y, w, h))
    dark = image.max(axis=-1) < 128
    middle_row, middle_col = dark.shape[0] / 2, dark.shape[1] / 2
    angles = np.linspace(0, 2 * math.pi, 180, endpoint=False)
    steps = np.arange(1, min(dark.shape) / 2, 0.5)
    radii = []
    for angle in angles:
        rows = np.clip((middle_row + steps * math.sin(angle)).astype(int), 0, dark.shape[0] - 1)
        cols = np.clip((middle_col + steps * math.cos(angle)).astype(int), 0, dark.shape[1] - 1)
        radii.append(steps[dark[rows, cols].argmax()])
    sides = _polygon_sides(np.array(radii), angles)
    p.click(p.find(str(sides), "button"))


@policy("number-checkboxes")
def _number_checkboxes(p: Play) -> None:
    """The example image is a 4x7 grid of cells, white where the box is to be checked; the checkboxes are
    the same grid, row by row."""
    image = p.pixels(p.env.unwrapped.snap.boxes[p.ids("img")[0]])
    cells = sorted(_regions(image.mean(axis=-1) > 60), key=lambda r: (r[1], r[0]))
    assert len(cells) == 28, f"expected 4x7 cells in the example image, found {len(cells)}"
    rows = [sorted(cells[i:i + 4]) for i in range(0, 28, 4)]
    checked = [image[y + h // 2, x + w // 2].mean() > 180 for row in rows for x, y, w, h, _ in row]
    for box, on in zip(p.ids("checkbox"), checked):
        if on:
            p.click(box)
    p.submit()


class Symbol(NamedTuple):
    """One item of a shapes grid as the screenshot shows it."""

    id: str
    kind: str  # letter, digit or shape
    text: str  # the letter or digit, or circle, rectangle, triangle
    color: str  # a name of SHAPE_COLORS
    large: bool


def _palette_votes(crop: np.ndarray) -> np.ndarray:
    """How many pixels of the crop are each SHAPE_COLORS colour, or it blended with the white background
    (small glyphs are mostly anti-aliased edges, so a pixel counts for the colour it is a shade of)."""
    away = 255 - crop.reshape(-1, 3)
    away = away[away.sum(axis=1) > 60]  # not background
    votes = []
    for name in SHAPE_COLORS:
        ink = 255 - _rgb(name)
        alpha = np.clip(away @ ink / (ink @ ink), 0, 1)
        residual = np.abs(away - alpha[:, None] * ink).sum(axis=1)
        votes.append(int(((residual < 40) & (alpha > 0.3)).sum()))
    return np.array(votes)


def _shape_kind(crop: np.ndarray, color: str) -> str:
    """A filled square covers its box, a circle about 79% of it, a triangle half."""
    cover = _near(crop, _rgb(color), 120).mean()
    return "rectangle" if cover > 0.9 else "circle" if cover > 0.65 else "triangle"


def _symbols(p: Play) -> list[Symbol]:
    """The letters, digits and shapes of the grid: kind and text from the outline (a shape has no name),
    colour, shape and size from the pixels in each one's box. Boxes wider than a grid cell (the drop
    boxes of the drag tasks) are not items."""
    found = []
    for element_id, name, _ in p.elements("graphics-symbol"):
        box = p.env.unwrapped.snap.boxes[element_id]
        if box[2] > 30:
            continue
        crop = p.pixels(box)
        color = SHAPE_COLORS[_palette_votes(crop).argmax()]
        kind = ("digit" if name.isdigit() else "letter") if name else "shape"
        found.append(Symbol(element_id, kind, name or _shape_kind(crop, color), color, box[3] > 15))
    return found


def _matches(symbol: Symbol, description: str) -> bool:
    """Whether the item fits a description such as `large red circle`, `blue letter`, `small item`, `5`."""
    words = description.split()
    size = words.pop(0) if words[0] in ("large", "small") else None
    color = words.pop(0) if len(words) > 1 and words[0] in SHAPE_COLORS else None
    return ((size is None or symbol.large == (size == "large")) and (color is None or symbol.color == color)
            and words[0] in ("item", symbol.kind, symbol.text))


@policy("count-shape")
def _count_shape(p: Play) -> None:
    description = re.match(r"How many (.+)s are there\?", p.goal).group(1)
    count = sum(_matches(symbol, description) for symbol in _symbols(p))
    p.click(p.find(str(count), "button"))


@policy("click-shape")
def _click_shape(p: Play) -> None:
    description = re.match(r"Click on an? (.+)", p.goal).group(1)
    covered = {element_id for element_id, _, rest in p.elements("graphics-symbol") if "covered" in rest}
    fitting = [symbol.id for symbol in _symbols(p) if _matches(symbol, description)]
    p.click(min(fitting, key=lambda element_id: element_id in covered))  # one on top, where there is one


def _drop_boxes(p: Play) -> list[Box]:
    """The drop boxes of the drag tasks, left to right: the outlined rectangles wider than a grid cell."""
    boxes = [p.env.unwrapped.snap.boxes[i] for i in p.ids("graphics-symbol")]
    return sorted(box for box in boxes if box[2] > 30)


def _drag_into(p: Play, symbol: Symbol, box: Box) -> None:
    """Drag by the item's middle to the box's middle (the page puts the item's corner near the pointer,
    and counts it as inside when that corner is)."""
    x, y, w, h = box
    p.drag_xy(*p.center(symbol.id), x + w / 2, y + h / 2)


def _plural_kind(word: str) -> str:
    return {"rectangles": "rectangle", "circles": "circle", "triangles": "triangle"}[word]


@policy("drag-shapes")
def _drag_shapes(p: Play) -> None:
    kind = _plural_kind(re.match(r"Drag all (\w+) into the black box", p.goal).group(1))
    box = _drop_boxes(p)[0]
    for symbol in _symbols(p):
        if symbol.text == kind:
            _drag_into(p, symbol, box)
    p.submit()


@policy("drag-shapes-2")
def _drag_shapes_2(p: Play) -> None:
    what = re.match(r"Drag all (\w+) (?:shapes )?into the left box", p.goal).group(1)
    left, right = _drop_boxes(p)
    for symbol in _symbols(p):
        chosen = symbol.color == what if what in SHAPE_COLORS else symbol.text == _plural_kind(what)
        _drag_into(p, symbol, left if chosen else right)
    p.submit()
