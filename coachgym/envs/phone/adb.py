"""Optional adapter: the phone env's action space on a real Android device or emulator, over adb.

UNTESTED ON A REAL DEVICE: the machine this was written on has no adb device or emulator.
Only the pure parts are tested: how actions become `adb shell input ...` commands, how
`uiautomator dump` XML becomes `ui_elements` in `PhoneEnv`'s format, and the error you get
when adb is missing. A real device has no `PhoneState`, so this adapter has no tasks or
evaluators. It gives you observations and executes actions, so a model trained on the
simulated phone can be tried on hardware with the same prompt and actions.

Coordinates follow `PhoneEnv`: actions and bounds are in screenshot pixels, where the
screenshot is the device screen scaled to `screenshot_height`. This module must not run
anything on the host beyond the `adb` binary, and it never passes agent text to a shell
unquoted.
"""

from __future__ import annotations

import io
import shlex
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from coachgym.envs.actions import ActionError, ParsedAction
from coachgym.envs.phone.actions import PHONE_ACTIONS, target_point
from coachgym.envs.phone.ui import format_elements

PACKAGES = {"contacts": "com.google.android.contacts", "messages": "com.google.android.apps.messaging",
            "settings": "com.android.settings", "calendar": "com.google.android.calendar",
            "chrome": "com.android.chrome", "clock": "com.google.android.deskclock",
            "files": "com.google.android.documentsui", "camera": "com.android.camera2"}
KEYCODES = {"keyboard_enter": "66", "navigate_back": "4", "navigate_home": "3"}


@dataclass(frozen=True)
class Geometry:
    """Device pixels vs screenshot pixels; taps aim at the centre of the screenshot pixel."""

    device_w: int
    device_h: int
    shot_w: int
    shot_h: int

    def to_device(self, x: float, y: float) -> tuple[int, int]:
        return int((x + 0.5) * self.device_w / self.shot_w), int((y + 0.5) * self.device_h / self.shot_h)

    def to_shot(self, x: int, y: int) -> tuple[int, int]:
        return round(x * self.shot_w / self.device_w), round(y * self.shot_h / self.device_h)


def parse_uiautomator(xml: str, geometry: Geometry) -> list[dict[str, Any]]:
    """`uiautomator dump` XML -> `ui_elements` with the keys and units `PhoneEnv` uses (every
    AndroidWorld `UIElement` field, `bbox_pixels` in device pixels, `bounds` in screenshot pixels)."""
    elements: list[dict[str, Any]] = []
    for node in ET.fromstring(xml).iter("node"):
        flag = lambda name: node.get(name) == "true"  # noqa: E731
        text, desc = node.get("text", ""), node.get("content-desc", "")
        clickable = flag("clickable") or flag("long-clickable")
        if not (text or desc or clickable or flag("scrollable")):
            continue
        numbers = [int(v) for v in node.get("bounds", "[0,0][0,0]").replace("][", ",").strip("[]").split(",")]
        x0, y0 = geometry.to_shot(numbers[0], numbers[1])
        x1, y1 = geometry.to_shot(numbers[2], numbers[3])
        pixels = dict(zip(("x_min", "y_min", "x_max", "y_max"), numbers))
        elements.append({
            "index": len(elements), "bounds": [x0, y0, x1, y1], "text": text or None,
            "content_description": desc or None, "class_name": node.get("class") or None,
            "bbox": {k: v / (geometry.device_w if k[0] == "x" else geometry.device_h) for k, v in pixels.items()},
            "bbox_pixels": pixels, "hint_text": node.get("hint") or None, "is_checked": flag("checked"),
            "is_checkable": flag("checkable"), "is_clickable": clickable,
            "is_editable": node.get("class", "").endswith("EditText"), "is_enabled": node.get("enabled") != "false",
            "is_focused": flag("focused"), "is_focusable": flag("focusable"),
            "is_long_clickable": flag("long-clickable"),
            "is_scrollable": flag("scrollable"), "is_selected": flag("selected"), "is_visible": True,
            "package_name": node.get("package") or None, "resource_name": node.get("resource-id") or None,
            "tooltip": None, "resource_id": None,
        })
    return elements


