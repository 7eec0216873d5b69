"""Notes: a list (long-press to delete) and an editor with title and body."""

from __future__ import annotations

from coachgym.envs.phone.apps.base import App
from coachgym.envs.phone.state import Note
from coachgym.envs.phone.ui import Handler
from coachgym.envs.phone.widgets import FIELD_H, Layout, View


class NotesApp(App):
    name = "Notes"

    def page_main(self, ui: Layout, view: View) -> None:
        ui.appbar("Notes", None, [("+", "New note", self.go("edit"))])

        def row(note: Note) -> None:
            fields = {"title": note.title, "body": note.body}
            ask = self.confirm("Delete note?", f"“{note.title}” will be deleted.", "Delete", self._delete(note))
            ui.row(note.title, note.body, self.go("edit", note.title, fields), ask)

        ui.rows(self.state.notes, row)

    def page_edit(self, ui: Layout, view: View) -> None:
        note = self._note(view.arg)
        delete = [] if note is None else [("Delete", self.confirm("Delete note?", f"“{note.title}” will be deleted.",
                                                                  "Delete", self._delete(note)))]
        self.form(ui, view, "note", [("title", "Title", FIELD_H), ("body", "Note", 3 * FIELD_H)],
                  lambda: self._save(view), delete)

    def title(self, view: View) -> str:
        return "Notes" if view.page == "main" else ("Edit note" if view.arg else "New note")

    def _note(self, title: str) -> Note | None:
        return next((n for n in self.state.notes if title and n.title == title), None)

    def _delete(self, note: Note) -> Handler:
        def delete() -> None:
            if note in self.state.notes:
                self.state.notes.remove(note)
            if self.device.view is not None and self.device.view.page == "edit":
                self.device.pop()
            self.device.say("Note deleted")
        return delete

    def _save(self, view: View) -> None:
        values = self.required(view, "title")
        if values is None:
            return
        note = self._note(view.arg)
        if note is None:
            self.state.notes.append(Note(title=values["title"], body=values.get("body", "")))
        else:
            note.title, note.body = values["title"], values.get("body", "")
        self.finish("Note saved")
