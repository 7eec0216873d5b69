"""What the agent sees of the browser: the element-id outline, the screenshot, set-of-marks.

`snapshot` runs the injected `snapshot.js` once per frame (main frame first), so every element
gets a stable id and child frames are spliced under their <iframe> line with the iframe's id as
prefix; the result also maps each id back to its frame, which is how actions find elements.
Text has an explicit budget (`BrowserConfig.element_text_chars` per element, `outline_chars` for
the whole outline); whatever is cut says so in the outline, never silently.
This module reads the page; it must not change what the page does (stamping an id attribute
is the only write).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw
from playwright.sync_api import Error, Frame, Page

from coachgym.envs.browser.session import JS_DIR, BrowserConfig

SNAPSHOT_JS = (JS_DIR / "snapshot.js").read_text(encoding="utf-8")
ID_ATTR = "data-cg-id"
HIDE_ATTR = "data-cg-hide"  # set by the env on its own scaffolding (MiniWoB's reward display): not outlined
FRAME_SEPARATOR = "-"


@dataclass
class Snapshot:
    """One rendering of the active tab: outline lines, element boxes (CSS px) and id -> frame."""

    url: str = ""
    title: str = ""
    lines: list[str] = field(default_factory=list)
    boxes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    frames: dict[str, Frame] = field(default_factory=dict)
    hover_styles: set[str] = field(default_factory=set)  # prefixes of frames with :hover style rules
    hover_ids: set[str] = field(default_factory=set)  # elements that listen (or sit inside one that listens) for hover

    def reacts_to_hover(self, element_id: str) -> bool:
        """Whether hovering could change the element (else a click need not hover it first)."""
        return element_id in self.hover_ids or _frame_prefix(element_id) in self.hover_styles

    def frame_of(self, element_id: str) -> Frame | None:
        """The frame holding `element_id`: the longest frame prefix the id starts with."""
        return self.frames.get(_frame_prefix(element_id))


def _frame_prefix(element_id: str) -> str:
    return element_id.rsplit(FRAME_SEPARATOR, 1)[0] + FRAME_SEPARATOR if FRAME_SEPARATOR in element_id else ""


def snapshot(page: Page, config: BrowserConfig) -> Snapshot:
    """Wait (bounded) for the page to settle, then render all its frames into one outline."""
    result = Snapshot(url=page.url)
    _render_frame(page.main_frame, "", 0, (0.0, 0.0), config, result, first=True)
    _apply_budget(result, config.outline_chars)
    return result


def snapshot_args(prefix: str, config: BrowserConfig, wait: bool) -> dict[str, object]:
    """The arguments of `snapshot.js` (also what perf/browser_step.py's raw baseline passes)."""
    return {"prefix": prefix, "attr": ID_ATTR, "hideAttr": HIDE_ATTR, "quietMs": config.settle_quiet_ms,
            "maxWaitMs": config.settle_max_ms if wait else 0, "maxText": config.element_text_chars}


def _apply_budget(result: Snapshot, budget: int) -> None:
    """Cut the outline at whole lines once it exceeds `budget` characters, and say how much was left out."""
    used = 0
    for index, line in enumerate(result.lines):
        used += len(line) + 1
        if used > budget:
            rest = len(result.lines) - index
            note = f"(outline cut at {budget} characters (outline_chars): {rest} more lines not shown; "
            result.lines[index:] = [note + "their elements keep their ids)"]
            return


def _render_frame(
    frame: Frame, prefix: str, depth: int, offset: tuple[float, float], config: BrowserConfig, out: Snapshot,
    first: bool = False,
) -> None:
    args = snapshot_args(prefix, config, wait=first)
    try:
        data = frame.evaluate(SNAPSHOT_JS, args)
    except Error as error:
        if first:
            raise
        out.lines.append("  " * depth + f"(frame not readable: {str(error).splitlines()[0]})")
        return
    out.frames[prefix] = frame
    if data["hoverStyles"]:
        out.hover_styles.add(prefix)
    out.hover_ids.update(data["hoverIds"])
    if first:
        out.title = data["title"]
    children = {}
    if any(frame_id for _, _, frame_id in data["lines"]):
        children = _child_frames(frame)
    for line_depth, text, frame_id in data["lines"]:
        out.lines.append("  " * (depth + line_depth) + text)
        if frame_id and frame_id in children:
            x, y, _, _ = data["boxes"][frame_id]
            _render_frame(children[frame_id], frame_id + FRAME_SEPARATOR, depth + line_depth + 1,
                          (offset[0] + x, offset[1] + y), config, out)
    for element_id, (x, y, w, h) in data["boxes"].items():
        out.boxes[element_id] = (offset[0] + x, offset[1] + y, w, h)


def _child_frames(frame: Frame) -> dict[str, Frame]:
    """Child frames keyed by the id stamped on their <iframe> element."""
    found = {}
    for child in frame.child_frames:
        try:
            element_id = child.frame_element().get_attribute(ID_ATTR)
        except Error:
            continue
        if element_id:
            found[element_id] = child
    return found


def screenshot(page: Page, config: BrowserConfig, boxes: dict[str, tuple[float, float, float, float]] | None = None,
               ) -> np.ndarray:
    """The viewport as an HxWx3 uint8 array; with `boxes`, element ids are drawn on it (set-of-marks)."""
    png = page.screenshot(type="png", scale="device", animations="allow", caret="initial")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    height, width = config.screenshot_shape
    if image.size != (width, height):  # a page zoomed or resized itself: keep the declared shape
        image = image.resize((width, height))
    if boxes:
        _draw_marks(image, boxes, config.device_scale_factor)
    return np.asarray(image, dtype=np.uint8)


def _draw_marks(image: Image.Image, boxes: dict[str, tuple[float, float, float, float]], scale: float) -> None:
    draw = ImageDraw.Draw(image)
    for element_id, (x, y, w, h) in boxes.items():
        left, top = x * scale, y * scale
        if left > image.width or top > image.height or left + w * scale < 0 or top + h * scale < 0:
            continue
        draw.rectangle([left, top, left + w * scale, top + h * scale], outline=(255, 0, 80), width=1)
        label_width = 6 * len(element_id) + 4
        draw.rectangle([left, top, left + label_width, top + 11], fill=(255, 0, 80))
        draw.text((left + 2, top), element_id, fill=(255, 255, 255))
