"""MiniWoB++ policies for interactive widgets and games: jQuery UI sliders and datepickers, a sortable grid,
a calendar, a draggable cube, a live stock ticker, text highlighting and tic-tac-toe.

Policies read the outline, the element boxes and, where a page draws its state only as pixels, the
screenshot; they act only through coachgym actions.
"""

from __future__ import annotations

import re

from tests.browser.miniwob_play import ORDINALS, Play, policy


# ----------------------------------------------------------------------------------- sliders
def _set_slider(p: Play, handle: str, value_id: str, wanted: int) -> None:
    """Move a jQuery UI slider with its keyboard: each arrow key is one step (Up/Right increase); the page shows
    the value in a text element next to the handle, which the outline reads."""
    current = int(next(name for i, name, _ in p.elements() if i == value_id))
    if current != wanted:
        key = "ArrowRight" if wanted > current else "ArrowLeft"
        p.unmirrored("; ".join(f'press("{key}", "{handle}")' for _ in range(abs(wanted - current))))


def _sliders(p: Play) -> list[tuple[str, str]]:
    """(handle id, id of the value text right after it) of each slider."""
    rows = p.elements()
    return [(rows[k][0], rows[k + 1][0]) for k, (_, _, rest) in enumerate(rows) if "ui-slider-handle" in rest]


@policy("use-slider")
def _use_slider(p: Play) -> None:
    _set_slider(p, *_sliders(p)[0], int(re.search(r"Select (-?\d+) with", p.goal).group(1)))
    p.submit()


@policy("use-slider-2")
def _use_slider_2(p: Play) -> None:
    wanted = [int(v) for v in re.search(r"\[([-\d,]+)\]", p.goal).group(1).split(",")]
    for (handle, value_id), value in zip(_sliders(p), wanted):
        _set_slider(p, handle, value_id, value)
    p.submit()


@policy("form-sequence")
def _form_sequence(p: Play) -> None:
    value, box = re.search(r"Select (-?\d+) with the slider, click the (\d\w\w) checkbox", p.goal).groups()
    _set_slider(p, *_sliders(p)[0], int(value))
    p.click(p.ids("checkbox")[ORDINALS[box]])
    p.submit()


# ----------------------------------------------------------------------------------- date picker
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


@policy("choose-date", "choose-date-easy", "choose-date-medium", "choose-date-nodelay")
def _choose_date(p: Play) -> None:
    """Open the jQuery UI datepicker, page to the month (its title reads 'December 2016') with PageUp/PageDown on the
    field, all presses in one step (clicking Prev eleven times can outlast the page's 20 s), then click the day."""
    month, day, year = (int(v) for v in re.search(r"(\d\d)/(\d\d)/(\d{4})", p.goal).groups())
    p.click(p.ids("textbox")[0])
    for _ in range(2):
        names = [name for _, name, _ in p.elements("generic")]
        shown_month = next(MONTHS.index(name) + 1 for name in names if name in MONTHS)
        shown_year = int(next(name for name in names if re.fullmatch(r"\d{4}", name)))
        offset = (year - shown_year) * 12 + month - shown_month
        if offset == 0:
            break
        field = p.ids("textbox")[0]
        p.unmirrored("; ".join(f'press("{"PageDown" if offset > 0 else "PageUp"}", "{field}")' for _ in range(abs(offset))))
    p.click(p.find(str(day), "link"))
    p.submit()


# ----------------------------------------------------------------------------------- sortable grid
GRID_PLACES = {"top left": 0, "top center": 1, "top right": 2, "center left": 3, "center": 4, "center right": 5,
               "bottom left": 6, "bottom center": 7, "bottom right": 8}
GRID_MOVES = {"up": -3, "down": 3, "left": -1, "right": 1}


@policy("drag-items-grid")
def _drag_items_grid(p: Play) -> None:
    """A 3x3 jQuery UI sortable of floating items. The mouse jumps (single moves pass over no other item, which
    would reorder the grid on the way) into the target's near half, then moves across it away from the item's
    old place: ending in the right half moving right puts the item after the target, in the left half moving
    left before it, which is the target's place either way (if the first jump already put it there, the
    target has moved aside and the second move lands on the gap). Both points keep 20 px from the viewport's
    edges, where the sortable would scroll the page under the pointer."""
    name, where = re.search(r"Drag (.*?) (?:to the )?(top left|top center|top right|center left|center right|center|"
                            r"bottom left|bottom center|bottom right|up|down|left|right)(?: by one)?\.", p.goal).groups()
    items = p.ids("listitem")
    source = items.index(p.find(name, "listitem"))
    target = GRID_PLACES[where] if where in GRID_PLACES else source + GRID_MOVES[where]
    x1, y1 = p.center(items[source])
    left, top, w, h = p.env.unwrapped.snap.boxes[items[target]]
    near, far = (left + 0.25 * w, left + 0.75 * w) if target > source else (left + 0.75 * w, left + 0.25 * w)
    y2 = top + h / 2
    p.unmirrored(f"mouse_down({x1}, {y1}); mouse_move({x1 + 2}, {y1}); mouse_move({near}, {y2}); "
                 f"mouse_move({far}, {y2}); mouse_up({far}, {y2})")
