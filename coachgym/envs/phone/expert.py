"""`PhoneExpert`: follows a task's high-level plan by reading the UI element list, like a careful user.

The plan (in `task.setup["plan"]`) names targets by their on-screen text or content description;
the expert finds them in the observation's element list and emits AndroidWorld JSON actions, each
after a one-line thought in the `Thought:`/`Action:` format the system prompt asks for. When
a target is not on screen it first hides the keyboard (which covers the bottom of forms), then
scrolls down and, failing that, up. `mode` picks how taps are addressed: by element `index`, by
pixel `xy` (the element's centre, exercising hit-testing), or `mixed` (alternating). It must not
look at env internals: everything comes from the observation text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from coachgym.envs.core import Expert, Task
from coachgym.envs.phone.ui import box_center

_LINE = re.compile(r'^\[(\d+)\] (\S+)(?: "((?:[^"\\]|\\.)*)")?(?: desc="((?:[^"\\]|\\.)*)")?'
                   r'(?: hint="((?:[^"\\]|\\.)*)")? bounds=\[(\d+),(\d+)\]\[(\d+),(\d+)\](.*)$')
_SIZE = re.compile(r"Screenshot (\d+)x(\d+);")
MAX_SEARCH = 6
_TARGETED = ("tap", "long", "type", "append", "slide")


@dataclass
class Element:
    index: int
    cls: str
    text: str
    desc: str
    bounds: tuple[int, int, int, int]
    flags: str
    hint: str = ""

    @property
    def center(self) -> tuple[int, int]:
        return box_center(self.bounds)


def parse_elements(text: str) -> list[Element]:
    """The UI element list of an observation (the inverse of `ui.format_elements`)."""
    elements = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            unescape = lambda s: (s or "").replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")  # noqa: E731
            index, cls, body, desc, hint, *box, flags = match.groups()
            elements.append(Element(int(index), cls, unescape(body), unescape(desc),
                                    tuple(int(v) for v in box), flags, unescape(hint)))  # type: ignore[arg-type]
    return elements


class PhoneExpert(Expert):
    def __init__(self, task: Task, mode: Literal["index", "xy", "mixed"] = "index"):
        super().__init__(task)
        self.plan: list[list[Any]] = [list(step) for step in task.setup.get("plan", [])]
        self.mode = mode
        self.taps = 0
        self.searches = 0

    def act(self, observation: dict[str, Any]) -> str:
        step = self.plan[0] if self.plan else ["status", "complete"]
        pending = len(self.plan)
        action = self._action(observation)
        searching = step[0] in _TARGETED and len(self.plan) == pending
        thought = f"{step[1]!r} is not on screen; I look for it." if searching else _thought(step)
        return f"Thought: {thought}\nAction: {action}"

    def _action(self, observation: dict[str, Any]) -> str:
        text = observation["text"]
        elements = parse_elements(text)
        if not self.plan:
            return _json(action_type="status", goal_status="complete")
        kind, *args = self.plan[0]
        if kind in _TARGETED:
            target = self._find(elements, args[0], editable=kind in ("type", "append"))
            if target is None:
                return self._search(text, args[0])
            self.searches = 0
            self.plan.pop(0)
            return self._act_on(kind, target, args, text)
        self.plan.pop(0)
        simple = {
            "open": lambda: _json(action_type="open_app", app_name=args[0]),
            "enter": lambda: _json(action_type="keyboard_enter"),
            "back": lambda: _json(action_type="navigate_back"),
            "shade": lambda: _json(action_type="swipe", direction="down", x=_size(text)[0] // 2, y=2),
            "answer": lambda: _json(action_type="answer", text=args[0]),
            "status": lambda: _json(action_type="status", goal_status=args[0]),
            "tap_at": lambda: _json(action_type="click", x=args[1], y=args[2]),  # a point the task computed
        }
        return simple[kind]()

    def _act_on(self, kind: str, target: Element, args: list[Any], text: str) -> str:
        if kind in ("type", "append"):
            return _json(action_type="input_text", text=args[1], index=target.index, clear_text=kind == "type")
        if kind == "slide":
            x0, y0, x1, y1 = target.bounds
            x = x0 + round(args[1] / 100 * (x1 - x0) - 0.5)
            return _json(action_type="click", x=x, y=(y0 + y1 - 1) // 2)
        action = "long_press" if kind == "long" else "click"
        self.taps += 1
        if self.mode == "xy" or (self.mode == "mixed" and self.taps % 2 == 0):
            x, y = target.center
            return _json(action_type=action, x=x, y=y)
        return _json(action_type=action, index=target.index)

    @staticmethod
    def _find(elements: list[Element], name: str, editable: bool) -> Element | None:
        for element in elements:
            is_editable = "editable" in element.flags
            if editable != is_editable:
                continue
            if (element.text == name and not editable) or name in (element.desc, element.hint):
                return element
        return None

    def _search(self, text: str, name: str) -> str:
        """The target is not visible: hide the keyboard, then scroll down, then up."""
        self.searches += 1
        if "\nKeyboard: open" in text:
            return _json(action_type="navigate_back")
        if self.searches <= MAX_SEARCH:
            return _json(action_type="scroll", direction="down")
        if self.searches <= 2 * MAX_SEARCH:
            return _json(action_type="scroll", direction="up")
        self.plan.clear()  # give up; the evaluator will record the failure
        return _json(action_type="status", goal_status="complete")


def _thought(step: list[Any]) -> str:
    """What the plan step is for, in words."""
    kind, *args = step
    phrases = {"open": "I open the {} app.", "tap": "I tap {!r}.", "long": "I long-press {!r}.",
               "type": "I type into {!r}.", "append": "I add to {!r}.", "slide": "I set the {!r} slider.",
               "enter": "I press enter.", "back": "I go back.", "shade": "I open the notification shade.",
               "answer": "I answer {!r}.", "status": "The task is {}.", "tap_at": "I tap {!r}."}
    return phrases[kind].format(*args[:1])


def _size(text: str) -> tuple[int, int]:
    match = _SIZE.search(text)
    return (int(match.group(1)), int(match.group(2))) if match else (504, 1120)


def _json(**action: Any) -> str:
    return json.dumps(action, ensure_ascii=False)
