"""The Panel dashboard: for now library status and a text search over thumbnails.

The full views (lightbox, faces, persons, map, duplicates, albums, admin) come with the
dashboard issue; this page is already served by the same server as the REST API.
"""
from __future__ import annotations

import html

import panel as pn
import param

from engine.app import PhotoIndex
from engine.models.errors import ModelNotAvailable
from engine.search.service import SearchHit


def thumbnail_grid(hits: list[SearchHit]) -> str:
    cells = "".join(
        f'<a href="/image/{h.id}/full" target="_blank" title="{html.escape(h.path)}" class="cell">'
        f'<img loading="lazy" src="{h.thumbnail_url}" alt="{html.escape(h.path)}">'
        f'<span>{h.score:.3f}</span></a>'
        for h in hits
    )
    return f'<div class="grid">{cells}</div>'


GRID_CSS = """
.grid {display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 8px;}
.cell {position: relative; display: block; aspect-ratio: 1; background: #eee; border-radius: 6px; overflow: hidden;}
.cell img {width: 100%; height: 100%; object-fit: cover;}
.cell span {position: absolute; right: 4px; bottom: 4px; background: rgba(0,0,0,.6); color: #fff;
            font: 12px sans-serif; padding: 1px 5px; border-radius: 4px;}
"""


class SearchView(pn.viewable.Viewer):
    query = param.String(default="", doc="What to look for, in words.")
    top_k = param.Selector(default=20, objects=[10, 20, 50, 100])
    message = param.String(default="")
    results = param.List(default=[])

    def __init__(self, engine: PhotoIndex, **params) -> None:
        super().__init__(**params)
        self.engine = engine

    @param.depends("query", "top_k", watch=True)
    def run(self) -> None:
        if not self.query.strip():
            self.results, self.message = [], ""
            return
        try:
            result = self.engine.search.text(self.query, model=self.engine.settings.clip_model, top_k=self.top_k)
        except ModelNotAvailable as exc:
            self.results, self.message = [], f"Search is unavailable: {exc}"
            return
        self.results = result.hits
        self.message = f"{len(result.hits)} photos for “{self.query}” ({result.model})"

    @param.depends("results")
    def _grid(self) -> pn.pane.HTML:
        return pn.pane.HTML(thumbnail_grid(self.results), sizing_mode="stretch_width", stylesheets=[GRID_CSS])

    def __panel__(self) -> pn.viewable.Viewable:
        box = pn.widgets.TextInput.from_param(self.param.query, placeholder="sunset over the sea…", name="",
                                              sizing_mode="stretch_width")
        top_k = pn.widgets.Select.from_param(self.param.top_k, name="", width=80)
        return pn.Column(pn.Row(box, top_k), pn.pane.Markdown(self.param.message), self._grid,
                         sizing_mode="stretch_width")


def status_markdown(engine: PhotoIndex) -> str:
    stats = engine.stats()
    indexed = ", ".join(f"{name}: {n}" for name, n in stats["embeddings"].items() if n) or "none yet"
    return (
        f"**{stats['total_photos']}** photos in `{stats['library']}` · {stats['with_gps']} with GPS · "
        f"{stats['failed_count']} could not be read · indexed — {indexed} · [REST API](/docs)"
    )


def create_dashboard(engine: PhotoIndex) -> pn.viewable.Viewable:
    return pn.Column(
        pn.pane.Markdown("## Photo search"),
        pn.pane.Markdown(status_markdown(engine)),
        SearchView(engine),
        sizing_mode="stretch_width",
        styles={"padding": "0 16px"},
    )
