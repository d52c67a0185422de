"""Search filters (`engine.search.filters.SearchFilters`) compiled to SQL conditions on `photos`."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.search.filters import SearchFilters

Where = tuple[list[str], list[Any]]
"""SQL conditions (AND-ed) and their parameters, in order."""


def like_pattern(text: str) -> str:
    """An ILIKE pattern matching `text` anywhere, with its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def photos_with_all(person_ids: Iterable[int]) -> tuple[str, list[Any]]:
    """A query for the photos showing every one of `person_ids` (the one place this is written):
    rows of photo_id and face_ids (those persons' faces in it, in id order)."""
    ids = sorted({int(i) for i in person_ids})
    return ("SELECT photo_id, array_agg(id ORDER BY id) AS face_ids FROM faces WHERE person_id = ANY(%s)"
            " GROUP BY photo_id HAVING count(DISTINCT person_id) = %s", [ids, len(ids)])


def where(filters: SearchFilters | None, alias: str = "p") -> Where:
    """The conditions a photo (alias `alias`) must meet to pass `filters`."""
    p = alias
    conditions: list[str] = []
    params: list[Any] = []
    if filters is None:
        return conditions, params
    if filters.start is not None:
        conditions.append(f"{p}.taken_at >= %s")
        params.append(filters.start)
    if filters.end is not None:
        conditions.append(f"{p}.taken_at {'<=' if filters.end_inclusive else '<'} %s")
        params.append(filters.end)
    if filters.cameras:
        conditions.append(f"{p}.camera ILIKE ANY(%s)")
        params.append([like_pattern(c) for c in filters.cameras])
    if filters.places:
        names = [x.lower() for x in filters.places]
        conditions.append(
            f"(lower({p}.place_city) = ANY(%s) OR lower({p}.place_metro) = ANY(%s)"
            f" OR lower({p}.place_country) = ANY(%s) OR lower({p}.place_state) = ANY(%s)"
            f" OR lower({p}.place_country_code) = ANY(%s))")
        params += [names, names, names, names, names]
    if filters.person_ids:
        sql, args = photos_with_all(filters.person_ids)
        conditions.append(f"{p}.id IN (SELECT photo_id FROM ({sql}) together)")
        params += args
    if filters.album_ids:
        conditions.append(
            f"EXISTS (SELECT 1 FROM album_photos ap WHERE ap.photo_id = {p}.id AND ap.album_id = ANY(%s))")
        params.append(list(filters.album_ids))
    if stored := filters.stored_formats:
        conditions.append(f"{p}.format = ANY(%s)")
        params.append(stored)
    if filters.exclude_ids:
        conditions.append(f"NOT ({p}.id = ANY(%s))")
        params.append(list(filters.exclude_ids))
    return conditions, params


def where_sql(conditions: list[str]) -> str:
    return f"WHERE {' AND '.join(conditions)}" if conditions else ""
