"""Map tiles: is the configured tile server reachable, and which tiles make a small map of a spot.

The browser fetches tiles from MAP_TILES_URL. Offline (or with the setting empty) a map would
fire dozens of failing requests and show a credit over blank axes, so the server asks once for
the world tile (0/0/0) and remembers the answer for a few minutes; the map and the lightbox then
say that tiles are unavailable instead.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

import httpx

from engine.i18n import N_

log = logging.getLogger(__name__)

TILE = 256
REMEMBER_S = 300.0
_answers: dict[str, tuple[float, bool, str]] = {}
_lock = threading.Lock()


def tile_url(template: str, z: int, x: int, y: int) -> str:
    """`template` with its {Z}/{X}/{Y} (or lower-case) placeholders filled in."""
    out = template
    for names, value in ((("{Z}", "{z}"), z), (("{X}", "{x}"), x), (("{Y}", "{y}"), y)):
        for name in names:
            out = out.replace(name, str(value))
    return out


def tiles_unavailable(template: str, timeout: float = 2.0) -> str:
    """Why tiles cannot be shown ("" when they can): empty setting, or the server did not answer
    with an image. Asked at most once every `REMEMBER_S` seconds per template."""
    template = template.strip()
    if not template:
        return N_("MAP_TILES_URL is empty")
    with _lock:
        known = _answers.get(template)
        if known and time.monotonic() - known[0] < REMEMBER_S:
            return known[2]
    try:
        reply = httpx.get(tile_url(template, 0, 0, 0), timeout=timeout, follow_redirects=True,
                          headers={"User-Agent": "photoindex (tile check)"})
        why = "" if reply.status_code == 200 and reply.headers.get("content-type", "").startswith("image/") else (
            N_("the tile server answered {status}", status=reply.status_code))
    except httpx.HTTPError as exc:
        why = N_("the tile server cannot be reached ({error})", error=type(exc).__name__)
    if why:
        log.info("map tiles unavailable: %s", why)
    with _lock:
        _answers[template] = (time.monotonic(), not why, why)
    return why


@dataclass(frozen=True)
class PlacedTile:
    url: str
    left: int
    top: int


def spot_tiles(template: str, lat: float, lon: float, width: int, height: int, zoom: int = 13) -> list[PlacedTile]:
    """The tiles covering a `width`×`height` px map centred on (lat, lon), with their offsets."""
    n = 2 ** zoom
    lat = max(-85.0511, min(85.0511, lat))
    fx = (lon + 180.0) / 360.0 * n
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    cx, cy = fx * TILE, fy * TILE  # the spot in world pixels
    left, top = cx - width / 2, cy - height / 2
    tiles = []
    for ty in range(int(top // TILE), int((top + height) // TILE) + 1):
        if not 0 <= ty < n:
            continue
        for tx in range(int(left // TILE), int((left + width) // TILE) + 1):
            tiles.append(PlacedTile(tile_url(template, zoom, tx % n, ty), round(tx * TILE - left), round(ty * TILE - top)))
    return tiles
