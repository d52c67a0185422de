"""The Panel dashboard: timeline, search, the assistant chat, persons, map, duplicates, albums,
trash and admin, with one lightbox for every grid.

Each view is a `pn.viewable.Viewer` in `dashboard/views/` whose state lives in declared params and
whose actions are methods (tested without a browser); the views call the engine in-process.
Thumbnails are plain `<img loading="lazy">` in one custom grid component, served by the REST routes.
The page stays current by itself: once a second it reads the library revision (one cheap query)
and job states, and refreshes the counters and the view on screen when something changed.
"""
from __future__ import annotations

import time
from typing import Any

import panel as pn
import param

from dashboard.language import request_language
from dashboard.theme import FAVICON, VIEWPORT, PageChrome, PhotoDesign, calendar_locale, page_css, theme_from
from dashboard.views.admin import AdminView
from dashboard.views.albums import AlbumsView
from dashboard.views.assistant import AssistantView
from dashboard.views.common import USER_ERRORS, Context, error_text, literal, markdown_pane
from dashboard.views.duplicates import DuplicatesView
from dashboard.views.lightbox import Lightbox
from dashboard.views.map import MapView
from dashboard.views.persons import PersonsView
from dashboard.views.search import SearchView
from dashboard.views.timeline import TimelineView
from dashboard.views.trash import TrashView
from engine.app import PhotoIndex
from engine.i18n import N_, Language, Translator, translator

TABS = ["Timeline", "Search", "Assistant", "Persons", "Map", "Duplicates", "Albums", "Trash", "Admin"]
TAB_TITLES = {"Timeline": N_("Timeline"), "Search": N_("Search"), "Assistant": N_("Assistant"), "Persons": N_("Persons"),
              "Map": N_("Map"), "Duplicates": N_("Duplicates"), "Albums": N_("Albums"), "Trash": N_("Trash"),
              "Admin": N_("Admin")}
"""The tabs' names on screen (`TABS` are their keys in the code, in English whatever the language)."""
TITLE = N_("Photo search")
LIVE = ("Timeline", "Persons", "Map", "Albums", "Trash", "Admin")
"""Views that show the library as it is now, refreshed when it changes (the others show the
answer to a question the user asked: a search, a chat, a duplicate scan)."""
REFRESH_EVERY_S = 2.0
"""At most this often while the library keeps changing (an indexing run writes every second)."""


def status_markdown(engine: PhotoIndex, _: Translator = translator("en")) -> str:
    stats = engine.stats()
    indexed = ", ".join(f"{name}: {n}" for name, n in stats.embeddings.items() if n)
    search = (_("search index — {models}", models=indexed) if indexed
              else _("search index — none yet (metadata only)"))
    bits = [_.ngettext("{n} photo", "{n} photos", stats.total_photos), _("{n} with GPS", n=stats.with_gps),
            _("{n} unreadable", n=stats.failed_count), search, _("REST API")]
    return "**{}** · {} · {} · {} · [{}](/docs)".format(*bits)


class LibraryStatus(pn.viewable.Viewer):
    """The sidebar's counters."""

    text = param.String(default="")

    def __init__(self, engine: PhotoIndex, _: Translator = translator("en"), **params: Any) -> None:
        super().__init__(**params)
        self.engine = engine
        self._ = _
        self.refresh()

    def refresh(self) -> None:
        try:
            self.text = status_markdown(self.engine, self._)
        except USER_ERRORS as exc:  # a database outage: said here, the page stays up
            self.text = f"⚠ {error_text(exc, self._)}"

    def __panel__(self) -> pn.viewable.Viewable:
        return markdown_pane(self.param.text, styles={"font-size": "12px"}, css_classes=["library-status"])


