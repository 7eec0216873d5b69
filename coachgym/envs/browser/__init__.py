"""The browser environment: Playwright-driven Chromium, built-in local web apps and MiniWoB++.

`chromium` (the shared launcher) imports nothing heavy, so other envs can reuse it on its own.
"""

from coachgym.envs.browser.env import BrowserEnv
from coachgym.envs.browser.session import BrowserConfig

__all__ = ["BrowserConfig", "BrowserEnv"]
