"""`PhoneEnv`: the simulated phone as a Gymnasium environment.

It glues the pieces together: `world` builds the starting `PhoneState`, `Device` runs the UI,
`Renderer` draws screenshots, `PHONE_ACTIONS` parses AndroidWorld actions and `evaluate` scores
the final state. Everything about where a tap lands goes through one `Scale`, so coordinates in
actions, bounds in the UI tree and pixels in the screenshot agree. This module must not
contain app behaviour or drawing code.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np

from coachgym.envs.actions import ActionError, ParsedAction, from_normalized
from coachgym.envs.core import AgentEnv, Evaluation, StepResult, Task
from coachgym.envs.phone import androidworld
from coachgym.envs.phone.actions import PHONE_ACTIONS, target_point
from coachgym.envs.phone.androidworld import ANDROIDWORLD_ACTIONS
from coachgym.envs.phone.device import Device
from coachgym.envs.phone.evaluate import evaluate
from coachgym.envs.phone.render import Renderer
from coachgym.envs.phone.state import PhoneState
from coachgym.envs.phone.ui import LOGICAL_H, LOGICAL_W, Scale, box_center, format_elements
from coachgym.envs.phone.world import build_state


class PhoneEnv(AgentEnv):
    """A 1080x2400 Android-like phone with six apps, driven by taps, swipes and typing.

    Observation: `screenshot` (default 1120x504 RGB; `screenshot_height` sets it, width keeps the
    phone's 9:20 aspect) and `text`: what the last action did, the current screen, and the
    AndroidWorld-style UI element list (index, class, text, description, hint, bounds, flags).
    `info["ui_elements"]` has every field of AndroidWorld's `UIElement` as dicts.
    Actions (`action_dialect="native"`): AndroidWorld JSON (`{"action_type": "click", "index": 3}`)
    or the same actions as calls (`click(x=120, y=700)`); coordinates are screenshot pixels, or
    0-999 when `coordinates="normalized"` (CogAgent style). `action_dialect="androidworld"` takes
    exactly AndroidWorld's JSON actions and semantics, in device pixels. Reward: 1 at the end
    when the app state is exactly what the task asked (its checks hold and nothing else changed;
    for infeasible tasks, `status("infeasible")` with nothing changed), else 0. The episode ends
    on `status(...)`, after repeated invalid actions, or at the step budget. A task with
    `setup["screen_only"]` (the GUI families of `gui_tasks`) leaves the element list out, so the
    screenshot is the only way to find a target, and its `setup["coordinates"]` overrides the env's
    convention.
    """

    name = "phone"
    actions = PHONE_ACTIONS
    default_max_steps = 30
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, *args: Any, screenshot_height: int = 1120,
                 coordinates: Literal["pixels", "normalized"] = "pixels",
                 action_dialect: Literal["native", "androidworld"] = "native", **kwargs: Any):
        """`args`/`kwargs` are `AgentEnv`'s (task, suite, max_steps, split, render_mode, ...).

        `action_dialect="androidworld"` takes exactly AndroidWorld's JSON actions with their
        semantics and device-pixel coordinates (see `androidworld.py`)."""
        if screenshot_height < 200 or screenshot_height > 4800:
            raise ValueError(f"screenshot_height must be between 200 and 4800 pixels, got {screenshot_height}.")
        if coordinates not in ("pixels", "normalized"):
            raise ValueError(f"coordinates must be 'pixels' or 'normalized', got {coordinates!r}.")
        if action_dialect not in ("native", "androidworld"):
            raise ValueError(f"action_dialect must be 'native' or 'androidworld', got {action_dialect!r}.")
        if action_dialect == "androidworld" and coordinates != "pixels":
            raise ValueError("The androidworld dialect uses device pixels; leave coordinates='pixels'.")
        self.action_dialect = action_dialect
        if action_dialect == "androidworld":
            self.actions = ANDROIDWORLD_ACTIONS
        self.scale = Scale.for_height(screenshot_height)
        self.screenshot_shape = (self.scale.height, self.scale.width)
        self.renderer = Renderer(self.scale)
        self.coordinates = self.env_coordinates = coordinates
        self.screen_only = False
        self.device: Device | None = None
        self.initial: PhoneState | None = None
        super().__init__(*args, **kwargs)

    # ----------------------------------------------------------------- AgentEnv hooks
    def _setup(self, task: Task, seed: int) -> str:
        self.coordinates = task.setup.get("coordinates", self.env_coordinates)
        self.screen_only = bool(task.setup.get("screen_only"))
        state = build_state(task.setup.get("world", {}), seed)
        self.device = Device(state)
        if task.setup.get("start_app"):
            self.device.launch(task.setup["start_app"])
        self.initial = state.model_copy(deep=True)  # after the start app: the agent did not open it
        return self._describe("The phone is unlocked.")

    def _execute(self, action: ParsedAction) -> StepResult:
        device = self._live_device()
        device.toast, device.touches = "", []
        feedback = (androidworld.execute(action, device) if self.action_dialect == "androidworld"
                    else self._dispatch(device, action))
        self.pointer.extend(device.touches)
        device.changed()
        return StepResult(text=self._describe(feedback), done=action.name == "status")

    def _evaluate(self) -> Evaluation:
        assert self.initial is not None and self.device is not None
        return evaluate(self.task.evaluator if self.task else {}, self.initial, self.device.state)

    def _screenshot(self) -> np.ndarray | None:
        if self.device is None:
            return None
        return self.renderer.render(self.device.screen(), dark=self.device.state.settings.dark_mode)

    def _info(self) -> dict[str, Any]:
        info = super()._info()
        if self.device is not None:
            info["ui_elements"] = self.ui_elements()
        return info

    def prompt_info(self) -> dict[str, str]:
        """For a screen-only GUI task, a prompt that says only what such a task needs: tap by 0-999
        coordinates, then report (the env still accepts every action)."""
        info = super().prompt_info()
        if self.screen_only:
            info["doc"] = f"A phone screen. Find the target on the screenshot and tap it; x/y are {self._unit}."
            info["actions"] = self.actions.describe(only=("click", "status"))
        return info

    def render(self) -> Any:
        if self.render_mode == "rgb_array":
            return self._screenshot()
        return super().render()

    # ----------------------------------------------------------------- public helpers
    def ui_elements(self) -> list[dict[str, Any]]:
        units = "device" if self.action_dialect == "androidworld" else self.coordinates
        return self._live_device().screen().describe(self.scale, units)

    def element_center(self, index: int) -> tuple[int, int]:
        """The screenshot pixel a `click(index)` taps (in the env's coordinate convention)."""
        return box_center(self.ui_elements()[index]["bounds"])

    # ----------------------------------------------------------------- internals
    def _live_device(self) -> Device:
        if self.device is None:
            raise RuntimeError("Call reset() before using the phone.")
        return self.device

    def _describe(self, feedback: str) -> str:
        device = self._live_device()
        screen = device.screen()
        unit = self._unit
        lines = [feedback, f"Screen: {screen.title}"]
        if device.toast:
            lines.append(f"Toast: {device.toast}")
        if device.keyboard_open:
            lines.append("Keyboard: open (its keys are not listed; tap them by x/y, or use input_text).")
        if self.screen_only:
            lines.append(f"Screenshot {self.scale.width}x{self.scale.height}; x/y are {unit}.")
            return "\n".join(lines)
        lines.append(f"Screenshot {self.scale.width}x{self.scale.height}; bounds and x/y are {unit}.")
        lines.append("UI elements:")
        lines.append(format_elements(self.ui_elements()))
        return "\n".join(lines)

    @property
    def _unit(self) -> str:
        if self.action_dialect == "androidworld":
            return f"device pixels ({LOGICAL_W}x{LOGICAL_H})"
        return "0-999 normalized" if self.coordinates == "normalized" else "screenshot pixels"

    def _pixel(self, x: float, y: float) -> tuple[float, float]:
        """Action coordinates -> screenshot pixels, rejecting points off the screen."""
        if self.coordinates == "normalized":
            return from_normalized(x, y, self.scale.width, self.scale.height)
        if not (0 <= x < self.scale.width and 0 <= y < self.scale.height):
            raise ActionError(f"({x}, {y}) is off the screen; the screenshot is {self.scale.width}x{self.scale.height} "
                              "pixels and (0, 0) is its top-left corner.")
        return float(x), float(y)

    def _point(self, args: dict[str, Any], verb: str) -> tuple[float, float]:
        """Where a targeted action touches: an element's centre (by index) or the given point."""
        boxes = [self.scale.rect(node.bounds) for node in self._live_device().screen().elements()]
        centre = target_point(args, boxes, verb)
        return centre if centre is not None else self._pixel(args["x"], args["y"])

    def _dispatch(self, device: Device, action: ParsedAction) -> str:
        args, name = action.args, action.name
        if name in ("click", "double_tap", "long_press"):
            x, y = self._point(args, name)
            feedback = device.press_at(self.scale, name, x, y)
            return feedback or f"Touched ({round(x)}, {round(y)}); nothing interactive is there."
        if name == "input_text":
            node = None
            if args.get("index") is not None:
                node = device.hit(self.scale, *self._point(args, name))
                if node is None:
                    raise ActionError(f"Element {args['index']} is not a text field; pick one marked 'editable'.")
            return device.type_text(args["text"], node, bool(args.get("clear_text")))
        if name == "swipe":
            start_y = None
            if args.get("x") is not None and args.get("y") is not None:
                start_y = (self._pixel(args["x"], args["y"])[1] + 0.5) * LOGICAL_H / self.scale.height
            return device.swipe(args["direction"], start_y)
        simple = {
            "scroll": lambda: device.scroll(args["direction"]),
            "keyboard_enter": device.enter,
            "navigate_back": device.back,
            "navigate_home": device.home,
            "open_app": lambda: device.open_app(args["app_name"]),
            "wait": lambda: "Waited; the screen did not change.",
            "answer": lambda: self._answer(device, args["text"]),
            "status": lambda: self._status(device, args["goal_status"]),
        }
        return simple[name]()

    @staticmethod
    def _answer(device: Device, text: str) -> str:
        device.state.answer = text
        return f"Answered: {text}"

    @staticmethod
    def _status(device: Device, status: str) -> str:
        device.state.goal_status = status  # type: ignore[assignment]
        return f"Marked the task {status}."
