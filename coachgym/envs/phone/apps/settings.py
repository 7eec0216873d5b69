"""Settings: radio switches, dark mode, do-not-disturb and a brightness slider (tap position sets it)."""

from __future__ import annotations

from coachgym.envs.phone.apps.base import App
from coachgym.envs.phone.system import QUICK_TILES, toggler
from coachgym.envs.phone.widgets import Layout, View

SUBTITLES = {"wifi": "Connect to Wi-Fi networks", "bluetooth": "Connect to nearby devices",
             "airplane_mode": "Turn off all radios", "dark_mode": "Use a dark theme everywhere",
             "do_not_disturb": "Silence notifications"}


class SettingsApp(App):
    name = "Settings"

    def page_main(self, ui: Layout, view: View) -> None:
        ui.appbar("Settings", None)
        settings = self.state.settings
        for label, key in QUICK_TILES:
            ui.switch(label, getattr(settings, key), toggler(self.state, key), SUBTITLES[key])
        ui.slider("Brightness", settings.brightness, self._set_brightness)
        ui.row("About phone", "coachgym phone · Android-like 14", self.go("about"))

    def page_about(self, ui: Layout, view: View) -> None:
        ui.appbar("About phone", self.up())
        for line in ["Model: coachgym virtual phone", "Display: 1080 x 2400", f"Battery: {self.state.battery}%",
                     "Build: CG-14.0"]:
            ui.text(line)

    def title(self, view: View) -> str:
        return "Settings" if view.page == "main" else "About phone"

    def _set_brightness(self, fraction: float) -> None:
        self.state.settings.brightness = round(fraction * 100)
