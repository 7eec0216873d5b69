"""Fixtures every test folder may use."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture
def one_line_error() -> Callable[[int, str], str]:
    """A check that a CLI run failed as users must see it: exit code 2, exactly one `Error:` line,
    no traceback. Takes (exit code, everything printed); returns the error line."""

    def check(exit_code: int, output: str) -> str:
        errors = [line for line in output.splitlines() if line.startswith("Error: ")]
        assert exit_code == 2 and len(errors) == 1 and "Traceback" not in output, output
        return errors[0]

    return check
