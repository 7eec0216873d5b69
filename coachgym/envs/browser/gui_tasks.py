"""GUI task families on MiniWoB++ pages: find the target on the screenshot and click it.

Every task fixes one page's problem by its `seed` (where the buttons or boxes fall and which one
is asked for), with `screen_only` set: the observation names the page but lists no elements, and
element ids and keys are refused, so the target can only be found on the screenshot. Points are 0-999 of
the 160x210 task area. Train and held-out test tasks use disjoint seeds, so a model is scored on
layouts it never trained on. The families:

* `click-test-2`: two buttons, ONE and TWO, at random places (alike but for their labels);
* `click-color`: the box of the named colour among several (in most problems the instruction
  shows the colour as a swatch on the page, not in words);
* `click-button`: several small buttons with words, and decoys that differ only in case or
  words (in a 56 px view their letters are about 2 px tall: the detail-needing family).

The expert's plan carries the target's point. It is found on the live page by clicking the
family's candidate elements in turn (each where it is not covered by another, nearest its
middle), those the instruction names first, until the page itself rewards the click: the page
stays the only judge, and a seed that no candidate solves raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm

from coachgym.envs.browser.actions import BROWSER_ACTIONS
from coachgym.envs.browser.env import BrowserEnv
from coachgym.envs.browser.miniwob import VIEWPORT
from coachgym.envs.core import Task, TaskSuite
from coachgym.vision.coordinates import to_model_coords

#: Seeds of held-out test tasks start here; train seeds count up from 0.
TEST_SEED_BASE = 100_000

#: family (MiniWoB++ page) -> (CSS selector of its candidate targets, how the expert's thought names one).
FAMILIES: dict[str, tuple[str, str]] = {
    "click-test-2": ("#area button", "button {}"),
    "click-color": ("#area .color", "{} box"),
    "click-button": ("#area button", '"{}" button'),
}

_CANDIDATES_JS = """(selector) => Array.from(document.querySelectorAll(selector)).flatMap(e => {
  // the point nearest the middle where the element is on top (another may cover part of it)
  const box = e.getBoundingClientRect(), points = [];
  for (let i = 1; i < 8; i++) for (let j = 1; j < 8; j++)
    points.push([box.x + box.width * i / 8, box.y + box.height * j / 8]);
  points.sort((a, b) => Math.hypot(a[0] - box.x - box.width / 2, a[1] - box.y - box.height / 2)
                      - Math.hypot(b[0] - box.x - box.width / 2, b[1] - box.y - box.height / 2));
  const open = points.find(([x, y]) => e.contains(document.elementFromPoint(x, y)));
  return open ? [{label: e.textContent.trim() || e.getAttribute('data-color') || '', x: open[0], y: open[1]}] : [];
})"""


def _draft(family: str, seed: int, split: str) -> Task:
    return Task(id=f"miniwob-gui-{family}-S{seed}", env="browser", goal=f"MiniWoB++ {family}, seed {seed}.",
                setup={"kind": "miniwob", "page": family, "seed": seed, "screen_only": True,
                       "coordinates": "normalized"},
                split=split, tags=["gui", family, "screen-only", "miniwob"], max_steps=2)


def _named_first(candidates: list[dict[str, Any]], goal: str) -> list[dict[str, Any]]:
    """Candidates the instruction quotes, then names as a word, then in another case, then the rest."""
    def rank(candidate: dict[str, Any]) -> int:
        label = candidate["label"]
        if not label:
            return 3
        word = rf"\b{re.escape(label)}\b"
        return 0 if f'"{label}"' in goal else 1 if re.search(word, goal) else 2 if re.search(word, goal, re.I) else 3
    return sorted(candidates, key=rank)


def _solved(env: BrowserEnv, draft: Task) -> Task:
    """The draft with the page's instruction as its goal and, as its plan, a point the page rewards."""
    selector, naming = FAMILIES[draft.setup["page"]]
    attempt = 0
    while True:
        observation, _ = env.reset(options={"task_id": draft.id})
        assert env.session is not None
        candidates = _named_first(env.session.page.evaluate(_CANDIDATES_JS, selector), observation["goal"])
        if attempt >= len(candidates):
            raise RuntimeError(f"No {selector!r} element of {draft.id} gets a reward from the page when clicked; "
                               "the MiniWoB++ page may have changed (check the `miniwob` version).")
        target = candidates[attempt]
        x, y = to_model_coords(target["x"], target["y"], *VIEWPORT)
        _, reward, *_ = env.step(BROWSER_ACTIONS.format("click_xy", x, y))
        if reward > 0:
            plan = [{"do": "click_at", "label": naming.format(target["label"]), "x": x, "y": y}]
            return draft.model_copy(update={"goal": observation["goal"], "setup": draft.setup | {"plan": plan}})
        attempt += 1


def miniwob_gui_suite(train_seeds: int = 24, test_seeds: int = 8, families: Iterable[str] = tuple(FAMILIES),
                      progress: bool = True) -> TaskSuite:
    """`train_seeds` train and `test_seeds` held-out problems per family, each solved once in Chromium
    to record the expert's point (about 0.4 s a task)."""
    families = list(families)
    unknown = set(families) - set(FAMILIES)
    if unknown:
        raise ValueError(f"Unknown MiniWoB++ GUI families {sorted(unknown)}; choose from {sorted(FAMILIES)}.")
    drafts = [_draft(family, seed, split) for family in families
              for split, seeds in (("train", range(train_seeds)),
                                   ("test", range(TEST_SEED_BASE, TEST_SEED_BASE + test_seeds)))
              for seed in seeds]
    env = BrowserEnv(suite=TaskSuite(name="miniwob-gui-drafts", env="browser", tasks=drafts))
    try:
        solving = tqdm(drafts, desc="solving MiniWoB++ GUI tasks", disable=not progress)
        tasks = [_solved(env, draft) for draft in solving]
    finally:
        env.close()
    return TaskSuite(name="miniwob-gui", env="browser", tasks=tasks, reference_score=1.0,
                     description="Click the named button or colour box found on a MiniWoB++ screenshot; held-out "
                                 "seeds.")


__all__ = ["FAMILIES", "TEST_SEED_BASE", "miniwob_gui_suite"]
