"""The policy's side of a scripted MiniWoB++ episode: what it reads (outline, goal, boxes) and the coachgym
actions it takes, optionally mirrored on the reference env; policies register per task with `@policy`.

Policies live in `test_browser_miniwob_all.py` and in `miniwob_*.py` modules next to it, grouped by the
kind of page they solve; the test module imports them all.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from coachgym.envs.browser import BrowserEnv

OUTLINE_LINE = re.compile(r"^(?P<indent>\s*)\[(?P<id>[^\]]+)\] (?P<role>\S+)(?: '(?P<name>(?:[^'\\]|\\.)*)')?(?P<rest>.*)$",
                   re.MULTILINE)
ORDINALS = {"1st": 0, "2nd": 1, "3rd": 2, "4th": 3, "5th": 4, "6th": 5, "7th": 6, "8th": 7, "9th": 8, "10th": 9}
SEEDS = (11, 12)


class NotMirrored(Exception):
    """The policy used an action the reference env has no counterpart for; no parity for this task."""


class Play:
    """One episode: the policy's view (outline, goal) and its actions, optionally mirrored on the reference."""

    def __init__(self, env: BrowserEnv, task: str, seed: int, reference=None):
        self.env = env
        self.obs, _ = env.reset(seed=seed, options={"task_id": f"miniwob.{task}"})
        self.reward, self.done, self.steps = 0.0, False, 0
        self.reference = reference
        self.mismatches: list[tuple] = []
        if reference is not None:
            self.ref_obs, _ = reference.reset(seed=env.unwrapped.episode_seed)
            self._number_elements()
            if self.ref_obs["utterance"] != self.goal:
                self.mismatches.append(("utterance", self.goal, self.ref_obs["utterance"]))

    def _number_elements(self) -> None:
        """Run the page's own `core.getDOMInfo()` wherever the reference runs it (after reset and each step),
        so both pages give every element the same `data-wob_ref`, which the reference's element actions use."""
        self.env.unwrapped.session.page.evaluate("() => { core.getDOMInfo(); }")

    def ref_of(self, element_id: str, hit: bool = False) -> int:
        """The reference's ref of the element, or with `hit` of what a real click at its middle lands on
        (the reference's element click is a synthetic click on exactly that element). Like the click's own
        actionability wait, `hit` gives an element that something covers for a moment (a datepicker fading out
        over the submit button) up to a second to come out on top before taking what covers it."""
        ref = self.env.unwrapped.session.page.evaluate(
            """async ([id, hit]) => { let e = document.querySelector(`[data-cg-id="${id}"]`);
                const atMiddle = () => { const r = e.getBoundingClientRect();
                  return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); };
                const start = performance.now();
                while (e && hit && !e.contains(atMiddle()) && performance.now() - start < 1000)
                  await new Promise((resolve) => setTimeout(resolve, 20));
                if (e && hit) e = atMiddle() || e;
                while (e && e.dataset && e.dataset.wob_ref === undefined) e = e.parentElement;
                return e && e.dataset ? e.dataset.wob_ref : null; }""", [element_id, hit])
        if ref is None:
            raise NotMirrored(f"element {element_id} has no reference ref")
        return int(ref)

    # ----------------------------------------------------------------- reading
    @property
    def goal(self) -> str:
        return self.obs["goal"]

    @property
    def text(self) -> str:
        return self.obs["text"]

    def quoted(self) -> list[str]:
        return re.findall(r'"([^"]*)"', self.goal)

    def elements(self, role: str | None = None) -> list[tuple[str, str, str]]:
        """(id, name, rest of the line) of every outline element with this role."""
        return [(m["id"], (m["name"] or "").replace("\\'", "'"), m["rest"]) for m in OUTLINE_LINE.finditer(self.text)
                if role is None or m["role"] == role]

    def ids(self, role: str) -> list[str]:
        return [element_id for element_id, _, _ in self.elements(role)]

    def find(self, name: str, role: str | None = None, nth: int = 0) -> str:
        found = [element_id for element_id, element_name, _ in self.elements(role) if element_name == name]
        if len(found) <= nth:
            raise LookupError(f"no {role or 'element'} named {name!r} (#{nth}) in:\n{self.text}")
        return found[nth]

    def center(self, element_id: str) -> tuple[float, float]:
        x, y, w, h = self.env.unwrapped.snap.boxes[element_id]
        return x + w / 2, y + h / 2

    @property
    def scale(self) -> float:
        """Screenshot pixels per CSS pixel (the boxes and pointer actions are in CSS pixels)."""
        return self.env.unwrapped.config.device_scale_factor

    def pixels(self, box: tuple[float, float, float, float] | None = None) -> np.ndarray:
        """The screenshot (as int, so differences do not wrap), or the part inside a CSS box (x, y, w, h)."""
        image = self.obs["screenshot"].astype(int)
        if box is None:
            return image
        x, y, w, h = box
        s = self.scale
        return image[max(0, round(y * s)): round((y + h) * s), max(0, round(x * s)): round((x + w) * s)]

    # ----------------------------------------------------------------- acting
    def act(self, action: str, mirror: list[tuple] | None) -> None:
        """One coachgym step; `mirror` is the reference's actions for it (None: it has none)."""
        if self.done:
            return
        if self.reference is not None and mirror is None:
            raise NotMirrored(action)
        self.obs, self.reward, terminated, truncated, info = self.env.step(action)
        self.done = terminated or truncated  # the step cap ends the episode too: a `while not p.done` loop stops
        self.steps += 1
        assert "action_error" not in info, (action, info["action_error"])
        if self.reference is None:
            return
        ref_reward, ref_done = 0.0, False
        for kind, *args in mirror:
            ref = self.reference.unwrapped
            if kind == "CLICK_ELEMENT":
                action_object = ref.create_action(kind, ref=args[0])
            elif kind == "FOCUS_ELEMENT_AND_TYPE_TEXT":
                action_object = ref.create_action(kind, ref=args[0], text=args[1])
            elif kind == "TYPE_TEXT":
                action_object = ref.create_action(kind, text=args[0])
            elif kind == "PRESS_KEY":
                action_object = ref.create_action(kind, key=ref.action_space_config.allowed_keys.index(args[0]))
            else:
                action_object = ref.create_action(kind, coords=np.array(args, dtype=np.float32))
            try:
                self.ref_obs, ref_reward, ref_done, _, _ = self.reference.step(action_object)
            except Exception as error:  # noqa: BLE001 - e.g. a dialog centred in the reference's larger window
                raise NotMirrored(f"the reference cannot replay {kind} {args}: {str(error).splitlines()[0]}") from None
            if ref_done:
                break
        if mirror:
            self._number_elements()
        if (ref_reward, ref_done) != (self.reward, self.done):
            self.mismatches.append((self.steps, action, (self.reward, self.done), (ref_reward, ref_done)))
            self.done = True

    def click(self, element_id: str, by_position: bool = False) -> None:
        """`by_position` mirrors as a click at the same point (widgets driven by mousedown, e.g. spinners),
        else as the reference's element click on what the pointer would hit."""
        mirror = []
        if self.reference is not None:
            mirror = ([("CLICK_COORDS", *self.center(element_id))] if by_position else
                      [("CLICK_ELEMENT", self.ref_of(element_id, hit=True))])
        self.act(f'click("{element_id}")', mirror)

    def click_xy(self, x: float, y: float) -> None:
        self.act(f"click_xy({x:.1f}, {y:.1f})", [("CLICK_COORDS", x, y)])

    def type(self, element_id: str, text: str) -> None:
        """Replaces the field's text; on the reference that is focus, select all (when not empty), type."""
        mirror = []
        if self.reference is not None:
            ref = self.ref_of(element_id)
            empty = next(rest for i, _, rest in self.elements() if i == element_id).startswith(" value=''")
            mirror = ([("FOCUS_ELEMENT_AND_TYPE_TEXT", ref, text)] if empty else
                      [("CLICK_ELEMENT", ref), ("PRESS_KEY", "C-a"), ("TYPE_TEXT", text)])
        self.act(f"type({element_id!r}, {text!r})", mirror)

    def press(self, key: str) -> None:
        self.act(f'press("{key}")', [("PRESS_KEY", {"Control+a": "C-a", "Control+c": "C-c", "Control+v": "C-v",
                                                  "Enter": "<Enter>"}[key])])

    def hover(self, element_id: str) -> None:
        self.act(f'hover("{element_id}")', [("MOVE_COORDS", *self.center(element_id))])

    def drag(self, from_id: str, to_id: str) -> None:
        self.act(f'drag("{from_id}", "{to_id}")', None)

    def drag_xy(self, x1: float, y1: float, x2: float, y2: float) -> None:
        # Not mirrored: the reference's W3C pointer drags (no intermediate moves) select text and move
        # sortable items differently from a real mouse, so a mismatch would say nothing about scoring.
        self.act(f"drag_xy({x1:.1f}, {y1:.1f}, {x2:.1f}, {y2:.1f})", None)

    def wait(self, ms: int) -> None:
        """Time passes on both pages; the reference has nothing to do meanwhile."""
        self.act(f"wait({ms})", [])

    def unmirrored(self, action: str) -> None:
        self.act(action, None)

    def submit(self, label: str = "Submit") -> None:
        self.click(self.find(label, "button"))


POLICIES: dict[str, Callable[[Play], None]] = {}


def policy(*tasks: str) -> Callable:
    def register(function: Callable[[Play], None]) -> Callable[[Play], None]:
        for task in tasks:
            POLICIES[task] = function
        return function
    return register


def minutes(duration: str) -> int:
    """'2h 15m', as the flight and ticket pages write durations, in minutes."""
    hours, mins = re.fullmatch(r"(\d+)h (\d+)m", duration).groups()
    return int(hours) * 60 + int(mins)
