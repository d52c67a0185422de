"""The Panel dashboard: search, the assistant chat, lightbox with faces, persons, map, duplicates, albums, admin.

Each view is a `pn.viewable.Viewer` in `dashboard/views/` whose state lives in declared params and
whose actions are methods (tested without a browser); the views call the engine in-process.
Thumbnails are plain `<img loading="lazy">` in one custom grid component, served by the REST routes.
"""
from __future__ import annotations

import html
from typing import Any

import panel as pn
import param
from panel.custom import JSComponent

from dashboard.views.admin import AdminView
from dashboard.views.assistant import AssistantView
from dashboard.views.albums import AlbumsView
from dashboard.views.common import Context
from dashboard.views.duplicates import DuplicatesView
from dashboard.views.lightbox import Lightbox
from dashboard.views.map import MapView
from dashboard.views.persons import PersonsView
from dashboard.views.search import SearchView
from engine.app import PhotoIndex

TABS = ["Search", "Assistant", "Persons", "Map", "Duplicates", "Albums", "Admin"]


def status_markdown(engine: PhotoIndex) -> str:
    stats = engine.stats()
    indexed = ", ".join(f"{name}: {n}" for name, n in stats["embeddings"].items() if n) or "none yet"
    return (f"**{stats['total_photos']}** photos · {stats['with_gps']} with GPS · "
            f"{stats['failed_count']} unreadable · indexed — {indexed} · [REST API](/docs)")


class Dashboard(pn.viewable.Viewer):
    """Every view wired together: one lightbox for all grids, and a small event bus between views."""

    tab = param.Selector(default="Search", objects=TABS)

    def __init__(self, engine: PhotoIndex, **params: Any) -> None:
        super().__init__(**params)
        self.ctx = Context(engine)
        self.lightbox = Lightbox(self.ctx)
        self.search = SearchView(self.ctx)
        self.assistant = AssistantView(self.ctx, search=self.search)
        self.persons = PersonsView(self.ctx)
        self.map = MapView(self.ctx, search=self.search)
        self.duplicates = DuplicatesView(self.ctx)
        self.albums = AlbumsView(self.ctx)
        self.admin = AdminView(self.ctx)
        for view in (self.search, self.assistant, self.persons, self.map, self.duplicates, self.albums):
            view.opener = self.lightbox.show
        self.ctx.listen(self._on_event)
        self.search.param.watch(lambda e: self.map.refresh() if self.tab == "Map" else None,
                                ["results", "formats", "date_from", "date_to", "person_id"])

    def _on_event(self, event: str, payload: Any) -> None:
        if event == "show-results":
            title, tiles = payload
            self.search.show_external(title, tiles)
            self.tab = "Search"
        elif event == "photo-changed":
            self.search.refresh_thumbs()
            if self.persons.photos:
                self.persons.photo_grid.items = [{**i, "src": self.ctx.thumb_url(i["id"])}
                                                 for i in self.persons.photo_grid.items]
        elif event == "photos-deleted":
            self.search.forget(list(payload or []))
        elif event == "persons-changed":
            self.search.refresh_people()
            if payload != "persons":
                self.persons.refresh()
        elif event == "albums-changed":
            self.search.refresh_albums()
            if payload != "albums":
                self.albums.refresh()

    def tick(self) -> None:
        """Once a second: the admin's job progress, when it is on screen or a job runs."""
        if self.tab == "Admin" or self.admin.running:
            self.admin.refresh_jobs()

    def __panel__(self) -> pn.viewable.Viewable:
        views = {"Search": self.search, "Assistant": self.assistant, "Persons": self.persons, "Map": self.map,
                 "Duplicates": self.duplicates, "Albums": self.albums, "Admin": self.admin}
        tabs = pn.Tabs(*views.items(), dynamic=True, sizing_mode="stretch_width", stylesheets=[TABS_CSS, SHRINK_CSS])

        def on_tab(event: param.parameterized.Event) -> None:
            self.tab = TABS[event.new]
            view = views[self.tab]
            if hasattr(view, "refresh") and self.tab in ("Persons", "Map", "Albums", "Admin"):
                # after the tab's first render has gone out, or the two updates race in the browser
                if pn.state.curdoc is not None:
                    pn.state.curdoc.add_timeout_callback(view.refresh, 300)
                else:
                    view.refresh()

        tabs.param.watch(on_tab, "active")
        self.param.watch(lambda e: setattr(tabs, "active", TABS.index(e.new)), "tab")
        return pn.Column(tabs, self.lightbox, sizing_mode="stretch_width", stylesheets=[SHRINK_CSS])


SHRINK_CSS = ":host {min-width: 0 !important;}"
"""Panel adds up fixed-width children into a layout's min-width; a phone screen must not be pushed wider."""

TABS_CSS = """
.bk-header {overflow-x: auto;}
@media (max-width: 600px) { .bk-tab {padding: 4px 8px !important; font-size: 13px;} }
"""

APP_CSS = """
@media (max-width: 700px) {
  .title {font-size: 1.1em !important;}
  #sidebar {position: fixed !important; top: 54px; left: 0; bottom: 0; z-index: 1500; width: 86vw !important;
            max-width: 320px; background: #fff; box-shadow: 4px 0 18px rgba(0,0,0,.3); overflow-y: auto;}
  #main {width: 100% !important; max-width: 100% !important; flex: 1 1 100% !important; padding: 4px !important;}
}
"""


class PhoneStart(JSComponent):
    """On a narrow screen the filters start closed (a drawer behind the ☰ button)."""

    _esm = """
    export function render({ el }) {
      if (window.innerWidth <= 700) {
        const bar = document.getElementById('sidebar');
        if (bar && bar.classList.contains('show')) bar.classList.remove('show');
      }
    }
    """


def create_dashboard(engine: PhotoIndex) -> pn.template.BaseTemplate:
    dash = Dashboard(engine)
    main: list[Any] = [dash, PhoneStart(width=0, height=0, margin=0)]
    if not engine.db.vector_check.ok:
        main.insert(0, pn.pane.Alert(html.escape(engine.db.vector_check.message or ""), alert_type="danger",
                                     sizing_mode="stretch_width"))
    template = pn.template.BootstrapTemplate(
        title="Photo search", sidebar=[dash.search.filters(), pn.pane.Markdown(status_markdown(engine),
                                                                               styles={"font-size": "12px"})],
        main=main, sidebar_width=300, header_background="#1f2d3d", raw_css=[APP_CSS],
    )
    if pn.state.curdoc is not None:
        pn.state.add_periodic_callback(dash.tick, period=1000)
    template.dashboard = dash  # reachable from tests and notebooks
    return template
