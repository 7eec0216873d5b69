"""The browser's action vocabulary, as data, plus WebArena's bracket syntax as a dialect.

Element ids are the `[id]` tags of the observation outline; they are text (ids inside an
iframe look like `7-3`). Everything an agent may do is listed here once; prompts, the parser,
experts and the random baseline all derive from this list. Executing actions lives in `env.py`.
"""

from __future__ import annotations

import re

from coachgym.envs.actions import ActionArg, ActionSet, ActionSpec, ParsedAction

ELEMENT = ActionArg(name="id", type="str", doc="Element id from the page outline, e.g. \"12\".")

BROWSER_SPECS = [
    ActionSpec(name="click", doc="Click an element.", args=[ELEMENT], examples=['click("12")']),
    ActionSpec(
        name="click_xy",
        doc="Click at viewport coordinates in CSS pixels (for screenshot-driven agents).",
        args=[ActionArg(name="x", type="float", low=0, high=4096), ActionArg(name="y", type="float", low=0, high=4096)],
        examples=["click_xy(80, 120)"],
    ),
    ActionSpec(
        name="type",
        doc="Replace the text of an input with `text` (typed key by key).",
        args=[
            ELEMENT,
            ActionArg(name="text", type="str"),
            ActionArg(name="enter", type="bool", optional=True, default=False, doc="Press Enter afterwards."),
        ],
        examples=['type("7", "blue mug")', 'type("7", "blue mug", enter=True)'],
    ),
    ActionSpec(
        name="press",
        doc="Press a key or key combination on the focused element.",
        args=[ActionArg(name="key", type="str", doc="e.g. Enter, Tab, ArrowDown, Control+a.")],
        examples=['press("Enter")'],
    ),
    ActionSpec(
        name="select",
        doc="Choose an option of a drop-down (by its visible text or value).",
        args=[ELEMENT, ActionArg(name="option", type="str")],
        examples=['select("9", "Express")'],
    ),
    ActionSpec(
        name="scroll",
        doc="Scroll the page (or the element under the mouse) by dx, dy CSS pixels.",
        args=[ActionArg(name="dx", type="float", low=-10000, high=10000),
              ActionArg(name="dy", type="float", low=-10000, high=10000)],
        examples=["scroll(0, 400)"],
    ),
    ActionSpec(name="hover", doc="Move the mouse over an element.", args=[ELEMENT], examples=['hover("12")']),
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


BROWSER_ACTIONS = ActionSet(BROWSER_SPECS, dialects=[webarena_dialect])
