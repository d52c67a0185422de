"""Selecting photos in a grid, as in the photo apps people know, and what the selection can do.

One `Selection` per photo grid (timeline, search): ticks, shift-click ranges, select all / none,
the keyboard (Space, Ctrl+A, Delete, Escape: see `PhotoGrid`), then add to an album, a new album
from the selection, find similar, or move to the trash. Moving more than one photo is asked
first with the count, and undone with one click (or later from the Trash tab).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn
import param

from dashboard.components import PhotoGrid
from dashboard.icons import icon
from dashboard.views.common import Context, error_text, literal, markdown_pane
from dashboard.views.undo import UndoTrash
from engine.errors import PhotoIndexError
from engine.i18n import N_


class Selection(pn.viewable.Viewer):
    active = param.Boolean(default=False, doc="Selection mode: a click ticks instead of opening.")
    selected = param.List(default=[], doc="The ticked ids, in the order they were ticked.")
    confirm_delete = param.Boolean(default=False, doc="The trash question is showing.")
    album_choice = param.Integer(default=None, allow_None=True)
    new_album = param.String(default="", doc=N_("The name for an album made of the selection."))
    message = param.String(default="")

    def __init__(self, ctx: Context, grid: PhotoGrid, shown: Callable[[], list[int]],
                 similar: Callable[[int], None] | None = None, **params: Any) -> None:
        """`shown`: the ids the grid shows now (select all); `similar`: find photos like one."""
        super().__init__(**params)
        self.ctx = ctx
        self.engine = ctx.engine
        self.grid = grid
        self.shown = shown
        self.similar = similar
        self.undo = UndoTrash(ctx)
        grid.on("select", self.start)
        grid.on("delete", self.ask_delete)
        grid.on("escape", self.escape)
        grid.param.watch(lambda e: self._set(list(e.new)), "selected")
        self._album_select: pn.widgets.Select | None = None

    # --- what is selected ---------------------------------------------------------------------
    def _set(self, ids: list[int]) -> None:
        if ids != self.selected:
            self.selected = ids
        self.sync()

    def sync(self) -> None:
        """The grid shows the mode and the ticks that are still on screen."""
        on_screen = set(self.shown())
        self.selected = [i for i in self.selected if i in on_screen]
        self.grid.param.update(select_mode=self.active, selected=list(self.selected))
        if not self.selected:
            self.confirm_delete = False

    def start(self, ids: list[int]) -> None:
        """Selection mode with `ids` ticked (added to the ticks when already selecting)."""
        chosen = [*self.selected, *ids] if self.active else list(ids)
        self.param.update(active=True, selected=list(dict.fromkeys(chosen)), message="")
        self.sync()

    def toggle(self) -> None:
        if self.active:
            self.leave()
        else:
            self.param.update(active=True, message="")
            self.sync()

    def leave(self) -> None:
        self.param.update(active=False, selected=[], confirm_delete=False)
        self.sync()

    def select_all(self) -> None:
        self.param.update(active=True, selected=self.shown(), message="")
        self.sync()

    def select_none(self) -> None:
        self.param.update(selected=[], confirm_delete=False)
        self.sync()

    def escape(self) -> None:
        """Escape closes the question first, then leaves selection mode."""
        if self.confirm_delete:
            self.confirm_delete = False
        elif self.active:
            self.leave()

    # --- what the selection can do --------------------------------------------------------------
    def add_to_album(self, album_id: int | None = None) -> int:
        album_id = album_id if album_id is not None else self.album_choice
        _ = self.ctx._
        if album_id is None or not self.selected:
            self.message = _("Choose an album and some photos first")
            return 0
        try:
            added = self.engine.library.albums.add(album_id, self.selected)
            album = self.engine.library.albums.get(album_id)
        except PhotoIndexError as exc:
            self.message = f"⚠ {error_text(exc, _)}"
            return 0
        self.message = _.ngettext("Added {n} photo to “{album}” ({total} in it now)",
                                  "Added {n} photos to “{album}” ({total} in it now)", added,
                                  album=literal(album.name), total=album.photo_count)
        self.ctx.emit("albums-changed")
        return added

    def create_album(self, name: str | None = None) -> int | None:
        """A new album holding the selection; its id."""
        name = (name if name is not None else self.new_album).strip()
        _ = self.ctx._
        if not name or not self.selected:
            self.message = _("Select some photos and type the new album's name")
            return None
        try:
            album = self.engine.library.albums.create(name, None, list(self.selected))
        except PhotoIndexError as exc:
            self.message = f"⚠ {error_text(exc, _)}"
            return None
        self.param.update(new_album="", message=_.ngettext("Created “{album}” with {n} photo",
                                                           "Created “{album}” with {n} photos", album.photo_count,
                                                           album=literal(album.name)))
        self.ctx.emit("albums-changed")
        return album.id

    def find_similar(self) -> None:
        if self.selected and self.similar is not None:
            first = self.selected[0]
            self.leave()
            self.similar(first)

    def ask_delete(self, ids: list[int] | None = None) -> None:
        """Ask before moving to the trash (the Delete key asks for the focused photo when none is ticked)."""
        if ids and not self.selected:
            self.start(ids)
        self.confirm_delete = bool(self.selected)

    def delete(self) -> list[int]:
        """Move the selection to the trash (after `ask_delete`); the ids that left the library."""
        ids = list(self.selected)
        if not ids:
            return []
        try:
            report = self.engine.library.trash.move_to_trash(ids, reason=N_("deleted in the dashboard"))
        except PhotoIndexError as exc:
            self.param.update(message=f"⚠ {error_text(exc, self.ctx._)}", confirm_delete=False)
            return []
        moved = len(report.trashed) + len(report.missing_files)
        self.undo.remember(report.trashed, self.ctx._.ngettext("Moved {n} photo to the trash",
                                                               "Moved {n} photos to the trash", moved))
        self.param.update(selected=[], confirm_delete=False, active=False, message="")
        self.ctx.emit("photos-deleted", ids)
        self.sync()
        return ids

    # --- widgets ---------------------------------------------------------------------------------
    def album_options(self) -> dict[str, int]:
        return {self.ctx._("Album…"): -1, **{a.name: a.id for a in self.engine.library.albums.list(None, 500, 0)}}

    def refresh_albums(self) -> None:
        if self._album_select is not None:
            self._album_select.options = self.album_options()

    def toggle_button(self) -> pn.widgets.Toggle:
        """The "Select" switch for a view's header."""
        select = pn.widgets.Toggle(label=self.ctx._("Select"), icon=icon("checkbox"), value=self.active, width=110,
                                   color="light")
        select.param.watch(lambda e: self.toggle() if e.new != self.active else None, "value")
        self.param.watch(lambda e: setattr(select, "value", e.new), "active")
        return select

    def __panel__(self) -> pn.viewable.Viewable:
        _ = self.ctx._
        how_many = markdown_pane(pn.bind(lambda s: _("**{n}** selected", n=len(s)), self.param.selected),
                                    margin=(8, 4), css_classes=["how-many"])
        css = [BAR_CSS]

        def button(label: str, title: str, name: str, action: Callable[[], Any], **kw: Any) -> pn.widgets.Button:
            b = pn.widgets.Button(label=label, description=title, icon=icon(name), stylesheets=css, **kw)
            b.on_click(lambda e: action())
            return b

        album = pn.widgets.Select(options=self.album_options(), value=-1, width=120, margin=(5, 5))
        album.param.watch(lambda e: setattr(self, "album_choice", None if e.new in (None, -1) else e.new), "value")
        self._album_select = album
        new_album = pn.widgets.TextInput.from_param(self.param.new_album, description=_(self.param.new_album.doc),
                                                    label="", placeholder=_("New album name"),
                                                    width=150, margin=(5, 5))
        actions = [
            how_many,
            button(_("All"), _("Select all shown"), "checkbox", self.select_all, color="light"),
            button(_("None"), _("Select none"), "minus", self.select_none, color="light"),
            album, button(_("Add to album"), _("Add to the chosen album"), "folder-plus", self.add_to_album),
            new_album, button(_("New album"), _("Create an album from the selection"), "plus", self.create_album),
        ]
        if self.similar is not None:
            actions.append(button(_("Find similar"), _("Find photos like the first selected"), "photo-search",
                                  self.find_similar))
        actions += [button(_("Delete"), _("Move to the trash (Delete)"), "trash", self.ask_delete, color="danger"),
                    button(_("Done"), _("Leave selection mode (Esc)"), "x", self.leave, color="light")]
        confirm = pn.widgets.Button(label=_("Move to trash"), color="danger", icon=icon("check"))
        confirm.on_click(lambda e: self.delete())
        cancel = pn.widgets.Button(label=_("Cancel"), color="light")
        cancel.on_click(lambda e: setattr(self, "confirm_delete", False))
        asking = pn.Row(markdown_pane(pn.bind(lambda s: _.ngettext(
                                                 "Move **{n} photo** to the trash? You can restore it from the Trash tab.",
                                                 "Move **{n} photos** to the trash? You can restore them from the "
                                                 "Trash tab.", len(s)), self.param.selected),
                                         margin=(8, 10)),
                        confirm, cancel, visible=self.param.confirm_delete, styles={"flex-wrap": "wrap"},
                        css_classes=["confirm"])
        note = markdown_pane(self.param.message, margin=(8, 10), visible=self.param.message.rx.bool())
        bar = pn.Row(*actions, styles={"flex-wrap": "wrap"}, visible=self.param.confirm_delete.rx.not_())
        return pn.Column(pn.Column(bar, asking, note, visible=self.param.active, css_classes=["bottom-bar"],
                                   stylesheets=[BOTTOM_BAR_CSS], sizing_mode="stretch_width"),
                         self.undo, sizing_mode="stretch_width", margin=0)


BAR_CSS = """
@media (max-width: 700px) {
  .bk-btn {font-size: 0 !important; padding: 4px 12px; min-width: 44px;}
  .bk-btn .bk-SVGIcon {font-size: 22px;}
}
"""
"""On a phone the selection bar's buttons are icons only (their names stay as tooltips)."""

BOTTOM_BAR_CSS = """
:host {position: fixed !important; left: 0; right: 0; bottom: 0; z-index: 900; background: var(--pi-surface, #fff);
       box-shadow: 0 -2px 10px rgba(0,0,0,.15); padding: 4px 8px; justify-content: center; flex-wrap: wrap;}
"""
