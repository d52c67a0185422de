"""Offline reverse geocoding: GPS position -> country, region, city, big city (B3 place filter).

`reverse_geocode` ships a GeoNames extract (cities above 1000 people) and answers with a k-d
tree, so no network is ever used. Results are stored in `photos.place_*` (migrations 004, 005).
The nearest locality is often a suburb (Vanves for the Eiffel Tower), so a photo also gets the
biggest city it was taken in or near (`metro`: Paris), the name people search by.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from engine.db import places as place_rows
from engine.db.database import Database
from engine.db.places import Place

_lock = threading.Lock()


METRO_MIN_POPULATION = 100_000


def metro_radius_km(population: int) -> float:
    """How far from its centre a city of `population` still counts: 15 km at 100k, 25 at 1M, 35 at 10M."""
    return 15.0 + 10.0 * math.log10(max(population, METRO_MIN_POPULATION) / METRO_MIN_POPULATION)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, h)))


def reverse_geocode(points: Sequence[tuple[float, float]]) -> list[Place]:
    """The nearest known place of each (latitude, longitude), and the big city it is in or near."""
    if not points:
        return []
    import reverse_geocode as rg  # loads its data on first use

    coords = [(float(lat), float(lon)) for lat, lon in points]
    with _lock:
        found = rg.search(coords)
        cities = rg.search(coords, min_population=METRO_MIN_POPULATION)
    places = []
    for point, r, city in zip(coords, found, cities):
        near = distance_km(point, (city["latitude"], city["longitude"])) <= metro_radius_km(city["population"])
        metro = (city.get("city") or None) if near else None
        places.append(Place(r.get("country") or None, r.get("country_code") or None, r.get("state") or None,
                            r.get("city") or None, metro))
    return places


@dataclass(frozen=True)
class GeocodeReport:
    geocoded: int


def backfill(db: Database, batch: int = 2000) -> GeocodeReport:
    """Fill the place of every photo with GPS that has none yet (new, changed, or indexed before 004)."""
    done = 0
    while True:
        with db.connection() as conn:
            rows = place_rows.not_geocoded(conn, batch)
            if not rows:
                return GeocodeReport(done)
            places = reverse_geocode([(r.latitude, r.longitude) for r in rows])
            place_rows.store(conn, list(zip(rows, places)))
        done += len(rows)
        if len(rows) < batch:
            return GeocodeReport(done)


def known_places(db: Database) -> list[Place]:
    """Distinct places of the library, most photographed first (also while a backfill is pending:
    a moved photo's place is cleared by the trigger, not left stale)."""
    with db.connection() as conn:
        return place_rows.known(conn)
