"""Rendering a report page in real headless Chromium, for the report and quickstart tests."""

from __future__ import annotations

from pathlib import Path

PLOT_TITLES = ["Success per env suite", "Outcome breakdown", "Success vs steps"]


def render(page_path: Path, screenshot: Path) -> dict:
    """Open the page, take a full-page screenshot, and return what it shows: the plots (alt text,
    natural and displayed size), the trajectory-view links, and the URL a first episode link lands on."""
    from playwright.sync_api import sync_playwright

    from coachgym.envs.browser.chromium import launch_chromium

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(page_path.resolve().as_uri())
            page.screenshot(path=str(screenshot), full_page=True)
            plots = page.eval_on_selector_all(
                "img.plot",
                "els => els.map(e => [e.alt, e.naturalWidth, e.naturalHeight, e.getBoundingClientRect().width])")
            links = page.eval_on_selector_all("a[href*='views/']", "els => els.map(e => e.getAttribute('href'))")
            page.locator("details summary").first.click()
            page.locator("details a").first.click()
            page.wait_for_load_state()
            return {"plots": plots, "links": links, "landed": page.url}
        finally:
            browser.close()


def assert_plots_shown(shown: dict, screenshot: Path) -> None:
    assert [alt for alt, *_ in shown["plots"]] == PLOT_TITLES
    assert all(width > 100 and height > 100 and displayed > 100 for _, width, height, displayed in shown["plots"])
    assert screenshot.stat().st_size > 20_000
