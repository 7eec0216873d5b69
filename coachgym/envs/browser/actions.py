"""The browser's action vocabulary, as data, plus WebArena's bracket syntax as a dialect.

Element ids are the `[id]` tags of the observation outline; they are text (ids inside an
iframe look like `7-3`). Everything an agent may do is listed here once; prompts, the parser,
experts and the random baseline all derive from this list. Executing actions lives in `env.py`.

One message may hold several actions (one per line, or separated by `;`); `BrowserActionSet`
parses all of them into one `sequence` action, or rejects the message saying which one is wrong.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Sequence

from coachgym.envs.actions import ActionArg, ActionError, ActionSet, ActionSpec, Dialect, ParsedAction, invalid_format

ELEMENT = ActionArg(name="id", type="str", doc="Element id from the page outline, e.g. \"12\".")
SEQUENCE = "sequence"
MAX_SEQUENCE = 20
MAX_WAIT_MS = 10_000


def _coordinate(name: str) -> ActionArg:
    return ActionArg(name=name, type="float", low=0, high=4096)


BROWSER_SPECS = [
    ActionSpec(name="click", doc="Click an element.", args=[ELEMENT], examples=['click("12")']),
    ActionSpec(name="dblclick", doc="Double-click an element.", args=[ELEMENT], examples=['dblclick("12")']),
    ActionSpec(
        name="click_xy",
        doc="Click at a point of the screenshot (for screenshot-driven agents): CSS pixels, or 0-999 where the "
        "observation says x/y are normalized.",
        args=[_coordinate("x"), _coordinate("y")],
        examples=["click_xy(80, 120)"],
    ),
    ActionSpec(
        name="type",
        doc="Replace the text of an input with `text`: typed key by key up to 256 characters, longer text "
        "is inserted at once. If the page disables, removes or moves the focus away from the field midway, "
        "what landed stays and the observation says how many keys did.",
        args=[
            ELEMENT,
            ActionArg(name="text", type="str"),
            ActionArg(name="enter", type="bool", optional=True, default=False, doc="Press Enter afterwards."),
        ],
        examples=['type("7", "blue mug")', 'type("7", "blue mug", enter=True)'],
    ),
    ActionSpec(
        name="press",
        doc="Press a key or key combination, on the focused element or (with `id`) on that element.",
        args=[ActionArg(name="key", type="str", doc="e.g. Enter, Tab, ArrowDown, Control+a, Control+Shift+ArrowLeft."),
              ActionArg(name="id", type="str", optional=True, default="", doc="Element to focus first.")],
        examples=['press("Enter")', 'press("Control+a", "7")'],
    ),
    ActionSpec(
        name="select",
        doc="Choose options of a drop-down or list box by visible text or value; a list selects several "
        "options of a multi-select (and deselects the others).",
        args=[ELEMENT, ActionArg(name="option", type="json", doc='One option ("Express") or a list (["a", "b"]).')],
        examples=['select("9", "Express")', 'select("9", ["Red", "Blue"])'],
    ),
    ActionSpec(
        name="scroll",
        doc="Scroll by dx, dy CSS pixels: the element `id` when given, else the page under the mouse.",
        args=[ActionArg(name="dx", type="float", low=-10000, high=10000),
              ActionArg(name="dy", type="float", low=-10000, high=10000),
              ActionArg(name="id", type="str", optional=True, default="", doc="Scrollable element to scroll.")],
        examples=["scroll(0, 400)", 'scroll(0, 200, "15")'],
    ),
    ActionSpec(name="hover", doc="Move the mouse over an element.", args=[ELEMENT], examples=['hover("12")']),
    ActionSpec(
        name="drag",
        doc="Drag one element onto another with the mouse (press, move in steps, release).",
        args=[ActionArg(name="from_id", type="str"), ActionArg(name="to_id", type="str")],
        examples=['drag("12", "15")'],
    ),
    ActionSpec(
        name="drag_xy",
        doc="Drag with the mouse from (x1, y1) to (x2, y2), viewport CSS pixels.",
        args=[_coordinate("x1"), _coordinate("y1"), _coordinate("x2"), _coordinate("y2")],
        examples=["drag_xy(20, 40, 120, 40)"],
    ),
    ActionSpec(name="mouse_move", doc="Move the mouse to (x, y) without pressing a button.",
               args=[_coordinate("x"), _coordinate("y")], examples=["mouse_move(80, 120)"]),
    ActionSpec(name="mouse_down", doc="Move the mouse to (x, y) and press the left button (hold it).",
               args=[_coordinate("x"), _coordinate("y")], examples=["mouse_down(80, 120)"]),
    ActionSpec(name="mouse_up", doc="Move the mouse to (x, y) and release the left button.",
               args=[_coordinate("x"), _coordinate("y")], examples=["mouse_up(140, 120)"]),
    ActionSpec(
        name="upload",
        doc="Put a file (name and text content, made up by you) into a file input.",
        args=[ELEMENT, ActionArg(name="name", type="str", doc="File name, e.g. notes.txt."),
              ActionArg(name="content", type="str", optional=True, default="")],
        examples=['upload("14", "cv.txt", "Jane Doe, engineer")'],
    ),
    ActionSpec(
        name="wait",
        doc=f"Wait this many milliseconds (at most {MAX_WAIT_MS}) for the page, e.g. for a menu or an animation.",
        args=[ActionArg(name="ms", type="int", low=0, high=MAX_WAIT_MS)],
        examples=["wait(500)"],
    ),
    ActionSpec(name="goto", doc="Open a URL in the current tab (local sites only).",
               args=[ActionArg(name="url", type="str")], examples=['goto("http://127.0.0.1:8000/shop/")']),
    ActionSpec(name="go_back", doc="Go back in the current tab's history."),
    ActionSpec(name="go_forward", doc="Go forward in the current tab's history."),
    ActionSpec(name="new_tab", doc="Open a new tab (optionally at a URL) and switch to it.",
               args=[ActionArg(name="url", type="str", optional=True, default="")], examples=["new_tab()"]),
    ActionSpec(name="switch_tab", doc="Switch to the tab with this index (see 'Tabs').",
               args=[ActionArg(name="index", type="int", low=0, high=99)], examples=["switch_tab(0)"]),
    ActionSpec(name="close_tab", doc="Close the current tab."),
    ActionSpec(name="answer", doc="Finish the task, giving the answer if the task asks a question.",
               args=[ActionArg(name="text", type="str", optional=True, default="")], terminal=True,
               examples=['answer("$12.50")', "answer()"]),
]

_WEBARENA = re.compile(r"(?:^|[Aa]ction\s*:)[ \t`*]*(\w+)((?:[ \t]*\[[^\]\n]*\])*)[ \t`*.]*$", re.MULTILINE)
_BRACKETS = re.compile(r"\[([^\]\n]*)\]")
_WEBARENA_NAMES = {
    "click": "click", "hover": "hover", "type": "type", "press": "press", "goto": "goto", "go_back": "go_back",
    "go_forward": "go_forward", "new_tab": "new_tab", "close_tab": "close_tab", "tab_focus": "switch_tab",
    "stop": "answer", "scroll": "scroll",
}


def webarena_dialect(text: str) -> ParsedAction | None:
    """WebArena syntax: `click [12]`, `type [7] [blue mug] [1]`, `scroll [down]`, `stop [answer]`, ...

    Returns None when the text has no such action, so the generic `name(args)` syntax is tried.
    """
    matches = [m for m in _WEBARENA.finditer(text) if m.group(1) in _WEBARENA_NAMES]
    if not matches:
        return None
    match = matches[-1]
    name, values = _WEBARENA_NAMES[match.group(1)], _BRACKETS.findall(match.group(2))
    if not values and match.group(1) not in ("go_back", "go_forward", "new_tab", "close_tab", "stop"):
        return None  # a bare word such as "click" is not WebArena syntax; let the generic parser explain
    args: dict[str, object] = {}
    if name in ("click", "hover"):
        args = {"id": values[0]}
    elif name == "type":
        args = {"id": values[0], "text": values[1] if len(values) > 1 else "",
                "enter": (values[2].strip() != "0") if len(values) > 2 else True}
    elif name == "press":
        args = {"key": values[0].strip().replace("Ctrl+", "Control+")}
    elif name == "goto":
        args = {"url": values[0]}
    elif name == "switch_tab":
        args = {"index": values[0]}
    elif name == "scroll":
        direction = values[0].strip().lower()
        args = {"dx": 0.0, "dy": {"down": 400.0, "up": -400.0}.get(direction, direction)}
    elif name == "answer":
        args = {"text": values[0] if values else ""}
    return ParsedAction(name=name, args=args, raw=text)


class BrowserActionSet(ActionSet):
    """`ActionSet` that also reads several calls in one message as a `sequence`, run in order by the env.

    Calls count from the first `Action:` marker (or the first call at the start of a line) on; a
    call name inside another call's quoted text is not a call. A sequence that cannot be read
    whole is rejected as a whole, naming the call that is wrong, so nothing runs half-parsed.
    """

    def __init__(self, specs: Sequence[ActionSpec], dialects: Sequence[Dialect] = ()):
        super().__init__(specs, dialects)
        names = "|".join(re.escape(n) for n in sorted(self.specs, key=len, reverse=True))
        self._any_call = re.compile(rf"(?:^|(?<=[\s;`>:*]))({names})[ \t]*\(")
        self._marker = re.compile(r"[Aa]ction\s*:")

    def describe(self, only: Collection[str] | None = None) -> str:
        return (super().describe(only) + "\n- Several actions may be given, one per line; they run in order and "
                "stop at the first that fails (the observation says which).")

    def parse(self, text: object) -> ParsedAction:
        calls = self.calls(text) if isinstance(text, str) else []
        if len(calls) <= 1:
            return super().parse(text)
        if len(calls) > MAX_SEQUENCE:
            raise invalid_format(f"The message holds {len(calls)} actions; at most {MAX_SEQUENCE} run per step.")
        parsed = []
        for index, call in enumerate(calls, start=1):
            try:
                parsed.append(super().parse(call))
            except ActionError as error:
                raise ActionError(f"Action {index} of {len(calls)} ({call[:80]}) is invalid, so none ran: "
                                  f"{error.message}", kind=error.kind) from None
        for index, action in enumerate(parsed[:-1], start=1):
            if self.specs[action.name].terminal:
                raise invalid_format(f"Action {index} of {len(parsed)} is {action.name}(), which ends the episode; "
                                     "put it last or send it alone. None ran.")
        return ParsedAction(name=SEQUENCE, args={"actions": parsed}, raw=text)  # type: ignore[arg-type]

    def calls(self, text: str) -> list[str]:
        """The source text of each call in the action part of `text`, in order."""
        marker = self._marker.search(text)
        first = next((m for m in self._call.finditer(text)), None)
        start = marker.end() if marker else (first.start() if first else len(text))
        calls, position = [], start
        for match in self._any_call.finditer(text, start):
            if match.start() < position:
                continue  # inside the previous call's arguments
            end = _call_end(text, match.start(), match.end() - 1)
            if end is None:
                calls.append(text[match.start():])
                break
            calls.append(text[match.start():end])
            position = end
        return calls


def _call_end(text: str, start: int, open_paren: int) -> int | None:
    """End of the shortest `name(...)` from `start` that Python reads as one call, else None."""
    close = open_paren
    for _ in range(200):
        close = text.find(")", close + 1)
        if close < 0:
            return None
        source = text[start:close + 1]
        for candidate in (source, source.replace("\n", "\\n")):
            try:
                if isinstance(ast.parse(candidate, mode="eval").body, ast.Call):
                    return close + 1
            except (SyntaxError, ValueError, MemoryError, RecursionError):
                continue
    return None


BROWSER_ACTIONS = BrowserActionSet(BROWSER_SPECS, dialects=[webarena_dialect])
