"""Contacts: a scrollable list (long-press to delete), a detail page (message, favourite, edit, delete), a form."""

from __future__ import annotations

from coachgym.envs.phone.apps.base import App, fields
from coachgym.envs.phone.state import Contact
from coachgym.envs.phone.ui import Handler
from coachgym.envs.phone.widgets import Layout, View


class ContactsApp(App):
    name = "Contacts"

    def page_main(self, ui: Layout, view: View) -> None:
        ui.appbar("Contacts", None, [("+", "Create contact", self.go("edit"))])
        contacts = sorted(self.state.contacts, key=lambda c: c.name.casefold())
        ui.rows(contacts, lambda c: ui.row(c.name, c.phone, self.go("detail", c.name), self.confirm(
            "Delete contact?", f"{c.name} will be removed.", "Delete", self._delete(c)),
            desc="Favorite" if c.favorite else "", image=f"avatar:{c.name}"))

    def page_detail(self, ui: Layout, view: View) -> None:
        contact = self.state.contact(view.arg)
        if contact is None:
            ui.appbar("Contact", self.up())
            ui.text("This contact no longer exists.")
            return
        star = ("★", "Remove from favorites") if contact.favorite else ("☆", "Add to favorites")
        fields = {"name": contact.name, "phone": contact.phone, "email": contact.email}
        ui.appbar(contact.name, self.up(), [(*star, self._toggle_favorite(contact)),
                                            ("✎", "Edit contact", self.go("edit", contact.name, fields))])
        ui.picture(f"avatar:{contact.name}", f"Photo of {contact.name}", height=240)
        ui.text("Phone", style="caption", height=72)
        ui.text(contact.phone)
        ui.text("Email", style="caption", height=72)
        ui.text(contact.email or "No email", style="body" if contact.email else "hint")
        ui.buttons([("Message", lambda: self.device.launch("Messages", "thread", contact.name)),
                    ("Delete", self.confirm("Delete contact?", f"{contact.name} will be removed.", "Delete",
                                            self.remover(self.state.contacts, contact, "Contact deleted")))])

    def page_edit(self, ui: Layout, view: View) -> None:
        self.form(ui, view, "contact", fields(("name", "Name"), ("phone", "Phone"), ("email", "Email")),
                  lambda: self._save(view))

    def title(self, view: View) -> str:
        return {"main": "Contacts", "edit": "Edit contact" if view.arg else "New contact"}.get(view.page, view.arg)

    def _delete(self, contact: Contact) -> Handler:
        def delete() -> None:
            self.state.contacts.remove(contact)
            self.device.say("Contact deleted")
        return delete

    def _toggle_favorite(self, contact: Contact) -> Handler:
        def toggle() -> None:
            contact.favorite = not contact.favorite
        return toggle

    def _save(self, view: View) -> None:
        values = self.required(view, "name", "phone")
        if values is None:
            return
        existing = self.state.contact(values["name"])
        original = self.state.contact(view.arg) if view.arg else None
        if existing is not None and existing is not original:
            self.device.say(f"A contact named {existing.name} already exists")
            return
        if original is None:
            self.state.contacts.append(Contact(name=values["name"], phone=values["phone"],
                                               email=values.get("email", "")))
        else:
            for message in self.state.messages:
                if message.contact == original.name:
                    message.contact = values["name"]
            original.name, original.phone, original.email = values["name"], values["phone"], values.get("email", "")
        self.finish("Contact saved")
        if original is not None and self.device.view is not None:
            self.device.view.arg = values["name"]
