"""The phone's action vocabulary: AndroidWorld's JSON actions, declared once as `ActionSpec`s.

Agents may write either AndroidWorld JSON (`{"action_type": "click", "index": 3}`) or the
function form (`click(index=3)`, `click(x=120, y=640)`); both parse to the same `ParsedAction`
because the JSON dialect only renames `action_type` to the spec name. Coordinates are
screenshot pixels (or 0-999 normalised when the env is built with `coordinates="normalized"`).
`PhoneActionSet.sample` draws random but well-formed actions for the random baseline. Nothing
here executes agent text: JSON goes through `json.loads` / `ast.literal_eval` only.
"""

from __future__ import annotations

import ast
import json
import re

import numpy as np

from coachgym.envs.actions import ActionArg, ActionError, ActionSet, ActionSpec, ParsedAction, invalid_format
from coachgym.envs.phone.ui import box_center

DIRECTIONS = ["up", "down", "left", "right"]


def _target_args(verb: str) -> list[ActionArg]:
    return [
        ActionArg(name="index", type="int", optional=True, low=0, high=10_000,
                  doc=f"Index of the UI element to {verb} (from the UI element list)."),
        *[ActionArg(name=axis, type="int", optional=True, low=0, high=100_000,
                    doc=f"Screenshot {axis} pixel (instead of index).") for axis in "xy"],
    ]


SPECS = [
    ActionSpec(name="click", doc="Tap an element by index, or the screen at pixel (x, y).", args=_target_args("tap"),
               examples=['{"action_type": "click", "index": 4}', '{"action_type": "click", "x": 250, "y": 600}']),
    ActionSpec(name="long_press", doc="Press and hold an element or point (opens context actions such as delete).",
               args=_target_args("long-press"), examples=['{"action_type": "long_press", "index": 7}']),
    ActionSpec(name="double_tap", doc="Tap twice quickly at the same place.", args=_target_args("double-tap"),
               examples=['{"action_type": "double_tap", "x": 250, "y": 600}']),
    ActionSpec(name="input_text", doc="Type text into a text field (focuses the field at `index` first; without an "
               "index, types into the focused field). Does not press Enter.",
               args=[ActionArg(name="text", type="str", doc="Text to type."),
                     ActionArg(name="index", type="int", optional=True, low=0, high=10_000, doc="Editable element."),
                     ActionArg(name="clear_text", type="bool", optional=True, default=False,
                               doc="Replace the field's text instead of appending.")],
               examples=['{"action_type": "input_text", "text": "Hello", "index": 12}']),
    ActionSpec(name="keyboard_enter", doc="Press the keyboard's Enter key (sends or submits the focused field).",
               examples=['{"action_type": "keyboard_enter"}']),
    ActionSpec(name="scroll", doc="Scroll the screen to reveal content in `direction` (down shows what is below).",
               args=[ActionArg(name="direction", choices=DIRECTIONS),
                     ActionArg(name="index", type="int", optional=True, low=0, high=10_000, doc="Element to scroll.")],
               examples=['{"action_type": "scroll", "direction": "down"}']),
    ActionSpec(name="swipe", doc="Move a finger in `direction` starting at (x, y) (default: screen centre). Swiping "
               "down from the status bar opens the notification shade.",
               args=[ActionArg(name="direction", choices=DIRECTIONS), *_target_args("start the swipe on")[1:]],
               examples=['{"action_type": "swipe", "direction": "down", "x": 250, "y": 10}']),
    ActionSpec(name="navigate_back", doc="Press Back (hides the keyboard, closes dialogs, goes to the previous page).",
               examples=['{"action_type": "navigate_back"}']),
    ActionSpec(name="navigate_home", doc="Press Home.", examples=['{"action_type": "navigate_home"}']),
    ActionSpec(name="open_app", doc="Launch an app by name (Contacts, Messages, Calendar, Settings, Notes, Shop).",
               args=[ActionArg(name="app_name", doc="The app's launcher name.")],
               examples=['{"action_type": "open_app", "app_name": "Messages"}']),
    ActionSpec(name="wait", doc="Wait for the screen to update.", examples=['{"action_type": "wait"}']),
    ActionSpec(name="answer", doc="Give the user the answer to their question (does not end the episode).",
               args=[ActionArg(name="text", doc="The answer.")],
               examples=['{"action_type": "answer", "text": "+1 415 555 0102"}']),
    ActionSpec(name="status", doc="End the task: `complete` when done, `infeasible` when it cannot be done.",
               args=[ActionArg(name="goal_status", choices=["complete", "infeasible"])], terminal=True,
               examples=['{"action_type": "status", "goal_status": "complete"}']),
]

_JSON_START = re.compile(r"\{\s*[\"']action_type[\"']")


def android_world_json(text: str) -> ParsedAction | None:
    """AndroidWorld dialect: the last `{"action_type": ...}` object in the text."""
    starts = [m.start() for m in _JSON_START.finditer(text)]
    if not starts:
        return None
    source = _balanced(text, starts[-1])
    if source is None:
        raise invalid_format('Unclosed JSON object in the action; write e.g. {"action_type": "click", "index": 3}.')
    try:
        data = json.loads(source)
    except json.JSONDecodeError:
        try:
            data = ast.literal_eval(source)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise invalid_format(f"The action {source[:200]!r} is not valid JSON.") from None
    if not isinstance(data, dict) or not isinstance(data.get("action_type"), str):
        raise invalid_format("The JSON action needs a string field \"action_type\".")
    name = data.pop("action_type")
    return ParsedAction(name=name, args={k: v for k, v in data.items() if v is not None}, raw=text)


def _balanced(text: str, start: int) -> str | None:
    depth, quote, escaped = 0, "", False
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return None


def target_point(args: dict[str, object], boxes: list, verb: str) -> tuple[int, int] | None:
    """Centre of element `index` in the units of `boxes`; None when the action gives `x`/`y` instead."""
    index = args.get("index")
    if isinstance(index, int):
        if not 0 <= index < len(boxes):
            raise ActionError(f"There is no element {index}; this screen has elements 0..{len(boxes) - 1}.")
        return box_center(boxes[index])
    if args.get("x") is None or args.get("y") is None:
        raise ActionError(f"{verb} needs an element `index`, or both `x` and `y` coordinates.")
    return None


class PhoneActionSet(ActionSet):
    """The shared parser, plus a random sampler that knows targets are an index or a pixel."""

    screen = (504, 1120)

    def sample(self, rng: np.random.Generator) -> str:
        spec = self.specs[list(self.specs)[int(rng.integers(len(self.specs)))]]
        width, height = self.screen
        action: dict[str, object] = {"action_type": spec.name}
        if spec.name in ("click", "long_press", "double_tap"):
            if rng.integers(2):
                action["index"] = int(rng.integers(40))
            else:
                action |= {"x": int(rng.integers(width)), "y": int(rng.integers(height))}
        elif spec.name == "swipe":
            action |= {"direction": DIRECTIONS[int(rng.integers(4))], "x": int(rng.integers(width)),
                       "y": int(rng.integers(height))}
        else:
            for arg in spec.args:
                if not arg.optional:
                    action[arg.name] = _random_value(arg, rng)
        return json.dumps(action)


def _random_value(arg: ActionArg, rng: np.random.Generator) -> object:
    if arg.choices:
        return arg.choices[int(rng.integers(len(arg.choices)))]
    words = ["hello", "ok", "Alice", "meeting", "42", "yes", "done", "note"]
    return words[int(rng.integers(len(words)))]


PHONE_ACTIONS = PhoneActionSet(SPECS, dialects=[android_world_json])
