"""The REST API's routers, one module per resource; the server includes every one of `ROUTERS`."""
from __future__ import annotations

from dashboard.api.routes import (admin, ai, albums, duplicates, faces, indexing, library, offline, persons, photos,
                                  search, system, ui)

ROUTERS = [r.router for r in (system, search, photos, indexing, faces, persons, library, offline, duplicates, albums,
                              admin, ai, ui)]
