"""Reference policies for MiniWoB++ pages that are forms, multi-page flows, free-form instructions and editors:
flight booking, food ordering, a terminal, a rich-text editor, email inboxes with natural-language
instructions, checkboxes chosen by meaning, and a social-media feed's per-post menus.

Like the policies in `test_browser_miniwob_all.py`, these read the outline (and, where said, the page) and act
only through coachgym's actions; they are test fixtures, not agents.
"""

from __future__ import annotations

import re

from tests.browser.miniwob_play import OUTLINE_LINE, Play, policy

# click-checkboxes-soft draws every word of a checkbox and of the query from one row of this table (its page's
# SYNONYMS list, copied from reading the page's source): two words are "similar" when they share a row.
SYNONYMS = [
    "big large huge enormous gigantic", "small tiny little mini petite", "red scarlet crimson vermillion",
    "happy cheerful joyful gleeful delighted", "sad unhappy sorrowful miserable tragic", "angry mad furious irritated",
    "evil wicked immoral sinful corrupt depraved", "wrong incorrect mistaken erroneous", "real genuine actual",
    "strange odd peculiar unusual weird", "stop cease halt end finish",
    "scared terrified panicked fearful frightened afraid", "quiet calm peaceful serene mild", "old aged archaic",
    "love like adore favor", "kill murder assassinate", "keep retain preserve sustain maintain",
    "hide conceal camouflage", "hate despise loathe detest dislike", "funny humorous amusing comical laughable",
    "fat fleshy plump chubby", "stupid dumb dull unwise", "delicious savory delectable appetizing",
    "cut slice carve chop", "brave courageous fearless", "begin start initiate launch", "answer reply response",
    "television televisions TV TVs", "house home houses homes", "fire flame fires flames", "pig pork swine",
    "rabbit rabbits bunny bunnies", "car cars automobile automobiles vehicle vehicles", "water",
]


def _synonym_row(word: str) -> set[str]:
    return next(set(row.split()) for row in SYNONYMS if word in row.split())


@policy("click-checkboxes-soft")
def _click_checkboxes_soft(p: Play) -> None:
    words = re.match(r"Select words similar to (.*) and click Submit", p.goal).group(1)
    similar = set() if words == "nothing" else set().union(*(_synonym_row(w.strip()) for w in words.split(",")))
    for element_id, name, _ in p.elements("checkbox"):
        if name in similar:
            p.click(element_id)
    p.submit()


@policy("order-food")
def _order_food(p: Play) -> None:
    """Either one of each named item, or N items of one kind (all N of the first item showing that kind's icon)."""
    items: list[tuple[str, set[str], str]] = []  # (name, kinds from its icons, id of its '+')
    name, kinds = "", set()
    for m in OUTLINE_LINE.finditer(p.text):
        if m["role"] == "img":
            kinds.add(m["name"])
        elif m["role"] == "generic" and m["name"] == "+":
            items.append((name, kinds, m["id"]))
        elif m["role"] == "generic" and m["name"] not in ("-", None) and m["id"] != "3":
            name, kinds = m["name"], set()
    named = re.match(r"Order one of each item: (.*)", p.goal)
    if named:
        for wanted in (w.strip() for w in named.group(1).split(",")):
            p.click(next(add for name, _, add in items if name == wanted))
    else:
        count, kind = re.match(r"Order (\d+) items that are (\S+)", p.goal).groups()
        add = next(add for _, kinds, add in items if kind in kinds)
        for _ in range(int(count)):
            p.click(add)
    p.submit("Order!")


@policy("terminal")
def _terminal(p: Play) -> None:
    """List the files, then remove one whose name ends with the asked extension (or has none)."""
    extension = re.search(r"extension (\.\S+)", p.goal)
    box = p.ids("textbox")[0]  # the terminal's hidden input: its key presses are the command line
    p.type(box, "ls")
    p.press("Enter")
    lines = [name for _, name, _ in p.elements("generic")]
    files = lines[lines.index("ls") + 1].split()
    p.type(box, "rm " + next(f for f in files if (f.endswith(extension.group(1)) if extension else "." not in f)))
    p.press("Enter")
