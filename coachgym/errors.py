"""Errors a user can fix, and how the CLI prints errors and problems: one line each.

Library code raises ordinary exceptions whose messages say what happened and what to do;
`UserError` is for the cases no built-in type names (a run that produced nothing, too many failed
episodes). The CLI prints `USER_ERRORS` as `one_line(error)` and exits 2; anything else is a bug
and keeps its traceback. This module must not import anything heavy: the CLI loads it first.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import click
from pydantic import ValidationError


class UserError(Exception):
    """Something the user can fix (an option, a path, a server, a config); the message says how."""


# Exception types whose message is meant for the user. ValidationError is a ValueError, OSError
# covers missing files and unreachable servers, RuntimeError the "X is unavailable" errors.
USER_ERRORS: tuple[type[BaseException], ...] = (UserError, ValueError, KeyError, OSError, RuntimeError, ImportError)


def one_line(error: BaseException) -> str:
    """The error's message on one line; a ValidationError as `field: problem; ...`."""
    if isinstance(error, ValidationError):
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" if e["loc"] else e["msg"]
                             for e in error.errors())
        text = f"Invalid {error.title}: {problems}"
    elif isinstance(error, KeyError) and error.args:
        text = str(error.args[0])  # str(KeyError) would quote the message
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest of `choices`, or '' when none is close."""
    matches = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def print_problems(lines: Iterable[str]) -> None:
    """Problems of a finished run (failed episodes, missing components): one red line each,
    never wrapped to the terminal's width."""
    for line in lines:
        click.secho(f"problem: {line}", fg="red")
