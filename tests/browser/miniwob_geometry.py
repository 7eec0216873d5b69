"""Reference policies for MiniWoB++ pages drawn on SVG or worked by the pointer alone: points placed by
geometry (bisect an angle, a circle's centre, a midpoint, a right angle, a grid coordinate), freehand
drawing (a circle, a line), a pie menu, a box drag, and the hot-cold search by mouse-move feedback.

Everything is read from what an agent gets: element boxes of the outline, its text, screenshot pixels;
nothing here reads the page's DOM or scripts, and nothing acts except through coachgym actions.
"""

from __future__ import annotations

import math
import re

import numpy as np

from tests.browser.miniwob_play import Play, policy

QUERY_HEIGHT = 50  # the instruction bar above every task area, in CSS pixels


def _box(p: Play, element_id: str) -> tuple[float, float, float, float]:
    return p.env.unwrapped.snap.boxes[element_id]


def _svg(p: Play) -> tuple[str, list[str]]:
    """The drawing's id and its shapes' ids, in drawing order."""
    svg = p.ids("graphics")[0]
    return svg, p.ids("graphics-symbol")


def _blue_share(p: Play, element_id: str) -> float:
    """How much of the element's box the screenshot shows in blue (a line drawn across it is not)."""
    pixels = p.pixels(_box(p, element_id))
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return float(((blue > 150) & (red < 100) & (green < 100)).mean())


def _place_point(p: Play, svg: str, x: float, y: float) -> None:
    """Put the page's marker point on (x, y). These pages plot a click at (pageX, pageY - QUERY_HEIGHT) in the
    drawing's own coordinates, so the marker lands offset by where the drawing sits below the query; the
    click makes up for that offset, which a person would see (and correct) on the first marker."""
    left, top, _, _ = _box(p, svg)
    p.click_xy(round(x - left), round(y - top + QUERY_HEIGHT))  # the page reads whole pixels


# ----------------------------------------------------------------------------------- points by geometry
@policy("circle-center")
def _circle_center(p: Play) -> None:
    svg, (circle,) = _svg(p)
    _place_point(p, svg, *p.center(circle))
    p.submit()


@policy("find-midpoint")
def _find_midpoint(p: Play) -> None:
    svg, (a, b) = _svg(p)
    (ax, ay), (bx, by) = p.center(a), p.center(b)
    _place_point(p, svg, (ax + bx) / 2, (ay + by) / 2)
    p.submit()


def _corners(box: tuple[float, float, float, float]) -> list[tuple[float, float]]:
    x, y, w, h = box
    return [(x, y), (x + w, y), (x, y + h), (x + w, y + h)]


@policy("bisect-angle")
def _bisect_angle(p: Play) -> None:
    """The vertex is the point both legs end at; the answer lies on the sum of the legs' unit vectors, no
    farther out than the shorter leg so it stays inside the drawing."""
    svg, shapes = _svg(p)
    points = [s for s in shapes if _box(p, s)[2] < 10 and _box(p, s)[3] < 10]
    legs = [_corners(_box(p, s)) for s in shapes if s not in points]

    def ends_legs(point: str) -> int:
        x, y = p.center(point)
        return sum(any(math.dist((x, y), corner) < 3 for corner in leg) for leg in legs)

    vertex = max(points, key=ends_legs)
    vx, vy = p.center(vertex)
    arms = [np.subtract(p.center(s), (vx, vy)) for s in points if s != vertex]
    direction = sum(arm / np.linalg.norm(arm) for arm in arms)
    if np.linalg.norm(direction) < 1e-6:  # a straight angle: its bisector is perpendicular to both legs
        direction = np.array([-arms[0][1], arms[0][0]])
    reach = min(np.linalg.norm(arm) for arm in arms)
    x, y = np.array((vx, vy)) + direction / np.linalg.norm(direction) * reach
    _place_point(p, svg, x, y)
    p.submit()


