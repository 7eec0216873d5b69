"""Reading typed values (money, times, dates, phone numbers, emails, counts, names) out of free text.

Evaluators compare what an agent wrote (an `answer`, a message it sent, a note it saved) with the
world's facts as *values*, never as substrings: "$170" is not $70, "18:30" is not 08:30 and
"not sunflower42" is not "sunflower42". The normalisation, documented in docs/phone.md:

- money / number: every number in the text (thousands commas allowed, "$" optional; clock times
  and ISO dates are not numbers) must equal the expected value, and there must be at least one
  ("$2,200" is 2200; "70 dollars" is 70).
- time: every clock time ("8:30", "08:30", "8:30 am", "8 pm", "20.00") must equal the expected
  HH:MM; a time without am/pm is read as 24-hour.
- date: every date (ISO "2026-11-24", "November 24", "Nov 24, 2026", "24 November") must equal
  the expected day; a missing year is the world's year.
- phone: every run of 7+ digits (spaces, dashes, dots, brackets allowed) must be the expected
  number, with or without its country code.
- email: every address must equal the expected one, case-insensitively.
- text: the whole text, case-folded, with curly quotes straightened, runs of spaces collapsed and
  surrounding punctuation stripped, must equal one of the accepted phrasings.

"Every ... must equal" is what makes an over-broad answer (everything on screen) fail; the
evaluator also refuses answers longer than a short statement (`evaluate.MAX_ANSWER_WORDS`). This
module only parses and compares; it must not know about tasks or state.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

_NUMBER = re.compile(r"(?<![\w.])\$?\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\w])")
_TIME = re.compile(r"(?<![\d:])(\d{1,2})(?:[:.h](\d{2}))?\s*([ap])\.?\s?m\b\.?"  # 8 pm, 8:30 a.m.
                   r"|(?<![\d:.])(\d{1,2})[:.](\d{2})(?![\d:])", re.IGNORECASE)  # 08:30, 20.00
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.IGNORECASE)
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+(\d{{4}}))?\b", re.IGNORECASE)
_PHONE = re.compile(r"\+?\d[\d\s\-().]{5,}\d")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_EDGE = " \t\n.,!?;:\"'`()[]"


def normalize_text(text: str) -> str:
    """Case-folded, quotes straightened, spaces collapsed, surrounding punctuation stripped."""
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip(_EDGE).casefold()


def numbers(text: str) -> list[Decimal]:
    """Amounts and counts; clock times and ISO dates are not numbers here ("2 events at 08:30" is 2)."""
    text = _ISO_DATE.sub(" ", _TIME.sub(" ", text))
    return [Decimal(whole.replace(",", "") + (f".{frac}" if frac else "")) for whole, frac in _NUMBER.findall(text)]


def times(text: str) -> list[str]:
    """Clock times as HH:MM (24h)."""
    found = []
    for hour_ap, minute_ap, ampm, hour24, minute24 in _TIME.findall(text):
        if ampm:
            hour, minute = int(hour_ap), int(minute_ap or 0)
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if ampm.lower() == "p" else 0)
        else:
            hour, minute = int(hour24), int(minute24)
        if hour < 24 and minute < 60:
            found.append(f"{hour:02d}:{minute:02d}")
    return found


def dates(text: str, year: int) -> list[str]:
    """Calendar days as YYYY-MM-DD; invalid days are skipped."""
    found: list[tuple[int, int, int]] = [(int(y), int(m), int(d)) for y, m, d in _ISO_DATE.findall(text)]
    stripped = _ISO_DATE.sub(" ", text)
    for month, day, year_text in _MONTH_DAY.findall(stripped):
        found.append((int(year_text or year), _month(month), int(day)))
    for day, month, year_text in _DAY_MONTH.findall(stripped):
        found.append((int(year_text or year), _month(month), int(day)))
    out = []
    for y, m, d in found:
        try:
            out.append(dt.date(y, m, d).isoformat())
        except ValueError:
            continue
    return out


def _month(name: str) -> int:
    return next(i + 1 for i, full in enumerate(_MONTHS) if full.startswith(name.casefold().rstrip(".")[:3]))


def phones(text: str) -> list[str]:
    return [digits for match in _PHONE.findall(text) if len(digits := re.sub(r"\D", "", match)) >= 7]


def emails(text: str) -> list[str]:
    return [e.casefold() for e in _EMAIL.findall(text)]


def same_phone(given: str, expected: str) -> bool:
    """Digits equal, or equal once the expected number's country code is dropped."""
    want = re.sub(r"\D", "", expected)
    return given == want or (len(want) > 10 and given == want[-10:])


def _all_equal(found: list[Any], ok: Callable[[Any], bool], what: str, expected: Any) -> str | None:
    if not found:
        return f"no {what} found; expected {expected}"
    wrong = [f for f in found if not ok(f)]
    return f"{what} {wrong[0]} is not {expected}" if wrong else None


def compare(kind: str, text: str, expected: Any, year: int = 2026) -> str | None:
    """None when `text` states exactly the expected value of `kind`, else the reason it does not.

    `expected` is a list of accepted phrasings for `text`, and one value for the other kinds."""
    if kind in ("money", "number"):
        return _all_equal(numbers(text), lambda n: n == Decimal(str(expected)), "number", expected)
    if kind == "time":
        return _all_equal(times(text), lambda t: t == expected, "time", expected)
    if kind == "date":
        return _all_equal(dates(text, year), lambda d: d == expected, "date", expected)
    if kind == "phone":
        return _all_equal(phones(text), lambda p: same_phone(p, expected), "phone number", expected)
    if kind == "email":
        return _all_equal(emails(text), lambda e: e == expected.casefold(), "email", expected)
    if kind == "text":
        options = [expected] if isinstance(expected, str) else list(expected)
        if normalize_text(text) in {normalize_text(o) for o in options}:
            return None
        return f"{text!r} is not one of {options}"
    raise ValueError(f"Unknown value kind {kind!r}; use money, number, time, date, phone, email or text.")


def mentions(text: str, phrase: str) -> bool:
    """`phrase` occurs in `text` as whole words (case-insensitive): "row f" is in "Row F!",
    "10" is not in "$170"."""
    pattern = r"(?<!\w)" + re.escape(normalize_text(phrase)) + r"(?!\w)"
    return re.search(pattern, re.sub(r"\s+", " ", text.translate(_QUOTES)).casefold()) is not None
