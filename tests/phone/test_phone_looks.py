"""Screens closer to a device: drawn icons, launcher dock and search bar, avatars and product photos,
a keyboard with suggestions and symbols, Roboto text; all identical across processes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np

from coachgym.envs.phone import PhoneEnv, icons
from coachgym.envs.phone.render import ROBOTO, font_path
from tests.phone.conftest import element, play, tap


def _env(task: str = "phone-contacts-ask-nina") -> PhoneEnv:
    env = PhoneEnv(task=task)
    env.reset(seed=0)
    return env


def _region(env: PhoneEnv, bounds: list[int]) -> np.ndarray:
    x0, y0, x1, y1 = bounds
    return env._screenshot()[y0:y1, x0:x1].reshape(-1, 3)


def test_launcher_has_a_search_bar_and_a_dock_whose_icons_open_apps():
    env = _env()
    assert element(env, "Search apps")["class_name"] == "android.widget.TextView"
    dock = [e for e in env.ui_elements() if e["resource_name"] == "com.android.launcher3:id/appicon" and not e["text"]]
    assert [e["content_description"] for e in dock] == ["Messages", "Contacts", "Calendar", "Shop"]
    assert all(e["text"] is None and e["package_name"] == "com.android.launcher3" for e in dock)
    colors = {tuple(c) for c in _region(env, dock[0]["bounds"])}
    assert len(colors) > 20  # an anti-aliased drawing, not a flat square with a letter
    tap(env, "Calendar")
    assert env.device.view is not None and env.device.view.app == "Calendar"


def test_icons_are_distinct_vector_drawings_and_stable_colours():
    masks = {name: np.asarray(icons.glyph(name, 48, (0, 0, 0)).getchannel("A")) for name in icons.GLYPHS}
    assert all(m.max() == 255 and 0 < (m > 128).mean() < 0.8 for m in masks.values())
    assert len({m.tobytes() for m in masks.values()}) == len(masks)
    assert icons.tint("Alice Chen") == icons.PALETTE[3108148395 % len(icons.PALETTE)]  # zlib.crc32, not hash()


def test_contacts_show_avatars_and_products_show_photos():
    env = _env()
    play(env, ['open_app("Contacts")'])
    row = element(env, "Alice Chen")
    x0, y0, x1, y1 = row["bounds"]
    avatar_area = _region(env, [x0, y0, x0 + (x1 - x0) // 8, y1])
    assert (np.abs(avatar_area - np.array(icons.tint("Alice Chen"))).sum(axis=1) < 30).mean() > 0.2
    tap(env, "Alice Chen")
    assert element(env, "Photo of Alice Chen")["class_name"] == "android.widget.ImageView"
    play(env, ['open_app("Shop")'])
    tap(env, "Tote Bag")
    photo = element(env, "Photo of Tote Bag")
    assert len({tuple(c) for c in _region(env, photo["bounds"])}) > 50


def test_keyboard_suggestions_complete_the_word_and_123_shows_symbols():
    env = _env("phone-messages-text-carol")
    play(env, ['open_app("Messages")'])
    tap(env, "Start chat")
    index = element(env, "To: name or number")["index"]
    play(env, [f'input_text("Ca", index={index})'])
    keys = {n.text: n for n in env.device.screen().nodes if n.style in ("key", "suggestion")}
    assert "Carol" in keys and "@" not in keys
    x0, y0, x1, y1 = env.scale.rect(keys["Carol"].bounds)
    play(env, [f"click(x={(x0 + x1) // 2}, y={(y0 + y1) // 2})"])
    assert element(env, "To: name or number")["text"] == "Carol "
    x0, y0, x1, y1 = env.scale.rect(keys["?123"].bounds)
    play(env, [f"click(x={(x0 + x1) // 2}, y={(y0 + y1) // 2})"])
    assert "@" in {n.text for n in env.device.screen().nodes if n.style == "key"}


def test_text_is_roboto_with_dejavu_for_missing_symbols():
    if ROBOTO is None:
        assert "DejaVu" in font_path(False, "Hello")
        return
    assert font_path(False, "Hello") == ROBOTO[0] and "DejaVu" in font_path(False, "★4.6")


def test_screens_are_identical_across_processes_and_hash_seeds():
    script = ("import hashlib; from coachgym.envs.phone import PhoneEnv\n"
              "env = PhoneEnv(task='phone-shop-buy-dive'); obs, _ = env.reset(seed=3); h = hashlib.sha256()\n"
              "for a in ['open_app(\"Contacts\")', 'open_app(\"Shop\")', 'click(index=9)']:\n"
              "    obs = env.step(a)[0]; h.update(obs['screenshot'].tobytes())\n"
              "print(h.hexdigest())")
    digests = set()
    for seed in ("1", "2"):
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "PYTHONHASHSEED": seed})
        assert run.returncode == 0, run.stderr
        digests.add(run.stdout.strip())
    assert len(digests) == 1 and len(hashlib.sha256().hexdigest()) == len(digests.pop())