@policy("right-angle")
def _right_angle(p: Play) -> None:
    """The vertex is the blue point; the answer is on the perpendicular to the line through it, on whichever
    side leaves room inside the drawing."""
    svg, shapes = _svg(p)
    points = [s for s in shapes if _box(p, s)[2] < 10 and _box(p, s)[3] < 10]
    vertex = max(points, key=lambda point: _blue_share(p, point))
    other = next(s for s in points if s != vertex)
    (vx, vy), (ox, oy) = p.center(vertex), p.center(other)
    normal = np.array([-(oy - vy), ox - vx]) / math.dist((vx, vy), (ox, oy))
    left, top, width, height = _box(p, svg)

    def room(point: np.ndarray) -> float:
        return min(point[0] - left, left + width - point[0], point[1] - top, top + height - point[1])

    x, y = max((np.array((vx, vy)) + sign * reach * normal for sign in (1, -1) for reach in (40, 30, 20)),
               key=lambda point: min(room(point), 8.0) + 0.01 * math.dist(point, (vx, vy)))
    _place_point(p, svg, x, y)
    p.submit()


@policy("grid-coordinate")
def _grid_coordinate(p: Play) -> None:
    """The axis labels place each coordinate: the x labels lie in a row below the origin, the y labels in a
    column beside it (the page lists the x row first); 0 is the origin's."""
    x_value, y_value = re.search(r"\((-?\d+),(-?\d+)\)", p.goal).groups()
    points = p.ids("graphics-symbol")
    origin_x, origin_y = p.center(p.find("0", "generic"))
    x = origin_x if x_value == "0" else p.center(p.find(x_value, "generic", nth=0))[0]
    y = origin_y if y_value == "0" else p.center(p.find(y_value, "generic", nth=1))[1]
    columns = sorted({p.center(point)[0] for point in points}, key=lambda cx: abs(cx - x))
    rows = sorted({p.center(point)[1] for point in points}, key=lambda cy: abs(cy - y))
    p.click(next(point for point in points if p.center(point) == (columns[0], rows[0])))


# ----------------------------------------------------------------------------------- drawing
@policy("draw-circle")
def _draw_circle(p: Play) -> None:
    """One stroke of 12 points on a circle of radius 25 round the dot, started on the side that faces the
    drawing's middle so the press lands on the drawing."""
    svg, (dot,) = _svg(p)
    cx, cy = p.center(dot)
    left, top, width, height = _box(p, svg)
    start = math.atan2(top + height / 2 - cy, left + width / 2 - cx)
    ring = [(cx + 25 * math.cos(start + k * math.pi / 6), cy + 25 * math.sin(start + k * math.pi / 6))
            for k in range(13)]
    strokes = [f"mouse_down({ring[0][0]:.1f}, {ring[0][1]:.1f})"]
    strokes += [f"mouse_move({x:.1f}, {y:.1f})" for x, y in ring[1:]]
    strokes.append(f"mouse_up({ring[-1][0]:.1f}, {ring[-1][1]:.1f})")
    p.unmirrored("\n".join(strokes))
    p.submit()


@policy("draw-line")
def _draw_line(p: Play) -> None:
    """A straight stroke through the dot (passing just above or left of its middle, where the page's own
    reckoning puts the dot), within the drawing."""
    svg, (dot,) = _svg(p)
    cx, cy = p.center(dot)
    left, top, width, height = _box(p, svg)
    if "horizontal" in p.goal:
        y = cy - 2
        points = [(max(left + 3, cx - 30), y), (cx - 4, y), (min(left + width - 3, cx + 30), y)]
    else:
        x = cx - 2
        points = [(x, max(top + 3, cy - 30)), (x, cy - 4), (x, min(top + height - 3, cy + 30))]
    (x0, y0), (x1, y1), (x2, y2) = points
    p.unmirrored(f"mouse_down({x0:.1f}, {y0:.1f})\nmouse_move({x1:.1f}, {y1:.1f})\n"
                 f"mouse_move({x2:.1f}, {y2:.1f})\nmouse_up({x2:.1f}, {y2:.1f})")
    p.submit()


# ----------------------------------------------------------------------------------- widgets by pointer
@policy("click-pie", "click-pie-nodelay")
def _click_pie(p: Play) -> None:
    """Expand the menu, click the item's label. The one item the menu starts with selected (the bottom one)
    brings itself to the front of the drawing on every mouseover, which detaches the node under the pointer,
    so Chromium sends the press and release to the drawing instead and nothing happens. The menu ignores
    hovering while it animates, so on the animated page the policy folds and at once unfolds the menu and
    clicks the label while the slices settle back (twice at most). The nodelay page does not animate: there
    that item cannot be clicked with a real pointer (seeds 9, 10 and 15 of 0-19; not 11 or 12)."""
    p.click(p.find("+", "graphics-symbol"))
    animated = "nodelay" not in p.env.unwrapped.task.id
    if animated:
        p.wait(1500)  # the slices fly out
    label = p.find(p.quoted()[0], "graphics-symbol")
    (x, y), (sx, sy) = p.center(label), p.center(p.find("-", "graphics-symbol"))
    # not mirrored: the reference env gets no verdict from the same click, by element or at the same point
    p.unmirrored(f'click("{label}")')
    for _ in range(2 if animated else 0):  # a second go when the machine was too slow for the first
        if p.done:
            return
        p.unmirrored(f"click_xy({sx:.1f}, {sy:.1f})\nclick_xy({sx:.1f}, {sy:.1f})\nwait(100)\n"
                     f"click_xy({round(x)}, {round(y)})")


