"""The browser environment: Playwright-driven Chromium, built-in local web apps and MiniWoB++."""
