"""The timeline, the first thing a user sees: every photo by date taken, newest first, in month
and day sections, with a year/month scrubber, infinite scroll both ways and the sidebar's filters.

It needs no model: a library that was only scanned (dates, places, faces) shows in full. The page
holds at most `WINDOW` photos: scrolling on past them drops the far end and fetches it again when
scrolled back (keyset pages, see `engine.library.timeline`).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import panel as pn
import param

from dashboard.components import PhotoGrid, Scrubber
from dashboard.views.common import USER_ERRORS, Context, day_text, error_text, grid_labels, markdown_pane
from dashboard.views.model_card import ModelCard
from dashboard.views.selection import Selection
from engine.i18n import Translator, translator
from engine.library.timeline import MonthCount, TimelinePhoto
from engine.search.filters import SearchFilters

PAGE = 200
WINDOW = 1000
"""Most photos on the page at once: the far end goes when scrolling on past it."""


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_label(day: date, language: str = "en") -> str:
    return day_text(day, "LLLL y", language)


def day_label(day: date, today: date | None = None, _: Translator = translator("en")) -> str:
    today = today or date.today()
    if day == today:
        return _("Today")
    return day_text(day, "EEE, d MMM", _.language)  # the month's heading above names the year


class TimelineView(pn.viewable.Viewer):
    photos = param.List(default=[], item_type=TimelinePhoto, doc="The stretch on the page, newest first.")
    months = param.List(default=[], item_type=MonthCount, doc="Photos per month, for the scrubber.")
    has_older = param.Boolean(default=False)
    has_newer = param.Boolean(default=False, doc="Photos newer than the first shown (after a jump).")
    month = param.String(default="", doc="The month in sight, YYYY-MM.")
    message = param.String(default="")

    def __init__(self, ctx: Context, filters: Callable[[], SearchFilters | None] = lambda: None,
                 **params: Any) -> None:
        """`filters`: the sidebar's filters now (dates, formats, person)."""
        super().__init__(**params)
        self.ctx = ctx
        self.engine = ctx.engine
        self.filters = filters
        self.opener: Callable[[list[int], int], None] | None = None
        self.grid = PhotoGrid(grouped=True, keyboard=True, report_view=True, empty_text="", labels=grid_labels(ctx._))
        self.grid.on_open(self.open)
        self.grid.on_more(self.older)
        self.grid.on("newer", self.newer)
        self.grid.on("viewing", self._viewing)
        self.scrubber = Scrubber(labels={"jump": ctx._("Jump to a month")})
        self.scrubber.on_jump(self.jump)
        self.selection = Selection(ctx, self.grid, shown=lambda: [p.id for p in self.photos])
        self.model_card = ModelCard(ctx)
        self._month_of: dict[int, str] = {}
        self.loaded = False
        ctx.listen(self._on_event)

    def _on_event(self, event: str, ids: Any) -> None:
        if event == "photos-deleted":
            self.forget(list(ids or []))
        elif event == "photos-restored" and self.loaded:
            self.refresh()

    # --- reading --------------------------------------------------------------------------------
    def load(self) -> None:
        """From the newest photo, with the sidebar's filters as they are now."""
        try:
            flt = self.filters()
            page = self.engine.library.timeline.page(flt, limit=PAGE)
            months = self.engine.library.timeline.months(flt)
        except USER_ERRORS as exc:
            self.param.update(photos=[], months=[], has_older=False, has_newer=False,
                              message=f"⚠ {error_text(exc, self.ctx._)}")
        else:
            self.param.update(photos=page, months=months, has_older=len(page) == PAGE, has_newer=False,
                              message=self._summary(months, flt))
        self.loaded = True
        self.model_card.check()
        self._sync()

    def _summary(self, months: list[MonthCount], flt: SearchFilters | None) -> str:
        total, _ = sum(m.count for m in months), self.ctx._
        if total == 0:
            return (_("No photos match the filters in the sidebar.") if flt else
                    _("No photos yet. Photos appear here as soon as the library is scanned (Admin shows the progress)."))
        if flt:
            return _.ngettext("{n} photo matching the filters", "{n} photos matching the filters", total)
        return _.ngettext("{n} photo", "{n} photos", total)

    def older(self) -> None:
        """The next page down (infinite scroll)."""
        if not self.has_older or not self.photos:
            return
        page = self._page(before=self.photos[-1].cursor)
        if page is None:
            return
        photos = [*self.photos, *page]
        dropped = max(0, len(photos) - WINDOW)
        self.param.update(photos=photos[dropped:], has_older=len(page) == PAGE,
                          has_newer=self.has_newer or dropped > 0)
        self._sync()

    def newer(self) -> None:
        """The page above the first shown (scrolling back up after a jump or a long scroll)."""
        if not self.has_newer or not self.photos:
            return
        try:
            page = self.engine.library.timeline.newer(self.filters(), self.photos[0].cursor, PAGE)
        except USER_ERRORS as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return
        photos = [*page, *self.photos]
        kept = photos[:WINDOW]
        self.param.update(photos=kept, has_newer=len(page) == PAGE,
                          has_older=self.has_older or len(kept) < len(photos))
        self._sync()

    def jump(self, key: str) -> None:
        """To the newest photo of month `key` (YYYY-MM), from the scrubber."""
        try:
            year, month = (int(x) for x in key.split("-"))
            start = date(year, month, 1)
        except ValueError:
            return
        page = self._page(month=start)
        if page is None:
            return
        above = bool(page) and bool(self.engine.library.timeline.newer(self.filters(), page[0].cursor, 1))
        self.param.update(photos=page, has_older=len(page) == PAGE, has_newer=above, month=key)
        self.selection.sync()
        self._sync()
        self.grid.scroll_to_top()

    def _page(self, **where: Any) -> list[TimelinePhoto] | None:
        try:
            return self.engine.library.timeline.page(self.filters(), limit=PAGE, **where)
        except USER_ERRORS as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return None

    def refresh(self) -> None:
        """What the stretch on the page holds now (photos added, trashed, restored elsewhere),
        without moving: the same stretch is read again, and the months with it."""
        if not self.loaded:
            self.load()
            return
        if not self.photos:
            self.load()
            return
        try:
            flt = self.filters()
            newest = self.photos[0].cursor if self.has_newer else None
            photos = self.engine.library.timeline.between(flt, newest, self.photos[-1].cursor, WINDOW + PAGE)
            months = self.engine.library.timeline.months(flt)
        except USER_ERRORS as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return
        if not photos:
            self.load()
            return
        self.param.update(photos=photos[:WINDOW], months=months, message=self._summary(months, flt),
                          has_older=self.has_older or len(photos) > WINDOW)
        self.model_card.check()
        self._sync()

    def forget(self, ids: list[int]) -> None:
        gone = set(ids)
        if any(p.id in gone for p in self.photos):
            self.photos = [p for p in self.photos if p.id not in gone]
            self._sync()

    # --- showing ----------------------------------------------------------------------------------
    def _sync(self) -> None:
        today, _ = date.today(), self.ctx._
        items, self._month_of = [], {}
        for p in self.photos:
            day = p.at.date()
            key = month_key(day)
            self._month_of[p.id] = key
            items.append({"id": p.id, "src": self.ctx.thumb_url(p.id), "title": p.path,
                          "month": month_label(day, _.language), "day": day_label(day, today, _)})
        self.grid.param.update(items=items, has_more=self.has_older, has_newer=self.has_newer,
                               empty_text=self.message if not self.photos else "")
        self.scrubber.months = [{"key": month_key(m.month), "year": m.month.year, "count": m.count,
                                 "label": month_label(m.month, _.language) + " · "
                                 + _.ngettext("{n} photo", "{n} photos", m.count)} for m in self.months]
        if self.photos and not self.month:
            self.month = self._month_of[self.photos[0].id]
        self.scrubber.current = self.month
        self.selection.sync()

    def _viewing(self, photo_id: int) -> None:
        key = self._month_of.get(photo_id)
        if key and key != self.month:
            self.month = key
            self.scrubber.current = key

    def open(self, photo_id: int) -> None:
        ids = [p.id for p in self.photos]
        if self.opener and photo_id in ids:
            self.opener(ids, ids.index(photo_id))

    def __panel__(self) -> pn.viewable.Viewable:
        header = pn.Row(markdown_pane(self.param.message, sizing_mode="stretch_width", margin=(8, 10)),
                        self.selection.toggle_button(), sizing_mode="stretch_width")
        return pn.Column(self.model_card, header, self.grid, self.scrubber, pn.Spacer(height=70), self.selection,
                         sizing_mode="stretch_width", stylesheets=[TIMELINE_CSS], css_classes=["timeline"])


TIMELINE_CSS = """
:host {padding-right: 58px; box-sizing: border-box;}
@media (max-width: 600px) { :host {padding-right: 40px;} }
"""
"""Room on the right for the scrubber, which stays at the window's edge."""
