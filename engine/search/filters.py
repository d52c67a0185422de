"""Metadata filters shared by every search (B3): dates, camera, place, persons, albums, formats.

A filter is plain data; `engine.db.filters.where` turns it into SQL conditions on `photos`, so
the same filter narrows text search, image search, the fused multi-model search, the map and the
assistant.
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

    @property
    def start(self) -> datetime | None:
        """The first moment a photo may be taken at."""
        return _as_start(self.date_from)

    @property
    def end(self) -> datetime | None:
        """The end of the range: exclusive for a plain date (the next midnight), inclusive for a datetime."""
        return _as_end(self.date_to)

    @property
    def end_inclusive(self) -> bool:
        return isinstance(self.date_to, datetime)

    @property
    def stored_formats(self) -> list[str]:
        """The stored format names of `formats`; unknown names are ignored."""
        return sorted(expand_format_filter(self.formats)) if self.formats else []

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
