"""Map: photos with GPS on a Bokeh tile map, clustered when dense; a click opens the photo(s).

The browser fetches the tiles from MAP_TILES_URL (OpenStreetMap by default). With it empty, or
the tile server out of reach (asked once by the server, see `engine.geo.tiles`), the map says tiles
are unavailable and draws the points on a plain grid, without a credit and without failing requests.
"""
from __future__ import annotations

import math
from typing import Any

import panel as pn
import param
from bokeh.models import ColumnDataSource, HoverTool, TapTool, WMTSTileSource
from bokeh.plotting import figure

from dashboard.icons import icon
from dashboard.views.common import Context, literal, markdown_pane
from engine.db.photos import GeoPhoto
from engine.i18n import N_, Translator, translator
from engine.search.filters import SearchFilters

EARTH = 6378137.0
CLUSTER_ABOVE = 300
"""More markers than this are binned into clusters (a circle per cell, sized by count)."""


def gps_photos(engine: Any, ids: list[int] | None = None, limit: int = 100_000,
               filters: SearchFilters | None = None) -> list[GeoPhoto]:
    """Photos with coordinates (all, those of `ids`, those passing `filters`)."""
    return engine.library.geotagged(ids, limit, filters)


def mercator(lat: float, lon: float) -> tuple[float, float]:
    lat = max(-85.0, min(85.0, lat))
    return EARTH * math.radians(lon), EARTH * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


TOOL_TITLES = {"PanTool": N_("Pan"), "WheelZoomTool": N_("Wheel zoom"), "ResetTool": N_("Reset"),
               "TapTool": N_("Open the photos taken here"), "HoverTool": N_("Show the photo under the pointer")}
"""The map toolbar's tooltips."""

SAME_SPOT_DECIMALS = 3
"""Photos within about 100 m (coordinates rounded to this many decimals) share one marker."""


def _marker(points: list[GeoPhoto], members: list[int], xy: list[tuple[float, float]],
            _: Translator) -> dict[str, Any]:
    return {"x": sum(xy[i][0] for i in members) / len(members), "y": sum(xy[i][1] for i in members) / len(members),
            "ids": [points[i].id for i in members], "count": len(members),
            "label": _.ngettext("{n} photo", "{n} photos", len(members)) if len(members) > 1
            else points[members[0]].path}


