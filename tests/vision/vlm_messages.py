"""Chat-message builders shared by the vision tests.

A plain module, not `conftest`: test files that imported `conftest` by name picked up another test
folder's conftest when both folders were collected in one run.
"""

from __future__ import annotations


def user_turn(text: str, with_image: bool) -> list[dict]:
    content = ([{"type": "image"}] if with_image else []) + [{"type": "text", "text": text}]
    return [{"role": "user", "content": content}]
