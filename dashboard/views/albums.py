"""Albums: list, create, rename, delete, open, remove photos (more than one is asked first, and can
be undone: they go back into the album)."""
from __future__ import annotations

from typing import Any

import panel as pn
import param

from dashboard.components import PhotoGrid
from dashboard.icons import icon
from dashboard.views.common import Context, Tile, error_text, grid_items, grid_labels, literal, markdown_pane
from engine.errors import PhotoIndexError
from engine.i18n import N_
from engine.library.albums import Album

PAGE = 200


class AlbumsView(pn.viewable.Viewer):
    albums = param.List(default=[], item_type=Album)
    album_id = param.Integer(default=None, allow_None=True)
    photos = param.List(default=[], item_type=Tile)
    new_name = param.String(default="")
    rename_to = param.String(default="")
    select_mode = param.Boolean(default=False)
    selected = param.List(default=[])
    confirm = param.Selector(default=None, objects=[None, "remove", "delete"], allow_None=True,
                             doc="The question showing: remove the ticked photos, or delete the album.")
    removed = param.List(default=[], doc="The photos the last removal took out (Undo puts them back).")
    message = param.String(default="")

    def __init__(self, ctx: Context, **params: Any) -> None:
        super().__init__(**params)
        self.ctx = ctx
        self.engine = ctx.engine
        self.opener = None
        _ = ctx._
        self.album_grid = PhotoGrid(variant="card", cell_size=150,
                                    empty_text=_("No albums yet. Create one here, or select photos in Search and "
                                                 "add them to an album."))
        self.album_grid.on_open(self.open_album)
        self.photo_grid = PhotoGrid(empty_text=_("This album is empty."), labels=grid_labels(_))
        self.photo_grid.on_open(self._open_photo)
        self.photo_grid.on_more(self.more)
        self.photo_grid.on_escape(lambda: self.set_select_mode(False))
        self.photo_grid.param.watch(lambda e: setattr(self, "selected", list(e.new)), "selected")

    @property
    def album(self) -> Album | None:
        return next((a for a in self.albums if a.id == self.album_id), None)

    def refresh(self) -> None:
        self.albums = self.engine.library.albums.list(None, 1000, 0)
        self.album_grid.items = [{"id": a.id, "src": self.ctx.thumb_url(a.cover_photo_id) if a.cover_photo_id else "",
                                  "label": a.name, "title": a.description or a.name,
                                  "badge": self.ctx._.ngettext("{n} photo", "{n} photos", a.photo_count)}
                                 for a in self.albums]
        if self.album_id is not None and self.album is None:
            self.album_id = None
            self._show([])

    def create(self, name: str | None = None, photo_ids: list[int] | None = None) -> Album | None:
        name = (name if name is not None else self.new_name).strip()
        if not name:
            self.message = self.ctx._("Give the album a name")
            return None
        try:
            album = self.engine.library.albums.create(name, None, photo_ids or [])
        except PhotoIndexError as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return None
        self.param.update(new_name="", message=self.ctx._("Created “{name}”", name=literal(album.name)))
        self.refresh()
        self.ctx.emit("albums-changed", "albums")
        return album

    def open_album(self, album_id: int) -> None:
        self.refresh()
        self.param.update(album_id=album_id, select_mode=False, selected=[], message="", removed=[], confirm=None)
        self.rename_to = self.album.name if self.album else ""
        self._show(self._page(0))

    def _page(self, offset: int) -> list[Tile]:
        if self.album_id is None:
            return []
        return [Tile.of(p) for p in self.engine.library.albums.photos(self.album_id, PAGE, offset)]

    def more(self) -> None:
        self._show([*self.photos, *self._page(len(self.photos))])

    def _show(self, tiles: list[Tile]) -> None:
        self.photos = tiles
        total = self.album.photo_count if self.album else 0
        self.photo_grid.param.update(items=grid_items(self.ctx, tiles), has_more=len(tiles) < total,
                                     select_mode=self.select_mode, selected=self.selected)

    def _open_photo(self, photo_id: int) -> None:
        ids = [t.id for t in self.photos]
        if self.opener and photo_id in ids:
            self.opener(ids, ids.index(photo_id))

    def rename(self) -> None:
        if self.album_id is None or not self.rename_to.strip():
            return
        self.engine.library.albums.update(self.album_id, name=self.rename_to.strip())
        self.message = self.ctx._("Renamed to “{name}”", name=literal(self.rename_to.strip()))
        self.refresh()
        self.ctx.emit("albums-changed", "albums")

    def delete(self) -> None:
        self.confirm = None
        if self.album_id is None:
            return
        self.engine.library.albums.delete(self.album_id)
        self.param.update(album_id=None, message=self.ctx._("Album deleted; its photos stay in the library"))
        self._show([])
        self.refresh()
        self.ctx.emit("albums-changed", "albums")

    def set_select_mode(self, on: bool) -> None:
        self.select_mode = on
        if not on:
            self.selected = []
        self.photo_grid.param.update(select_mode=on, selected=self.selected)

    def ask(self, what: str) -> None:
        """Removing one photo goes at once (undoable); more, or deleting the album, is asked first."""
        if what == "remove" and len(self.selected) == 1:
            self.remove_selected()
        elif what == "delete" or self.selected:
            self.confirm = what

    def remove_selected(self) -> int:
        self.confirm = None
        if self.album_id is None or not self.selected:
            return 0
        ids = list(self.selected)
        removed = self.engine.library.albums.remove(self.album_id, ids)
        self.param.update(message=self.ctx._.ngettext("Removed {n} photo from the album; it stays in the library",
                                                      "Removed {n} photos from the album; they stay in the library",
                                                      removed),
                          selected=[], removed=ids)
        self.refresh()
        self._show(self._page(0))
        return removed

    def undo_remove(self) -> int:
        if self.album_id is None or not self.removed:
            return 0
        added = self.engine.library.albums.add(self.album_id, self.removed)
        self.param.update(removed=[], message=self.ctx._.ngettext("Put {n} photo back into the album",
                                                                  "Put {n} photos back into the album", added))
        self.refresh()
        self._show(self._page(0))
        return added

    def __panel__(self) -> pn.viewable.Viewable:
        self.refresh()
        _ = self.ctx._
        new = pn.widgets.TextInput.from_param(self.param.new_name, label="", placeholder=_("New album name"),
                                              sizing_mode="stretch_width")
        create = pn.widgets.Button(label=_("Create album"), icon=icon("plus"), color="primary")
        create.on_click(lambda e: self.create())
        rename = pn.widgets.TextInput.from_param(self.param.rename_to, label="", sizing_mode="stretch_width")
        save = pn.widgets.Button(label=_("Rename"), icon=icon("pencil"), color="light")
        save.on_click(lambda e: self.rename())
        select = pn.widgets.Toggle(label=_("Select"), icon=icon("checkbox"), color="light")
        select.param.watch(lambda e: self.set_select_mode(e.new), "value")
        remove = pn.widgets.Button(label=_("Remove from album"), icon=icon("minus"), color="warning",
                                   disabled=self.param.selected.rx.bool().rx.not_())
        remove.on_click(lambda e: self.ask("remove"))
        delete = pn.widgets.Button(label=_("Delete album"), icon=icon("trash"), color="danger")
        delete.on_click(lambda e: self.ask("delete"))
        tools = pn.Row(rename, save, select, remove, delete, visible=self.param.album_id.rx.is_not(None),
                       styles={"flex-wrap": "wrap"}, sizing_mode="stretch_width")
        sure = pn.widgets.Button(label=_("Yes"), color="danger", icon=icon("check"))
        sure.on_click(lambda e: self.remove_selected() if self.confirm == "remove" else self.delete())
        cancel = pn.widgets.Button(label=_("Cancel"), color="light")
        cancel.on_click(lambda e: setattr(self, "confirm", None))

        def question(what: str | None, selected: list[int], _album: int | None) -> str:
            if what == "remove":
                return _.ngettext("Remove **{n} photo** from this album? It stays in the library.",
                                  "Remove **{n} photos** from this album? They stay in the library.", len(selected))
            if what == "delete" and self.album:
                return _.ngettext("Delete the album “{name}”? Its {n} photo stays in the library.",
                                  "Delete the album “{name}”? Its {n} photos stay in the library.",
                                  self.album.photo_count, name=literal(self.album.name))
            return ""

        asking = pn.Row(markdown_pane(pn.bind(question, self.param.confirm, self.param.selected,
                                                 self.param.album_id), margin=(8, 10)), sure, cancel,
                        visible=self.param.confirm.rx.is_not(None), styles={"flex-wrap": "wrap"},
                        css_classes=["confirm"])
        undo = pn.widgets.Button(label=_("Undo"), icon=icon("restore"), color="light",
                                 visible=self.param.removed.rx.bool())
        undo.on_click(lambda e: self.undo_remove())
        def heading(_album: int | None, _photos: list[Tile]) -> str:
            if not self.album:
                return ""
            return f"### {literal(self.album.name)} · " + _.ngettext("{n} photo", "{n} photos", self.album.photo_count)

        title = markdown_pane(pn.bind(heading, self.param.album_id, self.param.photos), margin=(0, 10))
        return pn.Column(pn.Row(new, create, sizing_mode="stretch_width"),
                         pn.Row(markdown_pane(self.param.message, margin=(0, 10)), undo), self.album_grid, title,
                         tools, asking, self.photo_grid, sizing_mode="stretch_width")
