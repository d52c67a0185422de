"""SQL for the places of photos (`photos.place_*`, migrations 004 and 005)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class Position:
    id: int
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Place:
    country: str | None
    country_code: str | None
    state: str | None
    city: str | None
    metro: str | None = None

    @property
    def label(self) -> str:
        return ", ".join(x for x in (self.metro or self.city, self.country) if x)


def not_geocoded(conn: psycopg.Connection, limit: int) -> list[Position]:
    """Photos with GPS whose place is not looked up yet, in id order."""
    rows = conn.execute(
        "SELECT id, latitude, longitude FROM photos WHERE NOT place_geocoded AND latitude IS NOT NULL"
        " AND longitude IS NOT NULL ORDER BY id LIMIT %s", (limit,)).fetchall()
    return [Position(**r) for r in rows]


def store(conn: psycopg.Connection, found: Sequence[tuple[Position, Place]]) -> None:
    """Write the places looked up, unless the photo moved meanwhile (the position guard)."""
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE photos SET place_country = %s, place_country_code = %s, place_state = %s,"
            " place_city = %s, place_metro = %s, place_geocoded = TRUE"
            " WHERE id = %s AND latitude = %s AND longitude = %s",
            [(p.country, p.country_code, p.state, p.city, p.metro, r.id, r.latitude, r.longitude) for r, p in found],
        )


def known(conn: psycopg.Connection) -> list[Place]:
    """Distinct places of the library, most photographed first."""
    rows = conn.execute(
        "SELECT place_country, place_country_code, place_state, place_city, place_metro, count(*) AS n FROM photos"
        " WHERE place_country IS NOT NULL"
        " GROUP BY 1, 2, 3, 4, 5 ORDER BY n DESC").fetchall()
    return [Place(r["place_country"], r["place_country_code"], r["place_state"], r["place_city"], r["place_metro"])
            for r in rows]
