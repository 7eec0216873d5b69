"""Carrying out one browser action on the active tab: the Playwright side of `actions.py`.

`Performer.run(action)` does exactly what the action's doc promises or raises `ActionError`
(or Playwright's own error, which the env turns into one) saying why it could not; where the page
itself cut an action short (it disabled a field being typed into), `run` returns a note for the
observation instead, since that is the page's behaviour for the agent to see, not its mistake. Element ids
are validated against the last observation before they reach a selector, and file uploads carry
only bytes the agent wrote, never a path on this machine. It knows nothing about tasks, scoring
or rendering the observation (`env.py`, `observe.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

from playwright.sync_api import Locator, Page

from coachgym.envs.actions import ActionError, ParsedAction
from coachgym.envs.browser.observe import ID_ATTR, Snapshot
from coachgym.envs.browser.session import BrowserSession

TYPE_KEYS_MAX = 256  # longer text is inserted at once: key by key it would take seconds
_EDITABLE = ("e => e.isContentEditable || (['INPUT', 'TEXTAREA'].includes(e.tagName) && !e.disabled && !e.readOnly "
             "&& !['checkbox', 'radio', 'file'].includes(e.type))")
# Counts the typed characters that reach the field while it can take them (it or, in a rich-text editor, an
# element inside it): a key press, or an insertion without one (Playwright inserts characters that are not on the
# keyboard layout). A disabled field can keep the focus for a moment, so its key presses are checked one by one.
_COUNT_KEYS = f"""e => {{ const tally = {{keys: 0, pressed: false}}, editable = {_EDITABLE};
    const inside = (ev) => (ev.target === e || e.contains(ev.target)) && editable(e);
    const handlers = {{keydown: (ev) => {{ tally.pressed = true; if (inside(ev)) tally.keys++; }},
                      keyup: () => {{ tally.pressed = false; }},
                      input: (ev) => {{ if (!tally.pressed && inside(ev)) tally.keys++; }}}};
    for (const [type, handler] of Object.entries(handlers)) window.addEventListener(type, handler, true);
    tally.stop = () => {{ for (const [type, handler] of Object.entries(handlers))
        window.removeEventListener(type, handler, true); return tally.keys; }};
    return tally; }}"""
DRAG_STEPS = 8  # intermediate mouse moves, so drag libraries (jQuery UI, HTML5 DnD) see a real drag
MAX_UPLOAD_CHARS = 1_000_000
_KEY_ALIASES = {"ctrl": "Control", "control": "Control", "cmd": "Meta", "command": "Meta", "meta": "Meta",
                "alt": "Alt", "option": "Alt", "shift": "Shift", "esc": "Escape", "return": "Enter",
                "del": "Delete", "space": " "}


def _element_id(raw: str) -> str:
    return raw.strip().strip("[]'\"")


def normalize_keys(key: str) -> str:
    """`ctrl+A` -> `Control+A`: the spellings models use, in Playwright's key names."""
    parts = [part.strip() for part in key.split("+")] if key.strip() != "+" else ["+"]
    if any(not part for part in parts):
        raise ActionError(f"Key combination {key!r} has an empty part; write keys as e.g. Control+a or Shift+Tab.")
    return "+".join(_KEY_ALIASES.get(part.lower(), part) for part in parts)