class Dashboard(pn.viewable.Viewer):
    """Every view wired together: one lightbox for all grids, and a small event bus between views."""

    tab = param.Selector(default="Timeline", objects=TABS)
    revision = param.Integer(default=-1, doc="The library revision the page last showed.")

    def __init__(self, engine: PhotoIndex, language: Language = "en", **params: Any) -> None:
        super().__init__(**params)
        self.engine = engine
        self.ctx = Context(engine, language)
        self.lightbox = Lightbox(self.ctx)
        self.search = SearchView(self.ctx)
        self.timeline = TimelineView(self.ctx, filters=self.search.sidebar_filters)
        self.assistant = AssistantView(self.ctx, search=self.search)
        self.persons = PersonsView(self.ctx)
        self.map = MapView(self.ctx, search=self.search)
        self.duplicates = DuplicatesView(self.ctx)
        self.albums = AlbumsView(self.ctx)
        self.trash = TrashView(self.ctx)
        self.admin = AdminView(self.ctx)
        self.status = LibraryStatus(engine, self.ctx._)
        _ = self.ctx._
        self.chrome = PageChrome(language=self.ctx.language, labels={
            "dark": _("Dark mode"), "light": _("Light mode"), "language": _("Interface language"),
            "sidebar": _("Show or hide the filters"), "close": _("Close")},
            calendar=calendar_locale(self.ctx.language, _("Month"), _("Year")))
        self.views = {"Timeline": self.timeline, "Search": self.search, "Assistant": self.assistant,
                      "Persons": self.persons, "Map": self.map, "Duplicates": self.duplicates, "Albums": self.albums,
                      "Trash": self.trash, "Admin": self.admin}
        for view in (self.timeline, self.search, self.assistant, self.persons, self.map, self.duplicates, self.albums):
            view.opener = self.lightbox.show
        self._stale: set[str] = set()
        self._changed_at = 0.0
        self._jobs_seen: tuple[tuple[int, str], ...] = ()
        self.revision = self._read_revision()
        self.ctx.listen(self._on_event)
        self.search.on_user_search.append(self._on_user_search)
        self.search.param.watch(self._on_filters, ["formats", "date_from", "date_to", "person_id"])
        self.search.param.watch(lambda *_: self.map.refresh() if self.tab == "Map" else None,
                                ["results", "formats", "date_from", "date_to", "person_id"])
        self.timeline.load()

    def _read_revision(self) -> int:
        try:
            return self.engine.revision()
        except USER_ERRORS:
            return self.revision

    # --- what happens between views -------------------------------------------------------------
    def _on_user_search(self) -> None:
        self.tab = "Search"
        self.chrome.close_drawer()

    def _on_filters(self, *_events: param.parameterized.Event) -> None:
        """The sidebar's filters narrow the timeline too."""
        if self.tab == "Timeline":
            self.timeline.load()
        else:
            self._stale.add("Timeline")

    def _on_event(self, event: str, payload: Any) -> None:
        if event == "show-results":
            title, tiles = payload
            self.search.show_external(title, tiles)
            self.tab = "Search"
        elif event == "photo-changed":
            self.search.refresh_thumbs()
            self.timeline.refresh()
            if self.persons.photos:
                self.persons.photo_grid.items = [{**i, "src": self.ctx.thumb_url(i["id"])}
                                                 for i in self.persons.photo_grid.items]
        elif event in ("photos-deleted", "photos-restored"):  # the views on screen have followed already
            self.library_changed()
        elif event == "persons-changed":
            self.search.refresh_people()
            if payload != "persons":
                self.persons.refresh()
        elif event == "albums-changed":
            self.search.refresh_albums()
            self.timeline.selection.refresh_albums()
            if payload != "albums":
                self.albums.refresh()

    # --- live state ---------------------------------------------------------------------------------
    def library_changed(self) -> None:
        """Counters and the view on screen show the library as it is now; the other live views
        refresh when they are next shown."""
        self.revision = self._read_revision()
        self._changed_at = time.monotonic()
        self.status.refresh()
        self._stale.update(LIVE)
        self._refresh_shown()

    def _refresh_shown(self) -> None:
        if self.tab not in self._stale:
            return
        self._stale.discard(self.tab)
        view = self.views[self.tab]
        if view is self.map:
            self.map.refresh(fit=False)
        elif hasattr(view, "refresh"):
            view.refresh()

    def tick(self) -> None:
        """Once a second: job progress while it is on screen or a job runs; the rest when the
        library revision moved or a job finished (at most every `REFRESH_EVERY_S`)."""
        if self.tab == "Admin" or self.admin.running:
            self.admin.refresh_jobs()
        self.timeline.model_card.progress()
        self.search.model_card.progress()
        jobs = tuple((s.id, s.state) for s in self.engine.jobs.all())
        finished = any(state not in ("queued", "running") and (i, state) not in self._jobs_seen
                       for i, state in jobs) and bool(self._jobs_seen or jobs)
        self._jobs_seen = jobs
        if time.monotonic() - self._changed_at < REFRESH_EVERY_S:
            return
        if finished or self._read_revision() != self.revision:
            self.library_changed()

    def show_tab(self, name: str) -> None:
        """What a click on a tab does: show it, refreshed if the library changed while it was away."""
        self.tab = name
        if name == "Timeline" and "Timeline" in self._stale:
            self._stale.discard("Timeline")
            self.timeline.load()
        elif name in ("Persons", "Map", "Albums", "Admin", "Trash"):
            self._stale.discard(name)
            view = self.views[name]
            if pn.state.curdoc is not None:  # after the tab's first render has gone out, or the updates race
                pn.state.curdoc.add_timeout_callback(view.refresh, 300)
            else:
                view.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        _ = self.ctx._
        tabs = pn.Tabs(*((_(TAB_TITLES[key]), view) for key, view in self.views.items()), dynamic=True, sizing_mode="stretch_width",
                       stylesheets=[TABS_CSS, SHRINK_CSS], css_classes=["main-tabs"])
        tabs.active = TABS.index(self.tab)
        tabs.param.watch(lambda e: self.show_tab(TABS[e.new]) if TABS[e.new] != self.tab else None, "active")
        self.param.watch(lambda e: setattr(tabs, "active", TABS.index(e.new)), "tab")
        return pn.Column(tabs, self.lightbox, sizing_mode="stretch_width", stylesheets=[SHRINK_CSS])


