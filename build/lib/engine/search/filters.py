"""Metadata filters shared by every search (B3): dates, camera, place, persons, albums, formats.

A filter is plain data; `where()` turns it into SQL conditions on `photos` (alias `p`), so the
same filter narrows text search, image search, the fused multi-model search and the assistant.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from engine.media.formats import expand_format_filter


def _as_start(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min)


def _as_end(value: date | datetime | None) -> datetime | None:
    """An end date is inclusive: the whole day counts."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value + timedelta(days=1), time.min)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class SearchFilters:
    date_from: date | datetime | None = None
    date_to: date | datetime | None = None
    """Inclusive; a plain date covers its whole day."""
    cameras: tuple[str, ...] = ()
    """Any of them, matched as a case-insensitive part of the camera name ("iphone", "Nikon D750")."""
    places: tuple[str, ...] = ()
    """Any of them: a country, country code, region or city name (case-insensitive, whole name)."""
    person_ids: tuple[int, ...] = ()
    """All of them must be in the photo."""
    album_ids: tuple[int, ...] = ()
    """The photo is in any of these albums."""
    formats: tuple[str, ...] = ()
    """As the format filter of search ("JPG", "HEIC", "RAW", or stored names)."""
    exclude_ids: tuple[int, ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, **kwargs: Any) -> "SearchFilters":
        """Build from loose values (lists, None) as a request carries them."""
        clean: dict[str, Any] = {}
        for key, value in kwargs.items():
            if value is None:
                continue
            if key in ("cameras", "places", "formats"):
                value = tuple(str(v).strip() for v in value if str(v).strip())
            elif key in ("person_ids", "album_ids", "exclude_ids"):
                value = tuple(sorted({int(v) for v in value}))
            clean[key] = value
        return cls(**clean)

    @property
    def empty(self) -> bool:
        return not (self.date_from or self.date_to or self.cameras or self.places or self.person_ids
                    or self.album_ids or self.formats or self.exclude_ids)

    def merged(self, other: "SearchFilters") -> "SearchFilters":
        """This filter narrowed by `other` (lists joined, dates intersected)."""
        start = max((d for d in (_as_start(self.date_from), _as_start(other.date_from)) if d), default=None)
        end = min((d for d in (_as_end(self.date_to), _as_end(other.date_to)) if d), default=None)
        return SearchFilters(
            date_from=start, date_to=end - timedelta(microseconds=1) if end else None,
            cameras=tuple(dict.fromkeys(self.cameras + other.cameras)),
            places=tuple(dict.fromkeys(self.places + other.places)),
            person_ids=tuple(sorted(set(self.person_ids) | set(other.person_ids))),
            album_ids=tuple(sorted(set(self.album_ids) | set(other.album_ids))),
            formats=tuple(dict.fromkeys(self.formats + other.formats)),
            exclude_ids=tuple(sorted(set(self.exclude_ids) | set(other.exclude_ids))),
        )

    def excluding(self, ids: Sequence[int]) -> "SearchFilters":
        return replace(self, exclude_ids=tuple(sorted(set(self.exclude_ids) | {int(i) for i in ids})))

    def where(self, alias: str = "p") -> tuple[list[str], list[Any]]:
        """SQL conditions (AND-ed) and their parameters, in order."""
        p = alias
        conditions: list[str] = []
        params: list[Any] = []
        start, end = _as_start(self.date_from), _as_end(self.date_to)
        if start is not None:
            conditions.append(f"{p}.taken_at >= %s")
            params.append(start)
        if end is not None:
            conditions.append(f"{p}.taken_at {'<' if not isinstance(self.date_to, datetime) else '<='} %s")
            params.append(end)
        if self.cameras:
            conditions.append(f"{p}.camera ILIKE ANY(%s)")
            params.append([f"%{_escape_like(c)}%" for c in self.cameras])
        if self.places:
            names = [x.lower() for x in self.places]
            conditions.append(
                f"(lower({p}.place_city) = ANY(%s) OR lower({p}.place_metro) = ANY(%s)"
                f" OR lower({p}.place_country) = ANY(%s) OR lower({p}.place_state) = ANY(%s)"
                f" OR lower({p}.place_country_code) = ANY(%s))")
            params += [names, names, names, names, names]
        if self.person_ids:
            conditions.append(
                f"{p}.id IN (SELECT photo_id FROM faces WHERE person_id = ANY(%s)"
                " GROUP BY photo_id HAVING count(DISTINCT person_id) = %s)")
            params += [list(self.person_ids), len(set(self.person_ids))]
        if self.album_ids:
            conditions.append(
                f"EXISTS (SELECT 1 FROM album_photos ap WHERE ap.photo_id = {p}.id AND ap.album_id = ANY(%s))")
            params.append(list(self.album_ids))
        stored = sorted(expand_format_filter(self.formats)) if self.formats else []
        if stored:  # unknown format names are ignored, as they always were
            conditions.append(f"{p}.format = ANY(%s)")
            params.append(stored)
        if self.exclude_ids:
            conditions.append(f"NOT ({p}.id = ANY(%s))")
            params.append(list(self.exclude_ids))
        return conditions, params

    def describe(self) -> dict[str, Any]:
        """JSON-ready, only what is set."""
        out: dict[str, Any] = {}
        for key in ("date_from", "date_to"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value.isoformat()
        for key in ("cameras", "places", "person_ids", "album_ids", "formats"):
            value = getattr(self, key)
            if value:
                out[key] = list(value)
        return out
