"""Reference policies for MiniWoB++ pages that are forms, multi-page flows, free-form instructions and editors:
flight booking, food ordering, a terminal, a rich-text editor, email inboxes with natural-language
instructions, checkboxes chosen by meaning, and a social-media feed's per-post menus.

Like the policies in `test_browser_miniwob_all.py`, these read the outline (and, where said, the page) and act
only through coachgym's actions; they are test fixtures, not agents.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from functools import cache

import numpy as np

from coachgym.envs.browser.miniwob import HTML_DIR
from tests.browser.miniwob_play import OUTLINE_LINE, Play, minutes, policy

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


def _once_shown(p: Play, find: Callable[[], str | None]) -> str:
    """The id `find` picks from the outline, waiting for it a little: an icon drawn by a CSS image is outlined
    only once the image has loaded and given it a size."""
    for _ in range(6):
        found = find()
        if found:
            return found
        p.wait(300)
    raise LookupError(f"the element never showed up in:\n{p.text}")


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


# ----------------------------------------------------------------------------------- email with free-form instructions
@cache
def instruction_templates(task: str) -> tuple[tuple[str, str], ...]:
    """(action, template) of every instruction the page can show (reads the page's source, not the observation):
    the -nl-turk pages draw from the crowd-written TEMPLATES of templates.js, email-inbox-forward-nl from its own
    NL_TEMPLATES lists. NAME is the email's sender, DEST whom to forward it to, MSG the reply."""
    if task.endswith("-turk"):
        source = (HTML_DIR / "common" / "special" / "email-inbox-nl" / "templates.js").read_text()
        templates = json.loads(source[source.index("{"): source.rindex("}") + 1])
        actions = ["forward"] if "forward" in task else list(templates)
        return tuple((action, t) for action in actions for split in templates[action].values() for t in split)
    source = (HTML_DIR / "miniwob" / f"{task}.html").read_text()
    lists = re.findall(r"NL_TEMPLATES = \[(.*?)\];", source, re.DOTALL)
    return tuple(("forward", t) for block in lists for t in re.findall(r"'((?:[^'\\]|\\.)*)'", block))


def _template_pattern(template: str) -> re.Pattern:
    """The page fills only the first NAME, DEST and MSG of a template (JavaScript's replace without /g)."""
    pattern, seen = "", set()
    for part in re.split(r"(NAME|DEST|MSG)", template):
        if part in ("NAME", "DEST", "MSG") and part not in seen:
            seen.add(part)
            pattern += f"(?P<{part}>.+?)"
        else:
            pattern += re.escape(part)
    return re.compile(pattern)


def parse_instruction(task: str, goal: str, senders: set[str]) -> tuple[str, dict[str, str]]:
    """(action, fields) of the instruction: every template it fits, with the names being the inbox's senders
    (both NAME and DEST are), votes; a few crowd-written templates swap NAME and DEST, so the majority wins."""
    votes: Counter = Counter()
    for action, template in instruction_templates(task):
        match = _template_pattern(template).fullmatch(goal)
        if match and all(name in senders for key, name in match.groupdict().items() if key != "MSG"):
            votes[(action, tuple(sorted(match.groupdict().items())))] += 1
    if not votes:
        raise LookupError(f"no {task} instruction template fits {goal!r}")
    (action, fields), _ = votes.most_common(1)[0]
    return action, dict(fields)


def _threads(p: Play) -> list[tuple[str, str, dict[str, str]]]:
    """(sender's id, sender, {icon class: id}) of each email in the inbox list, in order."""
    threads: list[tuple[str, str, dict[str, str]]] = []
    opened = False
    for m in OUTLINE_LINE.finditer(p.text):
        if not m["indent"]:
            opened = m["role"] == "generic" and m["name"] is None and m["id"] != "3"
        elif opened and m["indent"] == "  " and m["name"]:
            threads.append((m["id"], m["name"], {}))
            opened = False
        icon = re.search(r"class='(trash|star)'", m["rest"])
        if icon and threads:
            threads[-1][2].setdefault(icon.group(1), m["id"])
    return threads


def _send_icon(p: Play) -> str:
    return _once_shown(p, lambda: next((i for i, _, rest in p.elements("generic") if "send.png" in rest), None))


@policy("email-inbox-nl-turk", "email-inbox-forward-nl", "email-inbox-forward-nl-turk")
def _email_inbox_nl(p: Play) -> None:
    threads = _threads(p)
    action, fields = parse_instruction(p.env.unwrapped.task.id.split(".", 1)[1], p.goal, {n for _, n, _ in threads})
    sender = next(i for i, name, _ in threads if name == fields["NAME"])
    if action in ("delete", "important"):
        icon = "trash" if action == "delete" else "star"
        p.click(_once_shown(p, lambda: next(icons for i, _, icons in _threads(p) if i == sender).get(icon)))
        return
    p.click(sender)
    if action == "reply":
        p.click(p.find("Reply"))
        p.type(p.ids("textbox")[-1], fields["MSG"])
    else:
        p.click(p.find("Forward"))
        p.type(p.ids("textbox")[0], fields["DEST"])
    p.click(_send_icon(p))


# ----------------------------------------------------------------------------------- flight booking
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def _autocomplete(p: Play, box: str, place: str) -> None:
    """Type a city or airport code, then pick the menu entry that is exactly it ("City, ST (CODE)"): the page
    accepts only an entry of its airport list, not the typed text. The menu comes after jQuery UI's search delay
    (300 ms, none on the nodelay page) and is rebuilt for every prefix typed, which lags behind the keys on a busy
    machine: the entry is clicked once two looks in a row show the same one."""
    p.type(box, place)
    seen = None
    for _ in range(12):
        entry = next((i for i, name, rest in p.elements("generic") if "offscreen" not in rest
                      and (name.startswith(place + " (") or name.endswith(f"({place})"))), None)
        if entry and entry == seen:
            # Not mirrored: replayed on the reference (entry clicked at the same point after its own menu
            # timing), book-flight's right plan ended with no verdict there at the final Book click while the
            # page here scored 1.0 (clean-clone CI, 2026-12-02); why the replay diverges is not yet known.
            p.unmirrored(f'click("{entry}")')
            return
        seen = entry
        p.wait(300)
    raise LookupError(f"no steady autocomplete entry for {place!r} in:\n{p.text}")


def _pick_date(p: Play, box: str, month: int, day: int, year: int) -> None:
    """Open the read-only date field's calendar and step back (it opens at the latest allowed month) to the date."""
    p.click(box)
    for _ in range(24):
        names = [name for _, name, _ in p.elements("generic")]
        at = next(k for k in range(names.index("Prev"), len(names)) if names[k] in MONTHS)
        shown = int(names[at + 1]), MONTHS.index(names[at]) + 1
        if shown == (year, month):
            break
        p.click(p.find("Prev" if shown > (year, month) else "Next", "generic"))
    table = p.text.split("ui-datepicker-calendar", 1)[1]
    p.click(next(i for i, name, _ in p.elements("link") if name == str(day) and f"[{i}]" in table))


@policy("book-flight", "book-flight-nodelay")
def _book_flight(p: Play) -> None:
    kind, origin, destination, month, day, year = re.match(
        r"Book the (cheapest|shortest) one-way flight from: (.+) to: (.+) on (\d\d)/(\d\d)/(\d{4})\.", p.goal).groups()
    from_box, to_box, date_box = p.ids("textbox")
    _autocomplete(p, from_box, origin)
    _autocomplete(p, to_box, destination)
    _pick_date(p, date_box, int(month), int(day), int(year))
    p.submit("Search")
    prices = [(i, int(name.split("$")[1])) for i, name, _ in p.elements("button") if name.startswith("Book flight for $")]
    durations = [minutes(name) for _, name, _ in p.elements("generic") if re.fullmatch(r"\d+h \d+m", name)]
    best = min(range(len(prices)), key=lambda k: prices[k][1] if kind == "cheapest" else durations[k])
    p.click(prices[best][0])


# ----------------------------------------------------------------------------------- rich-text editor
# text-editor accepts, for each colour name, any of these swatches of the editor's palette (its page's COLOR_MAP).
EDITOR_COLORS = {"red": "e60000", "orange": "ff9900", "yellow": "ffff00", "green": "008a00", "blue": "0066cc",
                 "purple": "9933ff"}
STYLE_BUTTONS = {"bold": "ql-bold", "italics": "ql-italic", "underlined": "ql-underline"}  # the toolbar's classes


def word_span(p: Play, element_id: str, word: str) -> tuple[float, float, float]:
    """(left, right, middle y) of the first whole `word` in the element's text, in viewport pixels: where the
    screenshot draws it (reads the page's text layout, which the outline does not give)."""
    return tuple(p.env.unwrapped.session.page.evaluate(
        """([id, word]) => { const e = document.querySelector(`[data-cg-id="${id}"]`);
            const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
              const at = (' ' + node.data + ' ').indexOf(' ' + word + ' ');
              if (at < 0) continue;
              const range = document.createRange(); range.setStart(node, at); range.setEnd(node, at + word.length);
              const r = range.getBoundingClientRect(); return [r.left, r.right, r.top + r.height / 2]; }
            return null; }""", [element_id, word]))


def _swatch(p: Play, color: str) -> str:
    """The palette swatch whose middle pixel in the screenshot is nearest the colour's main shade."""
    want = np.array([int(EDITOR_COLORS[color][k:k + 2], 16) for k in (0, 2, 4)])
    shot = p.obs["screenshot"]
    def distance(element_id: str) -> float:
        x, y = p.center(element_id)
        return float(np.abs(shot[int(y), int(x)].astype(int) - want).sum())
    return min((i for i, _, rest in p.elements("generic") if "ql-picker-item" in rest), key=distance)


def _color_picker(p: Play) -> str:
    """The toolbar's colour drop-down: the unnamed control before the bold button."""
    toolbar = [m for m in OUTLINE_LINE.finditer(p.text) if not m["indent"]]
    bold = next(k for k, m in enumerate(toolbar) if "ql-bold" in m["rest"])
    return toolbar[bold - 1]["id"]


@policy("text-editor")
def _text_editor(p: Play) -> None:
    """Select the word (a drag across it) or everything (Control+a), then the toolbar's style or colour."""
    match = re.match(r"Using the text editor, (?:give the text (.+?)|give everything|make everything) the "
                     r"(style|color) (\w+)", p.goal)
    word, kind, value = match.groups()
    paragraph = p.ids("paragraph")[0]
    if word:
        left, right, y = word_span(p, paragraph, word)
        p.drag_xy(left + 1, y, right - 1, y)
        # Quill takes its range from the page's selection 23-64 ms after the drag; styled at once, about
        # 1 run in 10 got part of the word (a person never clicks that fast).
        p.wait(150)
    else:
        p.click(paragraph)
        p.press("Control+a")
    if kind == "style":
        p.click(next(i for i, _, rest in p.elements("button") if f"class='{STYLE_BUTTONS[value]}'" in rest))
    else:
        p.click(_color_picker(p))
        p.click(_swatch(p, value))
    p.submit()


# ----------------------------------------------------------------------------------- social-media feed
POST_ICONS = ("Reply", "Retweet", "Like")  # the other buttons are in each post's "more" menu


@policy("social-media")
def _social_media(p: Play) -> None:
    """The button's icon under the user's post, or the entry of that post's "more" menu ("Mute @user")."""
    user, button = re.match(r'For the user (@\S+), click on the "(.+)" button', p.goal).groups()

    def post() -> str:  # the outline from the user's name on (the lines above change as icons load)
        lines = p.text.split("\n")
        return "\n".join(lines[next(k for k, line in enumerate(lines)
                                    if k > 5 and re.search(rf"\] generic '{re.escape(user)}'", line)):])

    def control(kind: str) -> str | None:
        found = re.search(rf"\[(\S+)\] generic class='{kind}'", post())
        return found and found.group(1)

    if button in POST_ICONS:
        p.click(_once_shown(p, lambda: control(button.lower())))
        return
    p.click(_once_shown(p, lambda: control("more")))
    p.click(next(i for i, name, _ in p.elements() if name.startswith(button) and f"[{i}]" in post()))
