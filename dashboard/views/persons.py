"""Persons: people with cover faces and counts; rename, merge, delete; a person's photos; suggestions."""
from __future__ import annotations

from typing import Any

import panel as pn
import param

from dashboard.components import PhotoGrid
from dashboard.icons import icon
from dashboard.views.common import Context, Tile, error_text, grid_items, grid_labels, literal, markdown_pane
from engine.errors import PhotoIndexError
from engine.i18n import N_
from engine.faces.clustering import Suggestion
from engine.faces.records import Person

PAGE = 60


def face_url(face_id: int | None) -> str:
    return f"/ui/face/{face_id}.jpg" if face_id is not None else ""


class PersonsView(pn.viewable.Viewer):
    search = param.String(default="", doc=N_("Part of a name."))
    persons = param.List(default=[], item_type=Person)
    suggestions = param.List(default=[], item_type=Suggestion)
    person_id = param.Integer(default=None, allow_None=True, doc="The person open on the right.")
    photos = param.List(default=[], item_type=Tile)
    photos_total = param.Integer(default=0)
    suggestion_id = param.Integer(default=None, allow_None=True)
    rename_to = param.String(default="")
    aliases_text = param.String(default="", doc=N_("The person's other names, comma-separated."))
    merge_into = param.Integer(default=None, allow_None=True)
    message = param.String(default="")

    def __init__(self, ctx: Context, **params: Any) -> None:
        super().__init__(**params)
        self.ctx = ctx
        self.engine = ctx.engine
        self.opener = None
        _ = ctx._
        self.people_grid = PhotoGrid(variant="card", cell_size=130, empty_text=_(
            "No people yet: open a photo, show its faces (the Faces button) and name one — or run face indexing in "
            "Admin."))
        self.people_grid.on_open(self.open_person)
        self.suggestion_grid = PhotoGrid(variant="card", cell_size=110, empty_text=_("No suggestions."))
        self.suggestion_grid.on_open(self.open_suggestion)
        self.photo_grid = PhotoGrid(empty_text="", labels=grid_labels(_))
        self.photo_grid.on_open(self._open_photo)
        self.photo_grid.on_more(self.more_photos)

    def refresh(self) -> None:
        _ = self.ctx._
        try:
            people, _total = self.engine.faces.persons.list(self.search or None, 500, 0)
            suggestions = self.engine.faces.clusters.suggestions(limit=50)
        except PhotoIndexError as exc:
            people, suggestions, self.message = [], [], f"⚠ {error_text(exc, _)}"
        self.param.update(persons=people, suggestions=suggestions)
        self.people_grid.items = [{"id": p.id, "src": face_url(p.cover_face_id), "label": p.name, "title": p.name,
                                   "badge": _.ngettext("{n} photo", "{n} photos", p.photo_count)} for p in people]
        self.suggestion_grid.items = [
            {"id": s.id, "src": face_url(s.sample_faces[0].id if s.sample_faces else None), "label": _("Who is this?"),
             "title": _.ngettext("{n} face", "{n} faces", s.face_count),
             "badge": _.ngettext("{n} face", "{n} faces", s.face_count)} for s in suggestions]
        if self.person_id is not None and all(p.id != self.person_id for p in people):
            self.person_id = None

    @property
    def person(self) -> Person | None:
        return next((p for p in self.persons if p.id == self.person_id), None)

    def open_person(self, person_id: int) -> None:
        self.param.update(person_id=person_id, suggestion_id=None, message="")
        self.rename_to = self.person.name if self.person else ""
        self.aliases_text = ", ".join(self.person.aliases) if self.person else ""
        self._load_photos(reset=True)

    def _load_photos(self, reset: bool = False) -> None:
        if self.person_id is None:
            self.photos, self.photos_total = [], 0
        else:
            offset = 0 if reset else len(self.photos)
            found, total = self.engine.faces.search.photos_with([self.person_id], limit=PAGE, offset=offset)
            tiles = [Tile.of(p) for p in found]
            self.photos = tiles if reset else [*self.photos, *tiles]
            self.photos_total = total
        self.photo_grid.param.update(items=grid_items(self.ctx, self.photos),
                                     has_more=len(self.photos) < self.photos_total)

    def more_photos(self) -> None:
        self._load_photos()

    def _open_photo(self, photo_id: int) -> None:
        ids = [t.id for t in self.photos]
        if self.opener and photo_id in ids:
            self.opener(ids, ids.index(photo_id))

    def rename(self, name: str | None = None) -> None:
        name = (name if name is not None else self.rename_to).strip()
        if self.person_id is None or not name:
            return
        try:
            self.engine.faces.persons.update(self.person_id, name=name)
            self.message = self.ctx._("Renamed to {name}", name=literal(name))
        except PhotoIndexError as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
        self.refresh()
        self.ctx.emit("persons-changed", "persons")

    def save_aliases(self, text: str | None = None) -> None:
        """Set the open person's aliases from comma-separated text ("Саша, Sasha"); empty clears them."""
        text = text if text is not None else self.aliases_text
        if self.person_id is None:
            return
        try:
            person = self.engine.faces.persons.update(self.person_id, aliases=text.split(","))
            self.aliases_text = ", ".join(person.aliases)
            self.message = (self.ctx._("Also called: {names}", names=literal(self.aliases_text)) if person.aliases
                            else self.ctx._("No other names"))
        except Exception as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
        self.refresh()

    def merge(self, target_id: int | None = None) -> None:
        target_id = target_id if target_id is not None else self.merge_into
        if self.person_id is None or target_id is None or target_id == self.person_id:
            self.message = self.ctx._("Choose another person to merge into")
            return
        try:
            merged = self.engine.faces.persons.merge(self.person_id, target_id)
        except PhotoIndexError as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return
        self.message = self.ctx._("Merged into {name}", name=literal(merged.name))
        self.refresh()
        self.open_person(merged.id)
        self.ctx.emit("persons-changed", "persons")

    def delete(self) -> None:
        if self.person_id is None:
            return
        name = self.person.name if self.person else str(self.person_id)
        self.engine.faces.persons.delete(self.person_id)
        self.param.update(person_id=None, message=self.ctx._("Deleted {name}; their faces are unassigned",
                                                             name=literal(name)))
        self._load_photos(reset=True)
        self.refresh()
        self.ctx.emit("persons-changed", "persons")

    def open_suggestion(self, suggestion_id: int) -> None:
        self.param.update(suggestion_id=suggestion_id, person_id=None, rename_to="", message="")
        s = next((x for x in self.suggestions if x.id == suggestion_id), None)
        self.photos = [Tile(id=f.photo_id, path=f.path) for f in (s.sample_faces if s else [])]
        self.photos_total = len(self.photos)
        self.photo_grid.param.update(items=grid_items(self.ctx, self.photos), has_more=False)

    def name_suggestion(self, name: str | None = None, person_id: int | None = None) -> Person | None:
        if self.suggestion_id is None:
            return None
        name = (name if name is not None else self.rename_to).strip() or None
        try:
            person = self.engine.faces.clusters.name(self.suggestion_id, name=name if person_id is None else None,
                                                     person_id=person_id)
        except PhotoIndexError as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return None
        self.message = self.ctx._("Named {name}", name=literal(person.name))
        self.suggestion_id = None
        self.refresh()
        self.open_person(person.id)
        self.ctx.emit("persons-changed", "persons")
        return person

    def dismiss_suggestion(self) -> None:
        if self.suggestion_id is None:
            return
        self.engine.faces.clusters.dismiss(self.suggestion_id)
        self.param.update(suggestion_id=None, message=self.ctx._("Suggestion dismissed"), photos=[])
        self.photo_grid.items = []
        self.refresh()

    def update_suggestions(self) -> None:
        try:
            report = self.engine.faces.clusters.update()
            self.message = self.ctx._("{new} new suggestions, {joined} faces joined groups",
                                      new=report.new_suggestions, joined=report.joined_existing)
        except PhotoIndexError as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
        self.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        self.refresh()
        _ = self.ctx._
        search = pn.widgets.TextInput.from_param(self.param.search, description=_(self.param.search.doc),
                                                 label="", placeholder=_("Find a person…"),
                                                 sizing_mode="stretch_width")
        self.param.watch(lambda e: self.refresh(), "search")
        rename = pn.widgets.TextInput.from_param(self.param.rename_to, label=_("Name"), sizing_mode="stretch_width")
        save = pn.widgets.Button(label=_("Rename"), icon=icon("pencil"), color="primary")
        save.on_click(lambda e: self.rename())
        merge_pick = pn.widgets.Select(label=_("Merge into"), sizing_mode="stretch_width")
        merge_pick.param.watch(lambda e: setattr(self, "merge_into", e.new), "value")
        merge = pn.widgets.Button(label=_("Merge"), icon=icon("git-merge"), color="light")
        merge.on_click(lambda e: self.merge())
        aliases = pn.widgets.TextInput.from_param(self.param.aliases_text, description=_(self.param.aliases_text.doc),
                                                  label=_("Also called"),
                                                  placeholder=_("Саша, Sasha"), sizing_mode="stretch_width")
        save_aliases = pn.widgets.Button(label=_("Save"), icon=icon("check"), color="light")
        save_aliases.on_click(lambda e: self.save_aliases())
        delete = pn.widgets.Button(label=_("Delete person"), icon=icon("trash"), color="danger")
        delete.on_click(lambda e: self.delete())

        def merge_options(*_args: Any) -> None:
            merge_pick.options = {"—": None, **{p.name: p.id for p in self.persons if p.id != self.person_id}}

        self.param.watch(merge_options, ["persons", "person_id"])
        merge_options()
        name_it = pn.widgets.Button(label=_("Name"), icon=icon("user-plus"), color="primary")
        name_it.on_click(lambda e: self.name_suggestion())
        dismiss = pn.widgets.Button(label=_("Dismiss"), icon=icon("x"), color="light")
        dismiss.on_click(lambda e: self.dismiss_suggestion())
        regroup = pn.widgets.Button(label=_("Update suggestions"), icon=icon("refresh"), color="light")
        regroup.on_click(lambda e: self.update_suggestions())

        def heading(_pid: int | None, sid: int | None, n: int) -> str:
            if self.person:
                return f"### {literal(self.person.name)} · " + _.ngettext("{n} photo", "{n} photos", n)
            return "### " + _("Suggested person") if sid is not None else ""

        title = markdown_pane(pn.bind(heading, self.param.person_id, self.param.suggestion_id, self.param.photos_total),
                              margin=(0, 10))
        person_tools = pn.Row(rename, save, aliases, save_aliases, merge_pick, merge, delete,
                              visible=self.param.person_id.rx.is_not(None),
                              styles={"flex-wrap": "wrap"}, sizing_mode="stretch_width")
        new_name = pn.widgets.TextInput.from_param(self.param.rename_to, label=_("Who is it?"), placeholder=_("Name"),
                                                   sizing_mode="stretch_width")
        suggestion_tools = pn.Row(new_name, name_it, dismiss, visible=self.param.suggestion_id.rx.is_not(None),
                                  sizing_mode="stretch_width")
        return pn.Column(
            pn.Row(search, regroup, sizing_mode="stretch_width"),
            markdown_pane(self.param.message, margin=(0, 10)),
            markdown_pane("#### " + _("People"), margin=(0, 10)), self.people_grid,
            markdown_pane("#### " + _("Suggested people"), margin=(10, 10, 0, 10)), self.suggestion_grid,
            title, person_tools, suggestion_tools, self.photo_grid, sizing_mode="stretch_width",
        )
