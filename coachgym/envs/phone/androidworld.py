"""The `androidworld` action dialect: AndroidWorld's `JSONAction` and its actuation, on the simulated phone.

An agent ported from AndroidWorld (google-research/android_world) should act here exactly as it
does on an emulator, so this dialect follows that project's `env/json_action.py` (what parses)
and `env/actuation.py` (what each action does), not the native dialect's conveniences:

- Only JSON objects with AndroidWorld's keys (action_type, index, x, y, text, direction,
  goal_status, app_name, keycode, clear_text); any other key is an error, as a dataclass would
  raise. `index` may be a string ("3"); giving `index` and `x`/`y` together is an error; x/y may
  be floats; `keycode` must start with `KEYCODE_`; `unknown` is accepted and does nothing.
- x/y and `bbox_pixels` are **device pixels** (the 1080x2400 phone), not screenshot pixels.
- click/double_tap/long_press: `index` taps the element's bbox centre, else (x, y); neither is
  an error. `input_text`: taps the target when one is given, clears the field if `clear_text`,
  types, then **presses Enter**; empty text does nothing.
- `scroll`: from the centre of element `index` (index 0 counts as none, as in actuation's
  `if action.index`) or of the screen, towards the edge: `down` reveals what is below.
- `swipe`: edge to edge, ignoring x/y: `down` starts at the top edge (opening the shade), `up`
  at the bottom edge; sideways swipes move nothing on these apps.

This module parses and actuates; it must not draw or evaluate.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from coachgym.envs.actions import ActionArg, ActionError, ActionSet, ActionSpec, ParsedAction, invalid_format
from coachgym.envs.phone.actions import DIRECTIONS, android_world_json
from coachgym.envs.phone.device import Device
from coachgym.envs.phone.ui import LOGICAL_H, LOGICAL_W, Scale

ACTION_TYPES = ("click", "double_tap", "scroll", "swipe", "input_text", "navigate_home", "navigate_back",
                "keyboard_enter", "open_app", "status", "wait", "long_press", "answer", "unknown")
KEYS = ("index", "x", "y", "text", "direction", "goal_status", "app_name", "keycode", "clear_text")
DEVICE = Scale(width=LOGICAL_W, height=LOGICAL_H)  # device pixels are the phone's own pixels


def _spec(name: str, doc: str, *args: ActionArg, example: str) -> ActionSpec:
    return ActionSpec(name=name, doc=doc, args=list(args), terminal=name == "status", examples=[example])


_INDEX = ActionArg(name="index", type="int", optional=True, doc="UI element index (not together with x/y).")
_X = ActionArg(name="x", type="float", optional=True, doc="Device pixel x (0-1079).")
_Y = ActionArg(name="y", type="float", optional=True, doc="Device pixel y (0-2399).")
SPECS = [
    _spec("click", "Tap element `index`, or device pixel (x, y).", _INDEX, _X, _Y,
          example='{"action_type": "click", "index": 4}'),
    _spec("double_tap", "Tap twice.", _INDEX, _X, _Y, example='{"action_type": "double_tap", "x": 540, "y": 1200}'),
    _spec("long_press", "Press and hold.", _INDEX, _X, _Y, example='{"action_type": "long_press", "index": 7}'),
    _spec("input_text", "Tap the target (if given), clear it if `clear_text`, type `text`, then press Enter.",
          ActionArg(name="text", doc="Text to type."), _INDEX, _X, _Y,
          ActionArg(name="clear_text", type="bool", optional=True, doc="Clear the field first."),
          example='{"action_type": "input_text", "text": "Hello", "index": 12}'),
    _spec("keyboard_enter", "Press Enter.", example='{"action_type": "keyboard_enter"}'),
    _spec("scroll", "Scroll the screen, or element `index`, to reveal content in `direction`.",
          ActionArg(name="direction", choices=DIRECTIONS), _INDEX,
          example='{"action_type": "scroll", "direction": "down"}'),
    _spec("swipe", "Swipe edge to edge in `direction` (down from the top edge opens the shade).",
          ActionArg(name="direction", choices=DIRECTIONS), example='{"action_type": "swipe", "direction": "down"}'),
    _spec("navigate_home", "Press Home.", example='{"action_type": "navigate_home"}'),
    _spec("navigate_back", "Press Back.", example='{"action_type": "navigate_back"}'),
    _spec("open_app", "Launch an app by name.", ActionArg(name="app_name", doc="The app's name."),
          example='{"action_type": "open_app", "app_name": "Contacts"}'),
    _spec("wait", "Wait for the screen to update.", example='{"action_type": "wait"}'),
    _spec("answer", "Answer the user's question.", ActionArg(name="text", doc="The answer."),
          example='{"action_type": "answer", "text": "8:30"}'),
    _spec("status", "End the task.", ActionArg(name="goal_status", choices=["complete", "infeasible"]),
          example='{"action_type": "status", "goal_status": "complete"}'),
    _spec("unknown", "No action (does nothing).", example='{"action_type": "unknown"}'),
]


def parse(text: str) -> ParsedAction:
    """The last `{"action_type": ...}` object in `text`, checked the way `JSONAction` checks it."""
    found = android_world_json(text)
    if found is None:
        raise invalid_format('No AndroidWorld JSON action found; write e.g. {"action_type": "click", "index": 3}.')
    name, args = found.name, dict(found.args)
    if name not in ACTION_TYPES:
        raise invalid_format(f"Invalid action type: {name!r}; AndroidWorld's are {', '.join(ACTION_TYPES)}.")
    unknown = sorted(set(args) - set(KEYS))
    if unknown:
        raise invalid_format(f"Unexpected key(s) {unknown}; an AndroidWorld action has only {', '.join(KEYS)}.")
    if "index" in args:
        args["index"] = _number(args["index"], "index", int)
        if "x" in args or "y" in args:
            raise invalid_format("Either an index or a <x, y> should be provided, not both.")
    for axis in ("x", "y"):
        if axis in args:
            args[axis] = _number(args[axis], axis, float)
    if args.get("direction") and args["direction"] not in DIRECTIONS:
        raise invalid_format(f"Invalid scroll direction: {args['direction']!r}; use one of {', '.join(DIRECTIONS)}.")
    if "text" in args and not isinstance(args["text"], str):
        args["text"] = json.dumps(args["text"]) if isinstance(args["text"], (list, dict)) else str(args["text"])
    if "keycode" in args and not (isinstance(args["keycode"], str) and args["keycode"].startswith("KEYCODE_")):
        raise invalid_format(f"Invalid keycode: {args['keycode']!r}; keycodes look like KEYCODE_ENTER.")
    return ParsedAction(name=name, args=args, raw=text)


def _number(value: Any, key: str, kind: type) -> Any:
    """`int(value)` / `float(value)` as the dataclass would (so "3" and 3.0 are index 3); text that
    is not a number, booleans and containers are format errors."""
    try:
        if isinstance(value, (bool, list, dict)):
            raise ValueError
        return kind(value)
    except (TypeError, ValueError):
        raise invalid_format(f"{key} must be a number, got {value!r:.40}.") from None


class AndroidWorldActionSet(ActionSet):
    """AndroidWorld JSON only; `sample` draws device-pixel actions for the random baseline."""

    def _parse_text(self, text: str) -> ParsedAction:
        return parse(text)

    def sample(self, rng: np.random.Generator) -> str:
        name = ACTION_TYPES[int(rng.integers(len(ACTION_TYPES)))]
        action: dict[str, Any] = {"action_type": name}
        if name in ("click", "double_tap", "long_press"):
            action |= {"index": int(rng.integers(40))} if rng.integers(2) else {
                "x": int(rng.integers(LOGICAL_W)), "y": int(rng.integers(LOGICAL_H))}
        elif name in ("scroll", "swipe"):
            action["direction"] = DIRECTIONS[int(rng.integers(4))]
        elif name in ("input_text", "answer"):
            action |= {"text": ["hello", "ok", "Alice", "42"][int(rng.integers(4))], "index": int(rng.integers(40))}
            if name == "answer":
                action.pop("index")
        elif name == "open_app":
            action["app_name"] = ["Contacts", "Messages", "Shop", "Camera"][int(rng.integers(4))]
        elif name == "status":
            action["goal_status"] = "complete"
        return json.dumps(action)


ANDROIDWORLD_ACTIONS = AndroidWorldActionSet(SPECS)


def execute(action: ParsedAction, device: Device) -> str:
    """Carry out a parsed AndroidWorld action on `device`; the observation's first line."""
    name, args = action.name, action.args
    if name in ("click", "double_tap", "long_press"):
        return _tap(device, name, *_target(device, args, name))
    if name == "input_text":
        return _input_text(device, args)
    if name == "scroll":
        return _scroll(device, args)
    if name == "swipe":
        start = {"down": 0.0, "up": LOGICAL_H - 1.0}.get(args["direction"], LOGICAL_H / 2)
        return device.swipe(args["direction"], start)
    if name == "open_app":
        if not args.get("app_name"):
            raise ActionError("No app name provided; give app_name.")
        return device.open_app(str(args["app_name"]))
    if name == "answer":
        device.state.answer = str(args.get("text") or "")
        return f"Answered: {device.state.answer}"
    if name == "status":
        if args.get("goal_status") not in ("complete", "infeasible"):
            raise ActionError("status needs goal_status 'complete' or 'infeasible'.")
        device.state.goal_status = args["goal_status"]
        return f"Marked the task {args['goal_status']}."
    simple = {"keyboard_enter": device.enter, "navigate_back": device.back, "navigate_home": device.home,
              "wait": lambda: "Waited; the screen did not change.",
              "unknown": lambda: "Unknown action; nothing was executed."}
    return simple[name]()