def commands(action: ParsedAction, elements: list[dict[str, Any]], geometry: Geometry) -> list[list[str]]:
    """The `adb` argument lists that carry out `action` (empty for wait/answer/status)."""
    args, name = action.args, action.name
    if name in KEYCODES:
        return [["shell", "input", "keyevent", KEYCODES[name]]]
    if name in ("click", "double_tap", "long_press"):
        x, y = geometry.to_device(*_point(args, elements, name))
        tap = ["shell", "input", "tap", str(x), str(y)]
        if name == "long_press":
            return [["shell", "input", "swipe", str(x), str(y), str(x), str(y), "800"]]
        return [tap, tap] if name == "double_tap" else [tap]
    if name == "input_text":
        steps: list[list[str]] = []
        if args.get("index") is not None:
            x, y = geometry.to_device(*_point(args, elements, name))
            steps.append(["shell", "input", "tap", str(x), str(y)])
            if args.get("clear_text"):
                current = len(elements[args["index"]]["text"] or "")
                steps.append(["shell", "input", "keyevent", "KEYCODE_MOVE_END", *["KEYCODE_DEL"] * current])
        return [*steps, ["shell", "input", "text", shlex.quote(args["text"].replace(" ", "%s"))]]
    if name in ("scroll", "swipe"):
        direction = args["direction"]
        if name == "scroll":  # reveal content in `direction`: the finger moves the other way
            direction = {"up": "down", "down": "up", "left": "right", "right": "left"}[direction]
        if args.get("x") is not None and args.get("y") is not None:
            x0, y0 = geometry.to_device(args["x"], args["y"])
        else:
            x0, y0 = geometry.device_w // 2, geometry.device_h // 2
        dx, dy = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}[direction]
        x1 = min(geometry.device_w - 1, max(0, x0 + dx * geometry.device_w // 3))
        y1 = min(geometry.device_h - 1, max(0, y0 + dy * geometry.device_h // 3))
        return [["shell", "input", "swipe", str(x0), str(y0), str(x1), str(y1), "300"]]
    if name == "open_app":
        wanted = args["app_name"].strip()
        package = PACKAGES.get(wanted.casefold(), wanted if "." in wanted else None)
        if package is None:
            raise ActionError(f"Unknown app {wanted!r}: give a package name or one of {', '.join(PACKAGES)}.")
        return [["shell", "monkey", "-p", shlex.quote(package), "-c", "android.intent.category.LAUNCHER", "1"]]
    return []


def _point(args: dict[str, Any], elements: list[dict[str, Any]], verb: str) -> tuple[float, float]:
    centre = target_point(args, [e["bounds"] for e in elements], verb)
    return centre if centre is not None else (args["x"], args["y"])


class AdbPhone:
    """A connected device: `observe()` -> (screenshot, ui_elements, text); `act(text)` -> feedback."""

    def __init__(self, serial: str | None = None, adb: str = "adb", screenshot_height: int = 1120,
                 timeout_s: float = 30.0):
        found = shutil.which(adb)
        if found is None:
            raise RuntimeError(f"adb not found at {adb!r}; install Android platform-tools (Debian package `adb`) "
                               "or pass adb=/path/to/adb.")
        self.base = [found, *(["-s", serial] if serial else [])]
        self.screenshot_height, self.timeout_s = screenshot_height, timeout_s
        self.geometry: Geometry | None = None
        self.elements: list[dict[str, Any]] = []
        self.answer: str | None = None
        self.goal_status: str | None = None

    def _adb(self, *args: str) -> bytes:
        done = subprocess.run([*self.base, *args], capture_output=True, timeout=self.timeout_s, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"adb {' '.join(args[:3])} failed ({done.returncode}): "
                               f"{done.stderr.decode(errors='replace').strip()}; check `adb devices`.")
        return done.stdout

    def observe(self) -> tuple[np.ndarray, list[dict[str, Any]], str]:
        image = Image.open(io.BytesIO(self._adb("exec-out", "screencap", "-p"))).convert("RGB")
        width = round(self.screenshot_height * image.width / image.height)
        self.geometry = Geometry(image.width, image.height, width, self.screenshot_height)
        self._adb("shell", "uiautomator", "dump", "/sdcard/coachgym_ui.xml")
        xml = self._adb("exec-out", "cat", "/sdcard/coachgym_ui.xml").decode("utf-8", errors="replace")
        self.elements = parse_uiautomator(xml, self.geometry)
        shot = np.asarray(image.resize((width, self.screenshot_height), Image.Resampling.BILINEAR))
        return shot, self.elements, "UI elements:\n" + format_elements(self.elements)

    def act(self, text: str) -> str:
        """Run one action (call `observe()` first: indices refer to the last observed screen)."""
        if self.geometry is None:
            raise RuntimeError("Call observe() before act(): indices and pixels refer to the last screenshot.")
        action = PHONE_ACTIONS.parse(text)
        if action.name == "answer":
            self.answer = action.args["text"]
        elif action.name == "status":
            self.goal_status = action.args["goal_status"]
        for command in commands(action, self.elements, self.geometry):
            self._adb(*command)
        if action.name == "wait":
            time.sleep(1.0)
        return f"Executed {action.name}."