def cluster(points: list[GeoPhoto], cells: int = 40, _: Translator = translator("en")) -> list[dict[str, Any]]:
    """One marker per spot (photos taken at the same place open together), or per grid cell when
    there are many markers; each keeps its photos' ids for opening."""
    xy = [mercator(p.latitude, p.longitude) for p in points]
    spots: dict[tuple[float, float], list[int]] = {}
    for i, p in enumerate(points):
        spots.setdefault((round(p.latitude, SAME_SPOT_DECIMALS), round(p.longitude, SAME_SPOT_DECIMALS)), []).append(i)
    if len(spots) <= CLUSTER_ABOVE:
        return [_marker(points, members, xy, _) for members in spots.values()]
    xs, ys = [x for x, _ in xy], [y for _, y in xy]
    size = max(max(xs) - min(xs), max(ys) - min(ys), 1.0) / cells
    bins: dict[tuple[int, int], list[int]] = {}
    for i, (x, y) in enumerate(xy):
        bins.setdefault((int(x // size), int(y // size)), []).append(i)
    return [_marker(points, members, xy, _) for members in bins.values()]


class MapView(pn.viewable.Viewer):
    follow_search = param.Boolean(default=True,
                                  doc=N_("Show the current search results, or the photos passing the filters."))
    markers = param.List(default=[])
    message = param.String(default="")

    def __init__(self, ctx: Context, search: Any = None, **params: Any) -> None:
        super().__init__(**params)
        self.ctx = ctx
        self.engine = ctx.engine
        self.search = search
        self.opener = None
        self.source = ColumnDataSource(data={"x": [], "y": [], "size": [], "label": [], "thumb": [], "count": []})
        self.source.selected.on_change("indices", self._on_tap)
        self._figure = None
        self.tiles_problem = ""

    def refresh(self, fit: bool = True) -> None:
        """The search's results when there are any, else the photos passing the sidebar's filters;
        `fit` moves the map onto them (a live refresh leaves where the user looks alone)."""
        ids, filters = None, None
        if self.follow_search and self.search is not None:
            if self.search.results:
                ids = [t.id for t in self.search.results]
            else:
                filters = self.search.sidebar_filters()
        points = gps_photos(self.engine, ids, filters=filters)
        _ = self.ctx._
        self.markers = cluster(points, _=_)
        self.source.data = {
            "x": [m["x"] for m in self.markers], "y": [m["y"] for m in self.markers],
            "size": [10 + 6 * math.log2(m["count"]) for m in self.markers],
            "label": [m["label"] for m in self.markers], "count": [m["count"] for m in self.markers],
            "thumb": [self.ctx.thumb_url(m["ids"][0]) for m in self.markers],
        }
        if ids is not None:
            message = _.ngettext("{n} photo with GPS of the {total} search results",
                                 "{n} photos with GPS of the {total} search results", len(points), total=len(ids))
        elif filters:
            message = _.ngettext("{n} photo with GPS passing the filters", "{n} photos with GPS passing the filters",
                                 len(points))
        else:
            message = _.ngettext("{n} photo with GPS in the library", "{n} photos with GPS in the library", len(points))
        if len(self.markers) < len(points):
            message += ", " + _.ngettext("at {n} place", "at {n} places", len(self.markers))
        self.message = message
        if self._figure is not None and self.markers and fit:
            self._fit()

    def _fit(self) -> None:
        xs, ys = self.source.data["x"], self.source.data["y"]
        pad = max(max(xs) - min(xs), max(ys) - min(ys), 20000) * 0.15
        self._figure.x_range.start, self._figure.x_range.end = min(xs) - pad, max(xs) + pad
        self._figure.y_range.start, self._figure.y_range.end = min(ys) - pad, max(ys) + pad

    def open_marker(self, index: int) -> list[int]:
        ids = self.markers[index]["ids"] if 0 <= index < len(self.markers) else []
        if ids and self.opener:
            self.opener(ids, 0)
        return ids

    def _on_tap(self, attr: str, old: list[int], new: list[int]) -> None:
        if new:
            self.open_marker(new[0])
            self.source.selected.indices = []

    def figure(self) -> Any:
        fig = figure(x_axis_type="mercator", y_axis_type="mercator", sizing_mode="stretch_width", height=560,
                     tools="pan,wheel_zoom,reset", active_scroll="wheel_zoom", match_aspect=True)
        self.tiles_problem = self.ctx.tiles_unavailable()
        if not self.tiles_problem:
            fig.add_tile(WMTSTileSource(url=self.engine.settings.map_tiles_url.strip(),
                                        attribution=self.engine.settings.map_tiles_attribution))
        renderer = fig.scatter("x", "y", size="size", source=self.source, fill_color="#e4572e", line_color="white",
                               line_width=2, fill_alpha=0.85)
        fig.add_tools(TapTool(renderers=[renderer]),
                      HoverTool(renderers=[renderer], tooltips='<div><img src="@thumb" width="120" '
                                'style="border-radius:4px"><div>@label</div></div>'))
        fig.toolbar.logo = None
        for tool in fig.tools:
            if type(tool).__name__ in TOOL_TITLES:
                tool.description = self.ctx._(TOOL_TITLES[type(tool).__name__])
        self._figure = fig
        if self.markers:
            self._fit()
        else:
            fig.x_range.start, fig.x_range.end = -1.5e7, 1.5e7
            fig.y_range.start, fig.y_range.end = -6e6, 8e6
        return fig

    def __panel__(self) -> pn.viewable.Viewable:
        self.refresh()
        _ = self.ctx._
        follow = pn.widgets.Checkbox.from_param(self.param.follow_search, label=_("Follow the search and filters"))
        self.param.watch(lambda e: self.refresh(), "follow_search")
        reload = pn.widgets.Button(label=_("Refresh"), icon=icon("refresh"), color="light")
        reload.on_click(lambda e: self.refresh())
        figure = self.figure()
        offline = markdown_pane(_("Map tiles are unavailable ({reason}): the photos are drawn at their positions "
                                  "without a map.", reason=literal(_(self.tiles_problem))), alert_type="secondary",
                                visible=bool(self.tiles_problem), css_classes=["no-tiles"], margin=(0, 10))
        return pn.Column(pn.Row(follow, reload, markdown_pane(self.param.message, margin=(4, 10)),
                                styles={"flex-wrap": "wrap"}), offline,
                         pn.pane.Bokeh(figure, sizing_mode="stretch_width", height=560),
                         sizing_mode="stretch_width")
