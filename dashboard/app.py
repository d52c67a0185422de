"""The Panel dashboard. For now a status page; the full views arrive with the dashboard issue."""
from __future__ import annotations

import panel as pn

from engine.app import PhotoIndex


def create_dashboard(engine: PhotoIndex) -> pn.viewable.Viewable:
    stats = engine.stats()
    lines = [
        "# Photo search",
        f"Library: `{stats['library']}` — {stats['total_photos']} photos, {stats['failed_count']} failed.",
        "",
        "| model | photos indexed |",
        "|---|---|",
        *[f"| {name} | {n} |" for name, n in stats["embeddings"].items()],
        "",
        "REST API and its documentation: [/docs](/docs).",
    ]
    return pn.Column(pn.pane.Markdown("\n".join(lines)), sizing_mode="stretch_width")
