"""Button icons as inline SVG, so the dashboard draws them with no network.

Panel's named icons are Bokeh `TablerIcon`s, which load a webfont from a CDN; an SVG string
becomes an inline `SVGIcon` instead. The SVGs in `static/icons/` are Tabler Icons 3.52.0
(MIT licence beside them); add one by copying its outline SVG there.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

ICONS_DIR = Path(__file__).resolve().parent / "static" / "icons"


@cache
def icon(name: str) -> str:
    """The SVG markup of icon `name`; a name with no file is a programming error, raised at once."""
    path = ICONS_DIR / f"{name}.svg"
    if not path.is_file():
        raise KeyError(f"no icon {name!r}: add {path.name} to {ICONS_DIR}")
    return path.read_text(encoding="utf-8").strip()
