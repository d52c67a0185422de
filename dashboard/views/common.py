"""What every view shares: the engine, photo versions for cache-busting, and small formatters."""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import nh3
from babel.dates import format_date
import panel as pn

from engine.app import PhotoIndex
from engine.db import photos as photo_rows
from engine.errors import PhotoIndexError
from engine.geo.names import Language
from engine.i18n import Translator, translator
from engine.geo.tiles import tiles_unavailable

USER_ERRORS: tuple[type[Exception], ...] = (PhotoIndexError, LookupError, ValueError, PermissionError, RuntimeError,
                                            OSError)
"""What a view catches and says in one sentence. Until every engine error derives from
`PhotoIndexError` (issue 16), the built-in kinds they derive from today stand beside it."""


@dataclass(frozen=True)
class Tile:
    """One photo in a grid, whatever produced it (search, a person, an album, duplicates)."""

    id: int
    path: str
    format: str = ""
    taken_at: datetime | None = None
    score: float | None = None
    tag: str | None = None
    note: str | None = None

    @classmethod
    def of(cls, hit: Any, **extra: Any) -> "Tile":
        """A grid tile of any hit; a fused hit shows its best model similarity, not its RRF score."""
        per_model = getattr(hit, "model_scores", None)
        score = max(per_model.values()) if per_model else getattr(hit, "score", None)
        return cls(id=hit.id, path=hit.path, format=getattr(hit, "format", "") or "",
                   taken_at=getattr(hit, "taken_at", None), score=score, **extra)


class Context:
    """Per browser session: the engine, and a version per photo changed here (rotation), so the
    browser fetches its new thumbnail instead of the cached one."""

    def __init__(self, engine: PhotoIndex, language: Language = "en") -> None:
        self.engine = engine
        self.language: Language = language
        """The interface language: every string, and place names (`engine.geo.names`), are shown in it."""
        self._: Translator = translator(language)
        """This session's translator: `ctx._("Search")`, `ctx._.ngettext(...)`, `ctx._(engine_note)`."""
        self.versions: dict[int, int] = {}
        self._listeners: list[Callable[[str, Any], None]] = []

    def bump(self, photo_id: int) -> None:
        self.versions[photo_id] = self.versions.get(photo_id, 0) + 1

    def thumb_url(self, photo_id: int) -> str:
        v = self.versions.get(photo_id)
        return f"/image/{photo_id}/thumb" + (f"?v={v}" if v else "")

    def full_url(self, photo_id: int) -> str:
        v = self.versions.get(photo_id)
        return f"/image/{photo_id}/full" + (f"?v={v}" if v else "")

    def photo(self, photo_id: int) -> photo_rows.Photo | None:
        return self.engine.photo(photo_id)

    def tiles_unavailable(self) -> str:
        """Why the map cannot show tiles ("" when it can): see `engine.geo.tiles`."""
        return tiles_unavailable(self.engine.settings.map_tiles_url)

    # a tiny bus: views tell each other that photos changed or results should be shown
    def listen(self, callback: Callable[[str, Any], None]) -> None:
        self._listeners.append(callback)

    def emit(self, event: str, payload: Any = None) -> None:
        for cb in list(self._listeners):
            cb(event, payload)


def grid_items(ctx: Context, tiles: Sequence[Tile]) -> list[dict[str, Any]]:
    items = []
    for t in tiles:
        if t.note is not None:
            badge = t.note
        elif t.score is not None:  # a 0 % or negative "match" says nothing: no badge
            badge = f"{100 * t.score:.0f}%" if round(100 * t.score) >= 1 else ""
        else:
            badge = t.taken_at.strftime("%Y-%m-%d") if t.taken_at else ""
        items.append({"id": t.id, "src": ctx.thumb_url(t.id), "title": t.path, "badge": badge, "tag": t.tag or ""})
    return items


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")
_HTML_ATTRIBUTES = {"*": {"class", "style", "title", "data-state"},
                    "img": {"src", "alt", "loading", "width", "height"}}
"""What markup the views build may keep: pictures (thumbnails, map tiles) with their source; never
an event handler (nh3 drops every attribute not named here, and `javascript:` sources)."""


def markdown_pane(obj: Any = None, **params: Any) -> pn.pane.Markdown:
    """Every Markdown pane of the dashboard (an Alert with `alert_type`). Raw HTML in the text is
    shown as text, never as markup, whatever the text is: Panel's Markdown passes HTML through, so
    a name like `<img src=x onerror=…>` would otherwise run. `literal` keeps Markdown syntax inert."""
    pane = pn.pane.Alert if "alert_type" in params else pn.pane.Markdown
    return pane(obj, renderer_options={"html": False}, **params)


def html_pane(obj: Any = None, **params: Any) -> pn.pane.HTML:
    """Every HTML pane of the dashboard: markup the view builds (user text in it `html.escape`d),
    sanitized once more before it leaves, so no script, event handler, iframe or meta tag ever does."""
    return pn.pane.HTML(obj, sanitize_html=True, sanitize_hook=clean_html, **params)


def clean_html(markup: str) -> str:
    return nh3.clean(markup, attributes=_HTML_ATTRIBUTES)


def literal(text: object) -> str:
    """User text (a query, a name, a path, an error) for a Markdown pane: shown as typed, never as
    HTML or formatting (Panel's Markdown passes raw HTML through)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


def count(n: int, noun: str) -> str:
    """ "1 photo", "2 photos"; "1 extra copy", "2 extra copies"."""
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else f"{n} {noun}s"


def day_text(when: date | datetime, pattern: str, language: str = "en") -> str:
    """A date in the interface language, with a CLDR pattern ("LLLL y" is "July 2023" / "Июль 2023")."""
    text = format_date(when, pattern, locale=language)
    return text[:1].upper() + text[1:]


def grid_labels(_: Translator) -> dict[str, str]:
    """What a `PhotoGrid` says in the browser, in `_`'s language."""
    return {"select": _("Select")}


def human_bytes(n: float | None) -> str:
    if n is None:
        return "—"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def human_seconds(s: float | None) -> str:
    if s is None:
        return "—"
    s = int(round(s))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {(s % 3600) // 60:02d}m"


def in_date_range(taken: datetime | None, start: date | None, end: date | None) -> bool:
    if start is None and end is None:
        return True
    if taken is None:
        return False
    day = taken.date()
    return (start is None or day >= start) and (end is None or day <= end)


def error_text(exc: BaseException, _: Translator | None = None) -> str:
    """An exception as one short line of Markdown-safe text, in `_`'s language when the engine marked its sentence."""
    sentence = exc.args[0] if len(exc.args) == 1 else None
    text = (_(sentence) if _ is not None and isinstance(sentence, str) else str(exc)) or exc.__class__.__name__
    return literal(text if len(text) < 400 else text[:400] + "…")
