"""Offline reverse geocoding: GPS position -> country, region, city (B3 place filter).

`reverse_geocode` ships a GeoNames extract (cities above 1000 people) and answers with a k-d
tree, so no network is ever used. Results are stored in `photos.place_*` (migration 004).
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from engine.db.database import Database

_lock = threading.Lock()


@dataclass(frozen=True)
class Place:
    country: str | None
    country_code: str | None
    state: str | None
    city: str | None

    @property
    def label(self) -> str:
        return ", ".join(x for x in (self.city, self.country) if x)


def reverse_geocode(points: Sequence[tuple[float, float]]) -> list[Place]:
    """The nearest known place of each (latitude, longitude)."""
    if not points:
        return []
    import reverse_geocode as rg  # loads its data on first use

    with _lock:
        found = rg.search([(float(lat), float(lon)) for lat, lon in points])
    return [Place(r.get("country") or None, r.get("country_code") or None, r.get("state") or None,
                  r.get("city") or None) for r in found]


@dataclass(frozen=True)
class GeocodeReport:
    geocoded: int


def backfill(db: Database, batch: int = 2000) -> GeocodeReport:
    """Fill the place of every photo with GPS that has none yet (new, changed, or indexed before 004)."""
    done = 0
    while True:
        with db.connection() as conn:
            rows = conn.execute(
                "SELECT id, latitude, longitude FROM photos WHERE NOT place_geocoded AND latitude IS NOT NULL"
                " AND longitude IS NOT NULL ORDER BY id LIMIT %s", (batch,)).fetchall()
            if not rows:
                return GeocodeReport(done)
            places = reverse_geocode([(r["latitude"], r["longitude"]) for r in rows])
            with conn.cursor() as cur:
                cur.executemany(
                    "UPDATE photos SET place_country = %s, place_country_code = %s, place_state = %s,"
                    " place_city = %s, place_geocoded = TRUE WHERE id = %s AND latitude = %s AND longitude = %s",
                    [(p.country, p.country_code, p.state, p.city, r["id"], r["latitude"], r["longitude"])
                     for r, p in zip(rows, places)],
                )
        done += len(rows)
        if len(rows) < batch:
            return GeocodeReport(done)


def known_places(db: Database) -> list[Place]:
    """Distinct places of the library, most photographed first."""
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT place_country, place_country_code, place_state, place_city, count(*) AS n FROM photos"
            " WHERE place_geocoded AND place_country IS NOT NULL"
            " GROUP BY 1, 2, 3, 4 ORDER BY n DESC").fetchall()
    return [Place(r["place_country"], r["place_country_code"], r["place_state"], r["place_city"]) for r in rows]
