"""GUI task families on the phone: find the target on the screenshot and tap it.

Every task is "open X" on a screen whose layout is fixed by the task's `layout_seed` (the
launcher's icon order, the order of the note and product lists), with `screen_only` set: the
observation text names the screen but lists no elements, so the target's position can only be
read from the screenshot. Actions use the 0-999 coordinate convention. Train and held-out test
tasks use disjoint layout seeds, so a model is scored on layouts it never trained on. The families:

* `open-app`: tap an app icon on the shuffled launcher (big coloured icons: a low-res view suffices;
  the dock's four favourites are drawn from the layout seed too, so no fixed point opens an app);
* `open-note`: tap a note in the shuffled Notes list (a row of text);
* `open-product`: tap a product in the shuffled Shop list, rows of small text that differ only in
  words (in a 56 px low-res view a row is 5 px tall and its letters under 2 px:
  the detail-needing family).

The expert's plan carries the target's point (`["tap_at", label, x, y]`), computed here from the
same UI tree the env draws; the evaluator checks that the target's screen was the first one
opened. This module must not draw or judge anything itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from coachgym.envs.core import Task, TaskSuite
from coachgym.envs.phone.device import Device
from coachgym.envs.phone.ui import Scale, box_center
from coachgym.envs.phone.world import build_state

#: Layout seeds of held-out test tasks start here; train layouts count up from 0.
TEST_LAYOUT_BASE = 100_000


def _launcher(device: Device) -> list[tuple[str, str]]:
    return [(name, f"{name}/main/") for name in device.state.launcher]


def _notes(device: Device) -> list[tuple[str, str]]:
    return [(note.title, f"Notes/edit/{note.title}") for note in device.state.notes]


def _products(device: Device) -> list[tuple[str, str]]:
    return [(p.name, f"Shop/product/{p.id}") for p in device.state.products]


#: family -> (start app, goal template, candidate (label, screen opened) pairs of a device).
FAMILIES: dict[str, tuple[str | None, str, Callable[[Device], list[tuple[str, str]]]]] = {
    "open-app": (None, "Open the {} app.", _launcher),
    "open-note": ("Notes", "Open the note titled '{}'.", _notes),
    "open-product": ("Shop", "Open the product page of the {}.", _products),
}


def visible_targets(family: str, layout_seed: int) -> list[tuple[str, str, tuple[int, int]]]:
    """(label, screen, 0-999 centre) of every candidate drawn on the family's first screen."""
    start_app, _, candidates = FAMILIES[family]
    device = Device(build_state({"layout_seed": layout_seed}, seed=0))
    if start_app:
        device.launch(start_app)
    drawn = {e["text"]: e["bounds"] for e in device.screen().describe(Scale.for_height(1120), units="normalized")
             if e["is_clickable"]}
    return [(label, screen, box_center(drawn[label])) for label, screen in candidates(device) if label in drawn]


def gui_task(family: str, layout_seed: int, target: int, split: str) -> Task:
    """The `target`-th visible candidate of `family` on layout `layout_seed`."""
    start_app, goal, _ = FAMILIES[family]
    label, screen, (x, y) = visible_targets(family, layout_seed)[target]
    setup = {"world": {"layout_seed": layout_seed}, "screen_only": True, "coordinates": "normalized",
             "plan": [["tap_at", label, x, y], ["status", "complete"]]}
    if start_app:
        setup["start_app"] = start_app
    slug = "".join(c if c.isalnum() else "-" for c in label.casefold())
    return Task(id=f"phone-gui-{family}-{slug}-L{layout_seed}", env="phone", goal=goal.format(label), setup=setup,
                evaluator={"checks": [{"kind": "opened", "screen": screen, "first": True}]}, split=split,
                tags=["gui", family, "screen-only"], max_steps=2)


def _tasks(families: Iterable[str], seeds: Iterable[int], per_layout: int, split: str) -> list[Task]:
    tasks = []
    for family in families:
        for seed in seeds:
            count = len(visible_targets(family, seed))
            picks = np.random.default_rng(seed).choice(count, size=min(per_layout, count), replace=False)
            tasks += [gui_task(family, seed, int(i), split) for i in picks]
    return tasks


def gui_suite(train_layouts: int = 24, test_layouts: int = 8, per_layout: int = 2,
              families: Iterable[str] = tuple(FAMILIES)) -> TaskSuite:
    """`per_layout` targets per family on each of `train_layouts` train and `test_layouts` held-out layouts."""
    families = list(families)
    unknown = set(families) - set(FAMILIES)
    if unknown:
        raise ValueError(f"Unknown GUI families {sorted(unknown)}; choose from {sorted(FAMILIES)}.")
    tasks = (_tasks(families, range(train_layouts), per_layout, "train")
             + _tasks(families, range(TEST_LAYOUT_BASE, TEST_LAYOUT_BASE + test_layouts), per_layout, "test"))
    return TaskSuite(name="phone-gui", env="phone", tasks=tasks, reference_score=1.0,
                     description="Open an app, a note or a product found on the screenshot; held-out layouts.")


__all__ = ["FAMILIES", "TEST_LAYOUT_BASE", "gui_suite", "gui_task"]
