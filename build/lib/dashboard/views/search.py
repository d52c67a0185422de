"""Search: the filters, the results grid (skeletons, infinite scroll), selection mode and its bottom bar."""
from __future__ import annotations

import asyncio
from typing import Any

import panel as pn
import param

from dashboard.components import PhotoGrid
from dashboard.icons import icon
from dashboard.views.common import Context, Tile, count, error_text, grid_items, in_date_range, literal
from engine.media.formats import expand_format_filter
from engine.search.filters import SearchFilters

FORMATS = ["JPG", "HEIC", "PNG", "RAW"]


class SearchView(pn.viewable.Viewer):
    """Every search the dashboard can run, as params; `search()` runs it, `load_more()` pages on."""

    query = param.String(default="", doc="What to look for, in words (Russian or English).")
    translate = param.Boolean(default=False, doc="Translate the query to English first.")
    multi_model = param.Boolean(default=False, doc="Fuse every indexed model's ranking (RRF).")
    formats = param.ListSelector(default=[], objects=FORMATS, doc="Only these formats; none = all.")
    threshold = param.Number(default=0.0, bounds=(0, 50), step=1, doc="Minimum similarity, percent.")
    top_k = param.Selector(default=20, objects=[10, 20, 50, 100], doc="Results per page.")
    person_id = param.Integer(default=None, allow_None=True, doc="Only photos showing this person.")
    date_from = param.Date(default=None, allow_None=True)
    date_to = param.Date(default=None, allow_None=True)
    upload = param.Bytes(default=None, allow_None=True, doc="A picture to search by.")
    upload_name = param.String(default="")
    similar_to = param.Integer(default=None, allow_None=True, doc="Find photos like this one.")

    results = param.List(default=[], item_type=Tile)
    message = param.String(default="")
    loading = param.Boolean(default=False)
    has_more = param.Boolean(default=False)
    select_mode = param.Boolean(default=False)
    selected = param.List(default=[])
    confirm_delete = param.Boolean(default=False, doc="The delete confirmation is showing.")
    album_choice = param.Integer(default=None, allow_None=True)

    def __init__(self, ctx: Context, **params: Any) -> None:
        super().__init__(**params)
        self.ctx = ctx
        self.engine = ctx.engine
        self._limit = self.top_k
        self._external: str | None = None  # a title when results came from elsewhere (a face search)
        self.grid = PhotoGrid(empty_text="Type what you are looking for and press Enter — or drop a picture.")
        self.grid.on_open(self.open)
        self.grid.on_more(self._more_from_browser)
        self.grid.on_escape(self.leave_select_mode)
        self.grid.param.watch(lambda e: setattr(self, "selected", list(e.new)), "selected")
        self.opener = None  # set by the app: callable(ids, index)
        self._sync_grid()

    # --- the search itself -------------------------------------------------------------
    def _mode(self) -> str:
        if self.upload:
            return "image"
        if self.similar_to is not None:
            return "similar"
        if self.person_id is not None:
            return "person+text" if self.query.strip() else "person"
        return "text" if self.query.strip() else "none"

    def _fetch(self, limit: int) -> tuple[list[Tile], int, str]:
        """(tiles, how many the engine returned before the date filter, message)."""
        mode = self._mode()
        engine, model = self.engine, self.engine.settings.clip_model
        threshold = self.threshold / 100 if self.threshold > 0 else None
        formats = list(self.formats) or None
        dated = self.date_from is not None or self.date_to is not None
        want = limit * 4 if dated else limit  # the date range filters after ranking, so ask for more
        notes: list[str] = []
        if mode == "none":
            return [], 0, ""
        if mode == "image":
            result = engine.search.image(model=model, image_bytes=self.upload, top_k=want, threshold=threshold,
                                         formats=formats)
            tiles = [Tile.of(h) for h in result.hits]
            what = f"like {literal(self.upload_name or 'the uploaded picture')}"
        elif mode == "similar":
            result = engine.search.image(model=model, photo_id=self.similar_to, top_k=want, threshold=threshold,
                                         formats=formats)
            tiles, what = [Tile.of(h) for h in result.hits], f"similar to photo {self.similar_to}"
        elif mode == "person+text":
            result = engine.faces.search.person_text([self.person_id], self.query, model=model, top_k=want,
                                                     threshold=threshold)
            tiles = [Tile.of(h) for h in result.hits]
            what = f"of {literal(self._person_name())} for “{literal(self.query)}”"
        elif mode == "person":
            photos, _total = engine.faces.search.photos_with([self.person_id], limit=want)
            tiles, what = [Tile.of(p) for p in photos], f"of {literal(self._person_name())}"
        else:
            result = engine.search.query(
                self.query, model=model, multi_model=self.multi_model, translate=self.translate, top_k=want,
                threshold=threshold, formats=formats,
                filters=SearchFilters.of(date_from=self.date_from, date_to=self.date_to),
            )
            notes.extend(result.notes)
            tiles, what = [Tile.of(h) for h in result.hits], f"for “{literal(self.query)}”"
            translated = getattr(result, "translated_query", None)
            if translated and translated != self.query:
                notes.append(f"translated: “{translated}”")
        returned = len(tiles)
        if formats and mode in ("person", "person+text"):
            allowed = expand_format_filter(formats)
            tiles = [t for t in tiles if t.format in allowed]
        tiles = [t for t in tiles if in_date_range(t.taken_at, self.date_from, self.date_to)][:limit]
        model_name = getattr(result, "model", model) if mode != "person" else "faces"
        text = f"{count(len(tiles), 'photo')} {what} · {model_name}" + "".join(f" · {literal(n)}" for n in notes)
        return tiles, returned, text

    def sidebar_filters(self) -> SearchFilters | None:
        """The filters set in the sidebar (dates, formats, person), for views that list photos without a query."""
        filters = SearchFilters.of(date_from=self.date_from, date_to=self.date_to, formats=list(self.formats),
                                   person_ids=[self.person_id] if self.person_id is not None else None)
        return None if filters.empty else filters

    def search(self) -> None:
        """Run the current search from the first page (synchronously)."""
        self._external = None
        self._limit = self.top_k
        self._apply(*self._run(self._limit))

    def load_more(self) -> None:
        if not self.has_more or self._external:
            return
        self._limit += self.top_k
        self._apply(*self._run(self._limit))

    def _run(self, limit: int) -> tuple[list[Tile], bool, str]:
        try:
            tiles, returned, text = self._fetch(limit)
        except Exception as exc:  # a missing model, an unknown person: said on the page, never a crash
            return [], False, f"⚠ {error_text(exc)}"
        want = limit * 4 if (self.date_from or self.date_to) else limit
        return tiles, returned >= want and bool(tiles), text

    def _apply(self, tiles: list[Tile], more: bool, text: str) -> None:
        self.results, self.has_more, self.message = tiles, more, text
        self.loading = False
        self._sync_grid()

    async def search_async(self, more: bool = False) -> None:
        """The browser's way: skeletons first, the engine in a worker thread, then the results."""
        if more:
            if not self.has_more or self._external:
                return
            self._limit += self.top_k
        else:
            self._external, self._limit = None, self.top_k
            if self._mode() != "none":
                self.results = []
        self.loading = self._mode() != "none"
        self._sync_grid()
        outcome = await asyncio.to_thread(self._run, self._limit)
        self._apply(*outcome)

    def show_external(self, title: str, tiles: list[Tile]) -> None:
        """Results computed elsewhere (e.g. "find this face elsewhere" in the lightbox)."""
        self._external = title
        self.results, self.has_more, self.message = tiles, False, f"{count(len(tiles), 'photo')} {literal(title)}"
        self._sync_grid()

    def clear(self) -> None:
        self.param.update(query="", upload=None, upload_name="", similar_to=None, person_id=None,
                          results=[], message="", has_more=False)
        self._sync_grid()

    def _person_name(self) -> str:
        try:
            return self.engine.faces.persons.get(self.person_id).name
        except Exception:
            return f"person {self.person_id}"

    def _sync_grid(self) -> None:
        self.grid.param.update(items=grid_items(self.ctx, self.results), loading=self.loading,
                               has_more=self.has_more, select_mode=self.select_mode,
                               selected=[i for i in self.selected if i in {t.id for t in self.results}])

    def _more_from_browser(self) -> None:
        pn.state.execute(lambda: self.search_async(more=True)) if pn.state.curdoc else self.load_more()

    # --- lightbox ------------------------------------------------------------------------
    def open(self, photo_id: int) -> None:
        ids = [t.id for t in self.results]
        if self.opener and photo_id in ids:
            self.opener(ids, ids.index(photo_id))

    # --- selection mode ---------------------------------------------------------------------
    def toggle_select_mode(self) -> None:
        self.select_mode = not self.select_mode
        if not self.select_mode:
            self.selected, self.confirm_delete = [], False
        self._sync_grid()

    def leave_select_mode(self) -> None:
        if self.select_mode:
            self.toggle_select_mode()

    def select(self, ids: list[int]) -> None:
        self.selected = list(ids)
        self._sync_grid()

    def add_selected_to_album(self, album_id: int | None = None) -> None:
        album_id = album_id if album_id is not None else self.album_choice
        if album_id is None or not self.selected:
            self.message = "Choose an album and some photos first"
            return
        added = self.engine.library.albums.add(album_id, self.selected)
        album = self.engine.library.albums.get(album_id)
        self.message = f"Added {count(added, 'photo')} to “{literal(album.name)}” ({album.photo_count} in it now)"
        self.ctx.emit("albums-changed")

    def find_similar_to_selected(self) -> None:
        if not self.selected:
            return
        first = self.selected[0]
        self.leave_select_mode()
        self.param.update(upload=None, upload_name="", similar_to=first)
        self.search()

    def ask_delete(self) -> None:
        self.confirm_delete = bool(self.selected)

    def delete_selected(self) -> None:
        """Move the selected photos to the trash (after `ask_delete`)."""
        ids = list(self.selected)
        if not ids:
            return
        try:
            report = self.engine.library.trash.move_to_trash(ids, reason="deleted in the dashboard")
        except Exception as exc:
            self.message, self.confirm_delete = f"⚠ {error_text(exc)}", False
            return
        gone = set(ids)
        self.results = [t for t in self.results if t.id not in gone]
        moved = len(report.trashed) + len(report.missing_files)
        self.message = f"Moved {count(moved, 'photo')} to the trash"
        self.selected, self.confirm_delete = [], False
        self._sync_grid()
        self.ctx.emit("photos-deleted", ids)

    def forget(self, ids: list[int]) -> None:
        gone = set(ids)
        if any(t.id in gone for t in self.results):
            self.results = [t for t in self.results if t.id not in gone]
            self._sync_grid()

    def refresh_thumbs(self) -> None:
        self._sync_grid()

    # --- widgets ---------------------------------------------------------------------------
    def person_options(self) -> dict[str, int | None]:
        try:
            people, _ = self.engine.faces.persons.list(None, 500, 0)
        except Exception:
            people = []
        return {"Anyone": -1, **{f"{p.name} ({p.photo_count})": p.id for p in people}}

    def album_options(self) -> dict[str, int | None]:
        return {"Album…": -1, **{a.name: a.id for a in self.engine.library.albums.list(None, 500, 0)}}

    def filters(self) -> pn.Column:
        """The filter panel (the template's sidebar: a drawer on a phone)."""
        query = pn.widgets.TextInput.from_param(self.param.query, label="Search", placeholder="sunset over the sea…",
                                                sizing_mode="stretch_width")
        go = pn.widgets.Button(label="Search", color="primary", icon=icon("search"), sizing_mode="stretch_width")
        upload = pn.widgets.FileInput(accept="image/*", sizing_mode="stretch_width", label="Search by picture",
                                      css_classes=["upload"])
        person = pn.widgets.Select(label="Person", options=self.person_options(), value=-1, sizing_mode="stretch_width")
        self._person_select = person
        formats = pn.widgets.CheckButtonGroup.from_param(self.param.formats, label="Formats", color="light",
                                                         variant="outline", sizing_mode="stretch_width")
        threshold = pn.widgets.IntSlider(label="Min similarity, %", start=0, end=50, value=int(self.threshold),
                                         sizing_mode="stretch_width")
        top_k = pn.widgets.RadioButtonGroup.from_param(self.param.top_k, label="Top", color="light",
                                                       sizing_mode="stretch_width")
        dates = pn.widgets.DateRangePicker(label="Taken between", sizing_mode="stretch_width")
        translate = pn.widgets.Checkbox.from_param(self.param.translate, label="Translate the query to English")
        multi = pn.widgets.Checkbox.from_param(self.param.multi_model, label="Multi-model fusion (RRF)")
        clear = pn.widgets.Button(label="Clear", icon=icon("x"), color="light", sizing_mode="stretch_width")

        def run(*_: Any) -> None:
            pn.state.execute(self.search_async) if pn.state.curdoc else self.search()

        def on_upload(event: param.parameterized.Event) -> None:
            if event.new:
                self.param.update(upload=event.new, upload_name=upload.filename or "picture", similar_to=None)
                run()

        def on_person(event: param.parameterized.Event) -> None:
            self.person_id = None if event.new in (None, -1) else event.new
            run()

        def on_dates(event: param.parameterized.Event) -> None:
            start, end = event.new if event.new else (None, None)
            self.param.update(date_from=start, date_to=end)
            run()

        def on_query(event: param.parameterized.Event) -> None:
            self.param.update(upload=None, upload_name="", similar_to=None)
            upload.param.update(value=None, filename=None)
            run()

        def on_clear(_: Any) -> None:
            upload.param.update(value=None, filename=None)
            person.value = -1
            dates.value = None
            self.clear()

        query.param.watch(on_query, "value")
        go.on_click(lambda e: on_query(None))
        upload.param.watch(on_upload, "value")
        person.param.watch(on_person, "value")
        dates.param.watch(on_dates, "value")
        threshold.param.watch(lambda e: (setattr(self, "threshold", e.new), run()), "value_throttled")
        for name in ("formats", "top_k", "translate", "multi_model"):
            self.param.watch(lambda e: run(), name)
        return pn.Column(query, go, upload,
                         person, pn.pane.Markdown("**Formats**", margin=(6, 10, 0, 10)), formats, threshold,
                         pn.pane.Markdown("**Results per page**", margin=(6, 10, 0, 10)), top_k, dates, translate, multi, clear,
                         sizing_mode="stretch_width", css_classes=["filters"])

    def refresh_people(self) -> None:
        select = getattr(self, "_person_select", None)
        if select is not None:
            select.options = self.person_options()

    def bottom_bar(self) -> pn.viewable.Viewable:
        how_many = pn.pane.Markdown(pn.bind(lambda s: f"**{len(s)}** selected", self.param.selected), margin=(8, 4))
        album = pn.widgets.Select(options=self.album_options(), value=-1, width=110, margin=(5, 5))
        album.param.watch(lambda e: setattr(self, "album_choice", None if e.new in (None, -1) else e.new), "value")
        self._album_select = album
        icon_css = [BAR_CSS]
        to_album = pn.widgets.Button(label="Add to album", description="Add to album", icon=icon("folder-plus"),
                                     stylesheets=icon_css)
        similar = pn.widgets.Button(label="Find similar", description="Find similar", icon=icon("photo-search"),
                                    stylesheets=icon_css)
        delete = pn.widgets.Button(label="Delete", description="Delete (to the trash)", icon=icon("trash"),
                                   color="danger", stylesheets=icon_css)
        done = pn.widgets.Button(label="Done", description="Leave selection mode (Esc)", icon=icon("x"),
                                 color="light", stylesheets=icon_css)
        to_album.on_click(lambda e: self.add_selected_to_album())
        similar.on_click(lambda e: self.find_similar_to_selected())
        delete.on_click(lambda e: self.ask_delete())
        done.on_click(lambda e: self.leave_select_mode())
        confirm = pn.widgets.Button(label="Move to trash", color="danger", icon=icon("check"))
        cancel = pn.widgets.Button(label="Cancel", color="light")
        confirm.on_click(lambda e: self.delete_selected())
        cancel.on_click(lambda e: setattr(self, "confirm_delete", False))
        asking = pn.Row(pn.pane.Markdown(pn.bind(lambda s: f"Move **{count(len(s), 'photo')}** to the trash?",
                                                 self.param.selected), margin=(8, 10)),
                        confirm, cancel, visible=self.param.confirm_delete)
        actions = pn.Row(how_many, album, to_album, similar, delete, done, styles={"flex-wrap": "wrap"},
                         visible=self.param.confirm_delete.rx.not_())
        return pn.Row(actions, asking, visible=self.param.select_mode, css_classes=["bottom-bar"],
                      stylesheets=[BOTTOM_BAR_CSS], sizing_mode="stretch_width")

    def refresh_albums(self) -> None:
        select = getattr(self, "_album_select", None)
        if select is not None:
            select.options = self.album_options()

    def __panel__(self) -> pn.viewable.Viewable:
        select = pn.widgets.Toggle(label="Select", icon=icon("checkbox"), value=self.select_mode, width=110,
                                   color="light")
        select.param.watch(lambda e: self.toggle_select_mode() if e.new != self.select_mode else None, "value")
        self.param.watch(lambda e: setattr(select, "value", e.new), "select_mode")
        header = pn.Row(pn.pane.Markdown(self.param.message, sizing_mode="stretch_width", margin=(8, 10)), select,
                        sizing_mode="stretch_width")
        return pn.Column(header, self.grid, pn.Spacer(height=70), self.bottom_bar(), sizing_mode="stretch_width")


BAR_CSS = """
@media (max-width: 600px) {
  .bk-btn {font-size: 0 !important; padding: 4px 12px; min-width: 48px; min-height: 40px;}
  .bk-btn .bk-SVGIcon {font-size: 22px;}
}
"""
"""On a phone the selection bar's buttons are icons only (their names stay as tooltips)."""

BOTTOM_BAR_CSS = """
:host {position: fixed !important; left: 0; right: 0; bottom: 0; z-index: 900; background: #fff;
       box-shadow: 0 -2px 10px rgba(0,0,0,.15); padding: 4px 8px; justify-content: center; flex-wrap: wrap;}
"""