@policy("drag-box")
def _drag_box(p: Play) -> None:
    p.drag(p.find("s", "generic"), p.find("L", "generic"))
    p.submit()


# ----------------------------------------------------------------------------------- search by feedback
SIGNALS = ("HOT", "WARM", "COLD", "ICE COLD")  # the page's answer to a pointer closer than 5, 10, 40 px, or not
SIGNAL_RADII = np.array([5.0, 10.0, 40.0])
SCORED_SAMPLE = 1500  # candidates a probe is scored on; all of them decide when the answer is sure
MAX_PROBES = 15


def _framed_area(screenshot: np.ndarray) -> tuple[int, int, int, int]:
    """Left, top, right, bottom of the inside of the one box drawn with a dark frame (the touch area)."""
    dark = screenshot.sum(axis=2) < 150
    rows = np.nonzero(dark.sum(axis=1) > dark.shape[1] / 2)[0]
    columns = np.nonzero(dark.sum(axis=0) > (rows[-1] - rows[0]) / 2)[0]
    return columns[0] + 1, rows[0] + 1, columns[-1] - 1, rows[-1] - 1


def _signal_bands(probes: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Index into SIGNALS of what each probe (rows) would show for each possible target (columns)."""
    distances = np.hypot(probes[:, None, 0] - targets[None, :, 0], probes[:, None, 1] - targets[None, :, 1])
    return np.searchsorted(SIGNAL_RADII, distances, side="right")


@policy("hot-cold")
def _hot_cold(p: Play) -> None:
    """Narrow down where the hot spot can be: each probe is the mouse position whose signal would split the
    remaining candidates most evenly; click as soon as one point is within 5 px of every candidate (or the
    last probe said HOT). The signal is the text the page shows under the area."""
    left, top, right, bottom = _framed_area(p.obs["screenshot"])
    xs, ys = np.meshgrid(np.arange(left, right + 1), np.arange(top, bottom + 1), indexing="ij")
    candidates = np.stack([xs.ravel(), ys.ravel()], axis=1)
    for _ in range(MAX_PROBES):
        low = np.maximum(candidates.min(axis=0) - 40, (left, top))
        high = np.minimum(candidates.max(axis=0) + 40, (right, bottom))
        spacing = max(1, math.ceil(math.sqrt(np.prod(high - low + 1) / 1500)))
        gx, gy = np.meshgrid(np.arange(low[0], high[0] + 1, spacing), np.arange(low[1], high[1] + 1, spacing),
                             indexing="ij")
        probes = np.stack([gx.ravel(), gy.ravel()], axis=1)
        if len(candidates) <= SCORED_SAMPLE:
            sure = (_signal_bands(probes, candidates) == 0).all(axis=1)
            if sure.any():
                p.click_xy(*probes[np.argmax(sure)])
                return
        bands = _signal_bands(probes, candidates[:: max(1, len(candidates) // SCORED_SAMPLE)])
        split = sum(((bands == band).sum(axis=1).astype(float)) ** 2 for band in range(len(SIGNALS)))
        probe = probes[np.argmin(split)]
        p.unmirrored(f"mouse_move({probe[0]}, {probe[1]})")
        shown = [name for _, name, _ in p.elements("generic") if name in SIGNALS]
        if not shown:
            raise AssertionError(f"no signal under the area after a probe at {probe}:\n{p.text}")
        if shown[-1] == "HOT":
            p.click_xy(*probe)
            return
        candidates = candidates[_signal_bands(probe[None], candidates)[0] == SIGNALS.index(shown[-1])]
    raise AssertionError(f"{len(candidates)} places for the hot spot left after {MAX_PROBES} probes")
