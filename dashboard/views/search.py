"""Search: the sidebar's filters, the results grid (skeletons, infinite scroll, by relevance or by
date), selection (see `selection.py`), and the model card when search by description cannot run."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from functools import partial
from pathlib import PurePosixPath
from typing import Any

import panel as pn
import param

from dashboard.components import DateRangeInput, PhotoGrid
from dashboard.icons import icon
from dashboard.views.common import (USER_ERRORS, Context, Tile, error_text, grid_items, grid_labels, in_date_range,
                                    literal, markdown_pane)
from dashboard.views.model_card import ModelCard
from dashboard.views.selection import Selection
from engine.media.formats import expand_format_filter
from engine.i18n import N_
from engine.models.errors import ModelNotAvailable
from engine.search.filters import SearchFilters

log = logging.getLogger(__name__)

FORMATS = ["JPG", "HEIC", "PNG", "RAW"]
SORT_TITLES = {"relevance": N_("relevance"), "date": N_("date")}


class SearchView(pn.viewable.Viewer):
    """Every search the dashboard can run, as params; `search()` runs it, `load_more()` pages on."""

    query = param.String(default="", doc=N_("What to look for, in words (Russian or English)."))
    translate = param.Boolean(default=False, doc=N_("Translate the query to English first (on by default with a key)."))
    multi_model = param.Boolean(default=False, doc=N_("Fuse every indexed model's ranking (RRF)."))
    formats = param.ListSelector(default=[], objects=FORMATS, doc=N_("Only these formats; none = all."))
    threshold = param.Number(default=0.0, bounds=(0, 50), step=1, doc="Minimum similarity, percent.")
    top_k = param.Selector(default=20, objects=[10, 20, 50, 100], doc=N_("Results per page."))
    person_id = param.Integer(default=None, allow_None=True, doc="Only photos showing this person.")
    date_from = param.Date(default=None, allow_None=True)
    date_to = param.Date(default=None, allow_None=True)
    upload = param.Bytes(default=None, allow_None=True, doc="A picture to search by.")
    upload_name = param.String(default="")
    similar_to = param.Integer(default=None, allow_None=True, doc="Find photos like this one.")

    sort = param.Selector(default="relevance", objects=["relevance", "date"],
                          doc=N_("Best match first, or newest first (then no match score is shown)."))

    results = param.List(default=[], item_type=Tile, doc="In the engine's order (best match first).")
    message = param.String(default="")
    loading = param.Boolean(default=False)
    has_more = param.Boolean(default=False)

    def __init__(self, ctx: Context, **params: Any) -> None:
        super().__init__(**params)
        self.ctx = ctx
        self.engine = ctx.engine
        if "translate" not in params:
            self.translate = self.engine.search.translator.configured
        self._limit = self.top_k
        self._external: str | None = None  # a title when results came from elsewhere (a face search)
        _ = ctx._
        self.grid = PhotoGrid(keyboard=True, labels=grid_labels(_),
                              empty_text=_("Type what you are looking for and press Enter — or drop a picture."))
        self.grid.on_open(self.open)
        self.grid.on_more(self._more_from_browser)
        self.selection = Selection(ctx, self.grid, shown=lambda: [t.id for t in self.results],
                                   similar=self.find_similar)
        self.model_card = ModelCard(ctx)
        self.opener = None  # set by the app: callable(ids, index)
        self.on_user_search: list[Callable[[], None]] = []
        """Called when the user starts a search from the sidebar (the app shows the Search tab)."""
        self.param.watch(lambda e: self._sync_grid(), "sort")
        ctx.listen(lambda event, ids: self.forget(list(ids or [])) if event == "photos-deleted" else None)
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
        mode, _ = self._mode(), self.ctx._
        engine, model = self.engine, self.engine.search.serving().name
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
            what = _("like {name}", name=literal(self.upload_name or _("the uploaded picture")))
        elif mode == "similar":
            result = engine.search.image(model=model, photo_id=self.similar_to, top_k=want, threshold=threshold,
                                         formats=formats)
            tiles = [Tile.of(h) for h in result.hits]
            what = _("similar to {name}", name=literal(self._photo_name(self.similar_to)))
        elif mode == "person+text":
            result = engine.faces.search.person_text([self.person_id], self.query, model=model, top_k=want,
                                                     threshold=threshold)
            tiles = [Tile.of(h) for h in result.hits]
            what = _("of {person} for “{query}”", person=literal(self._person_name()), query=literal(self.query))
        elif mode == "person":
            photos, _total = engine.faces.search.photos_with([self.person_id], limit=want)
            tiles, what = [Tile.of(p) for p in photos], _("of {person}", person=literal(self._person_name()))
        else:
            result = engine.search.query(
                self.query, multi_model=self.multi_model, translate=self.translate, top_k=want,
                threshold=threshold, formats=formats,
                filters=SearchFilters.of(date_from=self.date_from, date_to=self.date_to),
            )
            notes.extend(result.notes)
            if self.multi_model and len(result.models) == 1:
                notes.append(N_("multi-model: only {model} is indexed, so this is its ranking alone",
                                model=result.models[0]))
            tiles, what = [Tile.of(h) for h in result.hits], _("for “{query}”", query=literal(self.query))
            translated = getattr(result, "translated_query", None)
            if translated and translated != self.query:
                notes.append(N_("translated: “{text}”", text=translated))
        returned = len(tiles)
        if formats and mode in ("person", "person+text"):
            allowed = expand_format_filter(formats)
            tiles = [t for t in tiles if t.format in allowed]
        tiles = [t for t in tiles if in_date_range(t.taken_at, self.date_from, self.date_to)][:limit]
        if mode == "person":
            model_name = _("faces")
        else:
            model_name = getattr(result, "model", model)
            model_name = _("fused (RRF)") if model_name == "rrf" and len(getattr(result, "models", ())) > 1 else (
                result.models[0] if model_name == "rrf" and result.models else model_name)
        found = _.ngettext("{n} photo", "{n} photos", len(tiles))
        text = f"{found} {what} · {model_name}" + "".join(f" · {literal(_(n))}" for n in notes)
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
        except ModelNotAvailable:
            self.model_card.check()
            return [], False, self.ctx._("Search by description needs the image-text model: see the card above.")
        except Exception as exc:  # an unknown person, nothing indexed yet: said on the page, never a crash
            if not isinstance(exc, USER_ERRORS):
                log.exception("search failed")
            return [], False, f"⚠ {error_text(exc, self.ctx._)}"
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
        found = self.ctx._.ngettext("{n} photo", "{n} photos", len(tiles))
        self.results, self.has_more, self.message = tiles, False, f"{found} {literal(title)}"
        self._sync_grid()

    def clear(self) -> None:
        """Back to nothing searched and no filters (the sidebar's Clear)."""
        self.param.update(query="", upload=None, upload_name="", similar_to=None, person_id=None, formats=[],
                          date_from=None, date_to=None, results=[], message="", has_more=False)
        self._external = None
        self.selection.leave()
        self._sync_grid()

    def _person_name(self) -> str:
        try:
            return self.engine.faces.persons.get(self.person_id).name
        except USER_ERRORS:
            return self.ctx._("this person")

    def _photo_name(self, photo_id: int) -> str:
        photo = self.ctx.photo(photo_id)
        return PurePosixPath(photo.path).name if photo else self.ctx._("a photo that is gone")

    def shown(self) -> list[Tile]:
        """The results in the chosen order; sorted by date they carry no match score."""
        if self.sort != "date":
            return list(self.results)
        oldest = datetime.min.replace(tzinfo=timezone.utc)

        def when(t: Tile) -> datetime:
            if t.taken_at is None:
                return oldest
            return t.taken_at if t.taken_at.tzinfo else t.taken_at.replace(tzinfo=timezone.utc)

        return [replace(t, score=None) for t in sorted(self.results, key=when, reverse=True)]

    def _sync_grid(self) -> None:
        self.grid.param.update(items=grid_items(self.ctx, self.shown()), loading=self.loading, has_more=self.has_more)
        self.selection.sync()

    def _more_from_browser(self) -> None:
        pn.state.execute(partial(self.search_async, more=True)) if pn.state.curdoc else self.load_more()

    # --- lightbox ------------------------------------------------------------------------
    def open(self, photo_id: int) -> None:
        ids = [t.id for t in self.shown()]
        if self.opener and photo_id in ids:
            self.opener(ids, ids.index(photo_id))

    def find_similar(self, photo_id: int) -> None:
        self.param.update(upload=None, upload_name="", similar_to=photo_id)
        self.search()

    def forget(self, ids: list[int]) -> None:
        gone = set(ids)
        if any(t.id in gone for t in self.results):
            self.results = [t for t in self.results if t.id not in gone]
            self._sync_grid()

    def refresh_thumbs(self) -> None:
        self._sync_grid()

    # --- widgets ---------------------------------------------------------------------------
    def person_options(self) -> dict[str, int | None]:
        people, _ = self.engine.faces.persons.list(None, 500, 0)
        return {self.ctx._("Anyone"): -1, **{f"{p.name} ({p.photo_count})": p.id for p in people}}

    def multi_label(self) -> str:
        try:
            n = len(self.engine.search.indexed_models())
        except USER_ERRORS:
            n = 0
        _ = self.ctx._
        return _("Multi-model fusion (RRF)") + (" · " + _.ngettext("{n} model indexed", "{n} models indexed", n)
                                                if n != 2 else "")

    def filters(self) -> pn.Column:
        """The filter panel (the template's sidebar: a drawer on a phone)."""
        _ = self.ctx._
        query = pn.widgets.TextInput.from_param(self.param.query, description=_(self.param.query.doc),
                                                label=_("Search"),
                                                placeholder=_("sunset over the sea…"), sizing_mode="stretch_width")
        go = pn.widgets.Button(label=_("Search"), color="primary", icon=icon("search"), sizing_mode="stretch_width")
        upload = pn.widgets.FileInput(accept="image/*", sizing_mode="stretch_width", label=_("Search by picture"),
                                      css_classes=["upload"])
        person = pn.widgets.Select(label=_("Person"), options=self.person_options(), value=-1,
                                   sizing_mode="stretch_width")
        self._person_select = person
        formats = pn.widgets.CheckButtonGroup.from_param(self.param.formats, description=_(self.param.formats.doc),
                                                         label=_("Formats"), color="light",
                                                         variant="outline", sizing_mode="stretch_width")
        sort = pn.widgets.RadioButtonGroup.from_param(self.param.sort, description=_(self.param.sort.doc),
                                                      label=_("Sort results"), color="light",
                                                      sizing_mode="stretch_width",
                                                      options={_(SORT_TITLES[k]): k for k in SORT_TITLES})
        threshold = pn.widgets.IntSlider(label=_("Min similarity, %"), start=0, end=50, value=int(self.threshold),
                                         sizing_mode="stretch_width")
        top_k = pn.widgets.RadioButtonGroup.from_param(self.param.top_k, description=_(self.param.top_k.doc),
                                                       label=_("Top"), color="light",
                                                       sizing_mode="stretch_width")
        dates = DateRangeInput(label=_("Taken between"), description=_("Type “2023-07-01 to 2023-07-31” and press "
                               "Enter, or pick two days on the calendar"), sizing_mode="stretch_width",
                               css_classes=["dates"])
        translate = pn.widgets.Checkbox.from_param(self.param.translate, label=_("Translate the query to English"))
        multi = pn.widgets.Checkbox.from_param(self.param.multi_model, label=self.multi_label())
        self._multi_box = multi
        clear = pn.widgets.Button(label=_("Clear"), icon=icon("x"), color="light", sizing_mode="stretch_width")

        def run(*_: Any, user: bool = False) -> None:
            if self._mode() == "none":
                return  # filters alone narrow the timeline (the app watches them)
            if user:  # skeletons before the Search tab shows, never the last answer
                self.param.update(results=[], loading=True)
                self._sync_grid()
                for cb in self.on_user_search:
                    cb()
            pn.state.execute(self.search_async) if pn.state.curdoc else self.search()

        def on_upload(event: param.parameterized.Event) -> None:
            if event.new:
                self.param.update(upload=event.new, upload_name=upload.filename or _("picture"), similar_to=None)
                run(user=True)

        def on_person(event: param.parameterized.Event) -> None:
            self.person_id = None if event.new in (None, -1) else event.new
            run()

        def on_dates(event: param.parameterized.Event) -> None:
            start, end = event.new if event.new else (None, None)
            self.param.update(date_from=start.date() if start else None, date_to=end.date() if end else None)
            run()

        def on_query(event: param.parameterized.Event | None) -> None:
            self.param.update(upload=None, upload_name="", similar_to=None)
            upload.param.update(value=None, filename=None)
            run(user=True)

        def on_clear(_: Any) -> None:
            upload.param.update(value=None, filename=None)
            person.value = -1
            dates.value = None
            self.clear()

        query.param.watch(on_query, "value")
        go.on_click(lambda e: on_query(None))
        clear.on_click(on_clear)
        upload.param.watch(on_upload, "value")
        person.param.watch(on_person, "value")
        dates.param.watch(on_dates, "value")
        threshold.param.watch(lambda e: (setattr(self, "threshold", e.new), run()), "value_throttled")
        for name in ("formats", "top_k", "translate", "multi_model"):
            self.param.watch(lambda e: run(), name)
        heading = {"margin": (6, 10, 0, 10)}
        formats_title, results_title, per_page = (_("Formats"), _("Search results"), _("Results per page"))
        return pn.Column(query, go, upload, dates, person, markdown_pane(f"**{formats_title}**", **heading), formats,
                         markdown_pane(f"**{results_title}**", **heading), sort, threshold,
                         markdown_pane(f"**{per_page}**", **heading), top_k, translate, multi, clear,
                         sizing_mode="stretch_width", css_classes=["filters"])

    def refresh_people(self) -> None:
        select = getattr(self, "_person_select", None)
        if select is not None:
            select.options = self.person_options()
        box = getattr(self, "_multi_box", None)
        if box is not None:
            box.label = self.multi_label()

    def refresh_albums(self) -> None:
        self.selection.refresh_albums()

    def __panel__(self) -> pn.viewable.Viewable:
        header = pn.Row(markdown_pane(self.param.message, sizing_mode="stretch_width", margin=(8, 10)),
                        self.selection.toggle_button(), sizing_mode="stretch_width")
        return pn.Column(self.model_card, header, self.grid, pn.Spacer(height=70), self.selection,
                         sizing_mode="stretch_width")
