"""The phone's installed apps, by launcher name."""

from coachgym.envs.phone.apps.base import App
from coachgym.envs.phone.apps.calendar import CalendarApp
from coachgym.envs.phone.apps.contacts import ContactsApp
from coachgym.envs.phone.apps.messages import MessagesApp
from coachgym.envs.phone.apps.notes import NotesApp
from coachgym.envs.phone.apps.settings import SettingsApp
from coachgym.envs.phone.apps.shop import ShopApp

APP_TYPES: dict[str, type[App]] = {
    cls.name: cls for cls in [ContactsApp, MessagesApp, CalendarApp, SettingsApp, NotesApp, ShopApp]
}

__all__ = ["APP_TYPES", "App"]
