"""Finding and launching the system Chromium through Playwright.

Playwright cannot download its own browsers on machines without internet, so coachgym always
drives the Debian `chromium` binary (or whatever `COACHGYM_CHROMIUM` points at). This module is
shared by every env that renders with Chromium (browser, phone): it owns the executable lookup,
the launch flags that work headless, as root and offline, and the one clear error when the binary
is missing. It must not know about pages, tasks or routing; callers do that on their contexts.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

ENV_VAR = "COACHGYM_CHROMIUM"
DEFAULT_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")

# Headless as root needs --no-sandbox; the rest stop Chromium from phoning home (no network
# here, and background requests would only slow startup) and from using a GPU it does not have.
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
)


class ChromiumNotFound(RuntimeError):
    """Raised when no Chromium executable can be found; the message names the fix."""


def chromium_path() -> str:
    """The Chromium executable to launch: `$COACHGYM_CHROMIUM`, else the first system install."""
    override = os.environ.get(ENV_VAR)
    if override:
        path = Path(override).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        resolved = shutil.which(override)
        if resolved:
            return resolved
        raise ChromiumNotFound(
            f"Chromium not found at {override} (from {ENV_VAR}); point {ENV_VAR} at an executable "
            "Chromium or unset it to use the Debian package `chromium`."
        )
    for candidate in DEFAULT_PATHS:
        if os.access(candidate, os.X_OK):
            return candidate
    raise ChromiumNotFound(
        f"Chromium not found at {DEFAULT_PATHS[0]}; install the Debian package `chromium` "
        f"(apt-get install chromium) or set {ENV_VAR} to a Chromium executable."
    )


def launch_chromium(playwright: Any, headless: bool = True, extra_args: tuple[str, ...] = ()) -> Any:
    """Launch the system Chromium with `playwright` (a started sync or async Playwright object).

    Returns Playwright's `Browser` (or an awaitable of it with the async API).
    """
    return playwright.chromium.launch(
        executable_path=chromium_path(),
        headless=headless,
        args=[*LAUNCH_ARGS, *extra_args],
    )