SHRINK_CSS = ":host {min-width: 0 !important;}"
"""Panel adds up fixed-width children into a layout's min-width; a phone screen must not be pushed wider."""

TABS_CSS = """
.bk-header {overflow-x: auto; scrollbar-width: thin;}
@media (max-width: 600px) { .bk-tab {padding: 4px 10px !important; font-size: 14px;} }
"""


def create_dashboard(engine: PhotoIndex) -> pn.template.BaseTemplate:
    dash = Dashboard(engine, language=request_language(engine.settings.interface_language))
    _ = dash.ctx._
    theme = theme_from(pn.state.cookies if pn.state.curdoc is not None else {})
    dash.chrome.theme = theme
    main: list[Any] = [dash]
    if not engine.db.vector_check.ok:
        problem = engine.db.vector_check.message
        main.insert(0, markdown_pane(literal(_(problem) if problem else ""), alert_type="danger",
                                     sizing_mode="stretch_width"))
    template = pn.template.BootstrapTemplate(
        title=_(TITLE), sidebar=[dash.search.filters(), dash.status], main=main, header=[dash.chrome],
        sidebar_width=300, header_background="#1f2d3d", raw_css=[page_css(theme)], theme=theme, design=PhotoDesign,
        favicon=FAVICON, meta_viewport=VIEWPORT,
    )
    if pn.state.curdoc is not None:
        pn.state.add_periodic_callback(dash.tick, period=1000)
    template.dashboard = dash  # reachable from tests and notebooks
    return template