def _target(device: Device, args: dict[str, Any], verb: str) -> tuple[int, int]:
    """Device pixel a targeted action touches: the element's bbox centre, or (x, y) truncated."""
    if args.get("index") is not None:
        elements = device.screen().elements()
        index = args["index"]
        if not 0 <= index < len(elements):
            raise ActionError(f"Invalid element index: {index}, must be between 0 and {len(elements) - 1}.")
        x0, y0, x1, y1 = elements[index].bounds
        return int((x0 + x1) / 2), int((y0 + y1) / 2)
    if args.get("x") is None or args.get("y") is None:
        raise ActionError(f"Invalid {verb} action: give an element index, or both x and y (device pixels).")
    x, y = int(args["x"]), int(args["y"])
    if not (0 <= x < LOGICAL_W and 0 <= y < LOGICAL_H):
        raise ActionError(f"({x}, {y}) is off the screen; device pixels run 0..{LOGICAL_W - 1} x 0..{LOGICAL_H - 1}.")
    return x, y


def _tap(device: Device, verb: str, x: int, y: int) -> str:
    feedback = device.press_at(DEVICE, verb, x, y)
    return feedback or f"Touched device pixel ({x}, {y}); nothing interactive is there."


def _input_text(device: Device, args: dict[str, Any]) -> str:
    text = args.get("text") or ""
    if not text:
        return "input_text without text; nothing was typed."
    said = []
    if args.get("index") is not None or (args.get("x") is not None and args.get("y") is not None):
        said.append(_tap(device, "click", *_target(device, args, "input_text")))
        device.changed()
    try:
        said.append(device.type_text(text, None, clear=bool(args.get("clear_text"))))
    except ActionError:  # on a device, keys typed with nothing focused just go nowhere
        said.append("No text field has focus, so the text went nowhere.")
    device.changed()
    said.append(device.enter())
    return " ".join(said)


def _scroll(device: Device, args: dict[str, Any]) -> str:
    if args.get("index"):  # actuation's `if action.index`: index 0 scrolls the whole screen
        x, y = _target(device, {"index": args["index"]}, "scroll")
        lists = [n for n in device.screen().elements() if n.scrollable or n.style == "list"]
        if not any(n.bounds[0] <= x < n.bounds[2] and n.bounds[1] <= y < n.bounds[3] for n in lists):
            return f"Scrolled {args['direction']} from element {args['index']}; nothing there scrolls."
    return device.scroll(args["direction"])