class Performer:
    """Runs actions for one env; `snap` is the observation the agent acted on (its ids and boxes)."""

    def __init__(self, session: BrowserSession, snap: Snapshot, config: Any):
        self.session = session
        self.snap = snap
        self.config = config
        self.points: list[tuple[float, float]] = []  # where the action put the pointer (viewport CSS px)

    @property
    def page(self) -> Page:
        return self.session.page

    def run(self, action: ParsedAction) -> str | None:
        """Carry out the action; returns a note for the observation when the page cut it short."""
        handler: Callable[..., str | None] = getattr(self, f"_{action.name}")
        return handler(**action.args)

    # ----------------------------------------------------------------- elements
    def locate(self, element_id: str) -> Locator:
        element_id = _element_id(element_id)
        if element_id not in self.snap.boxes:
            raise ActionError(f"There is no element with id {element_id!r} on the page; use an id shown in brackets.")
        frame = self.snap.frame_of(element_id)
        if frame is None:
            raise ActionError(f"The frame holding element {element_id!r} is gone; look at the new page.")
        return frame.locator(f'[{ID_ATTR}="{element_id}"]')

    def _center(self, element_id: str) -> tuple[float, float]:
        element = self.locate(element_id)
        element.scroll_into_view_if_needed()
        box = element.bounding_box()
        if box is None or box["width"] == 0 or box["height"] == 0:
            raise ActionError(f"Element {element_id} has no visible box to point the mouse at.")
        center = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        self.points.append(center)
        return center

    def _inside(self, x: float, y: float) -> None:
        """Refuse a point outside the viewport; record one inside as where the pointer went."""
        if x > self.config.viewport_width or y > self.config.viewport_height:
            raise ActionError(f"({x}, {y}) is outside the {self.config.viewport_width}x"
                              f"{self.config.viewport_height} viewport.")
        self.points.append((x, y))

    # ----------------------------------------------------------------- pointer
    def _hovered(self, id: str) -> Locator:
        """The element, with the pointer already on it where the page reacts to hover. A click moves the pointer
        and presses at once, so an element that reacts to the hover by changing its box (an icon whose hover
        image is still loading has no width; MiniWoB's social-media) gets the press on whatever slid under the
        pointer and the release on itself, and the click event goes to their common ancestor. Hovering first
        lets the click's own visible-and-stable wait see that reaction and press only once the element is back
        in place. The pointer goes to the middle of the box the agent was shown, one input event (2 ms against
        13 ms for a locator hover, which resolves and scrolls first; an element shown off screen gets that one).
        On a page with no :hover style and no hover handler the hover is skipped: it would cost the click a whole
        animation frame (perf/browser_step.py, MiniWoB: 1.0-1.3x raw Playwright without it, 1.5-1.7x with it)."""
        element = self.locate(id)
        element_id = _element_id(id)
        x, y, width, height = self.snap.boxes[element_id]
        middle_x, middle_y = x + width / 2, y + height / 2
        on_screen = 0 <= middle_x < self.config.viewport_width and 0 <= middle_y < self.config.viewport_height
        if on_screen:
            self.points.append((middle_x, middle_y))
        if not self.snap.reacts_to_hover(element_id):
            return element
        if width and height and on_screen:
            self.page.mouse.move(middle_x, middle_y)
        else:
            element.hover(force=True)
        return element

    def _click(self, id: str) -> None:
        self._hovered(id).click()

    def _dblclick(self, id: str) -> None:
        self._hovered(id).dblclick()

    def _click_xy(self, x: float, y: float) -> None:
        self._inside(x, y)
        self.page.mouse.click(x, y)

    def _hover(self, id: str) -> None:
        self.locate(id).hover()

    def _mouse_move(self, x: float, y: float) -> None:
        self._inside(x, y)
        self.page.mouse.move(x, y)

    def _mouse_down(self, x: float, y: float) -> None:
        self._inside(x, y)
        self.page.mouse.move(x, y)
        self.page.mouse.down()

    def _mouse_up(self, x: float, y: float) -> None:
        self._inside(x, y)
        self.page.mouse.move(x, y)
        self.page.mouse.up()

    def _drag(self, from_id: str, to_id: str) -> None:
        start = self._center(from_id)
        self.locate(to_id)  # fail on a bad target before pressing the button
        self.page.mouse.move(*start)
        self.page.mouse.down()
        try:
            self.page.mouse.move(start[0] + 3, start[1] + 3, steps=2)  # past drag libraries' start distance
            end = self._center(to_id)
            self.page.mouse.move(*end, steps=DRAG_STEPS)
        finally:
            self.page.mouse.up()

    def _drag_xy(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self._inside(x1, y1)
        self._inside(x2, y2)
        self.page.mouse.move(x1, y1)
        self.page.mouse.down()
        self.page.mouse.move(x2, y2, steps=DRAG_STEPS)
        self.page.mouse.up()

    def _scroll(self, dx: float, dy: float, id: str = "") -> None:
        if not id:
            self.page.mouse.wheel(dx, dy)
            return
        moved = self.locate(id).evaluate(
            """(e, [dx, dy]) => { const before = [e.scrollLeft, e.scrollTop]; e.scrollBy(dx, dy);
                return before[0] !== e.scrollLeft || before[1] !== e.scrollTop || (dx === 0 && dy === 0); }""",
            [dx, dy])
        if not moved:
            raise ActionError(f"Element {id} did not scroll (it is not scrollable that way, or already at the end); "
                              "scroll the page with scroll(dx, dy) or pick the scrollable container.")

    # ----------------------------------------------------------------- keyboard and forms
    def _type(self, id: str, text: str, enter: bool = False) -> str | None:
        """A field that cannot take text when the action starts (not editable, or not visible and enabled within
        the action timeout) is the agent's mistake: the action is invalid and nothing changes. Once keys flow,
        what the page does is its own behaviour, as for a user at a keyboard (MiniWoB's login-user-popup
        disables the form midway on purpose): the keys that landed stay, nothing is put back, and the note
        says how many landed and what stopped the rest. How long the page takes to handle each key is its
        own business too (a jQuery UI autocomplete rebuilds its menu per key); only the step deadline bounds
        a page that stops responding."""
        element = self.locate(id)
        if not element.evaluate(_EDITABLE):
            raise ActionError(f"Element {id} is not a text field that can be edited; type into an enabled input, "
                              "textarea or editable element.")
        if len(text) > TYPE_KEYS_MAX:
            element.fill(text)
        else:
            element.fill("")  # waits until the field can take text
            tally = element.evaluate_handle(_COUNT_KEYS)
            element.press_sequentially(text, timeout=0)
            landed = tally.evaluate("t => t.stop()")
            if landed < len(text):
                return self._cut_short(id, element, landed, len(text), enter)
        if enter:
            element.press("Enter")
        return None

    @staticmethod
    def _cut_short(id: str, element: Locator, landed: int, total: int, enter: bool) -> str:
        what = ("removed" if not element.count() else "disabled or made read-only" if not element.evaluate(_EDITABLE)
                else "moved the focus away from")
        return (f"Typing into element {id} was cut short: the page {what} it after {landed} of {total} keys, so "
                f"the rest went to whatever had the focus{' and Enter was not pressed' if enter else ''}. "
                "The field keeps what landed; look at the page before typing again.")

    def _press(self, key: str, id: str = "") -> None:
        keys = normalize_keys(key)
        if id:
            self.locate(id).press(keys)
        else:
            self.page.keyboard.press(keys)

    def _select(self, id: str, option: Any) -> None:
        options = [option] if isinstance(option, str) else option
        if not isinstance(options, list) or not options or not all(isinstance(o, str) for o in options):
            raise ActionError('select takes one option as text or a list of texts, e.g. select("9", ["a", "b"]).')
        element = self.locate(id)
        kind = element.evaluate("e => e.tagName === 'SELECT' ? (e.multiple ? 'multiple' : 'single') : ''")
        if not kind:
            raise ActionError(f"Element {id} is not a drop-down or list box; click its options instead.")
        if kind == "single" and len(options) > 1:
            raise ActionError(f"Element {id} takes one option; {len(options)} were given.")
        values = element.evaluate(
            """(e, wanted) => wanted.map((w) => { const t = w.trim();
                const o = Array.from(e.options).find((o) => o.value === w || o.text.trim() === t);
                return o ? o.value : null; })""", options)
        missing = [wanted for wanted, value in zip(options, values) if value is None]
        if missing:
            raise ActionError(f"Element {id} has no option {missing[0]!r}; use a text from its options=[...].")
        element.select_option(values)

    def _upload(self, id: str, name: str, content: str = "") -> None:
        element = self.locate(id)
        if element.evaluate("e => e.tagName !== 'INPUT' || e.type !== 'file'"):
            raise ActionError(f"Element {id} is not a file input; upload into an element shown as "
                              "`button ... file`.")
        if len(content) > MAX_UPLOAD_CHARS:
            raise ActionError(f"The file content is {len(content)} characters; the limit is {MAX_UPLOAD_CHARS}.")
        base = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "upload.txt"
        element.set_input_files({"name": base, "mimeType": "text/plain", "buffer": content.encode("utf-8")})

    def _wait(self, ms: int) -> None:
        self.page.wait_for_timeout(ms)

    # ----------------------------------------------------------------- navigation and tabs
    def reachable(self, url: str) -> str:
        """`url` resolved against the current page, or an `ActionError` saying why it may not be opened."""
        target = urljoin(self.page.url, url.strip())
        refusal = self.session.boundary.refusal(target)
        if refusal:
            raise ActionError(refusal)
        return target

    def _goto(self, url: str) -> None:
        self.page.goto(self.reachable(url), wait_until="load")

    def _go_back(self) -> None:
        if self.page.go_back(wait_until="load") is None:
            raise ActionError("There is no previous page in this tab.")

    def _go_forward(self) -> None:
        if self.page.go_forward(wait_until="load") is None:
            raise ActionError("There is no next page in this tab.")

    def _new_tab(self, url: str = "") -> None:
        target = self.reachable(url) if url else ""
        page = self.session.new_page()
        if target:
            page.goto(target, wait_until="load")

    def _switch_tab(self, index: int) -> None:
        try:
            self.session.switch(index)
        except IndexError as error:
            raise ActionError(str(error)) from None

    def _close_tab(self) -> None:
        self.session.close_active()
