"""The shared Chromium launcher: finds the system binary, launches it, and fails with one clear message."""

from __future__ import annotations

import pytest
from coachgym.envs.browser.chromium import ChromiumNotFound, chromium_path, launch_chromium
from coachgym.envs.browser.session import shared_browser


def test_browser_chromium_missing_binary_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("COACHGYM_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(ChromiumNotFound) as error:
        chromium_path()
    message = str(error.value)
    assert "no-such-chromium" in message and "COACHGYM_CHROMIUM" in message and "`chromium`" in message


def test_browser_chromium_override_is_used(monkeypatch):
    real = chromium_path()
    monkeypatch.setenv("COACHGYM_CHROMIUM", real)
    assert chromium_path() == real


def test_browser_chromium_launches_headless():
    # The process's one Playwright driver (a second sync_playwright() in this thread would fail).
    browser = launch_chromium(shared_browser.playwright)
    try:
        page = browser.new_page()
        page.set_content("<p id=x>hello</p>")
        assert page.inner_text("#x") == "hello"
    finally:
        browser.close()
