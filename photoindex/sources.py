"""Where the command line gets its answers: the local library (the engine, in this process) or a
photoindex server (`--server URL`, through its REST API). Both answer in the REST API's JSON
shapes (`dashboard.api.schemas`), so every command prints the same and `--json` is the same."""
from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from engine.errors import Conflict, Forbidden, Invalid, NotFound, PhotoIndexError, Unavailable
from engine.i18n import N_
from photoindex.language import _

KINDS = {"person": N_("person"), "album": N_("album")}


@dataclass
class SearchArgs:
    """A search as the command line asks for it (names, not ids, for persons and albums)."""
    query: str = ""
    image: Path | None = None
    photo_id: int | None = None
    model: str | None = None
    multi_model: bool = False
    translate: bool | None = False
    top_k: int = 10
    threshold: float | None = None
    formats: list[str] | None = None
    date_from: date | None = None
    date_to: date | None = None
    persons: list[str] = field(default_factory=list)
    places: list[str] | None = None
    cameras: list[str] | None = None
    albums: list[str] = field(default_factory=list)


def one_named(kind: str, name: str, candidates: list[dict]) -> int:
    """The id of the one candidate called `name` (case-insensitive), or of the only candidate."""
    exact = [c for c in candidates if c["name"].casefold() == name.casefold()]
    if len(exact) == 1 or len(candidates) == 1:
        return (exact or candidates)[0]["id"]
    if candidates:
        raise Invalid(_("no single {kind} is called {name!r} (did you mean {names}?)", kind=_(KINDS[kind]), name=name,
                        names=", ".join(c["name"] for c in candidates)))
    raise Invalid(_("no {kind} is called {name!r}; photoindex {command} lists them", kind=_(KINDS[kind]), name=name,
                    command=f"{kind}s"))


def _dump(model) -> dict:
    return model.model_dump(mode="json")


class LocalSource:
    """The library of this machine's settings, through the engine."""

    remote = False

    def __init__(self, engine) -> None:
        self.engine = engine

    @property
    def root(self) -> Path:
        return self.engine.settings.photos_dir

    def person_id(self, name: str) -> int:
        persons, _ = self.engine.faces.persons.list(search=name, limit=5)
        return one_named("person", name, [{"id": p.id, "name": p.name} for p in persons])

    def album_id(self, name: str) -> int:
        return one_named("album", name, [{"id": a.id, "name": a.name}
                                         for a in self.engine.library.albums.list(search=name, limit=5)])

    def search(self, a: SearchArgs) -> dict:
        from dashboard.api.schemas.search import SearchResponse
        from engine.search.filters import SearchFilters

        engine = self.engine
        engine.db.require_vectors()
        model = a.model or engine.search.serving().name
        filters = SearchFilters.of(date_from=a.date_from, date_to=a.date_to, places=a.places, cameras=a.cameras,
                                   formats=a.formats, person_ids=[self.person_id(n) for n in a.persons] or None,
                                   album_ids=[self.album_id(n) for n in a.albums] or None)
        depth = a.top_k + 1  # as the REST API ranks a page: one more says whether there is a next one
        if a.image is not None:
            if a.multi_model:
                result = engine.search.multi_image(image_path=a.image, top_k=depth, threshold=a.threshold,
                                                   filters=filters)
            else:
                result = engine.search.image(model=model, image_path=a.image, top_k=depth, threshold=a.threshold,
                                             filters=filters)
        elif a.photo_id is not None:
            result = engine.search.image(model=model, photo_id=a.photo_id, top_k=depth, threshold=a.threshold,
                                         filters=filters)
        else:
            result = engine.search.query(a.query, model=model, multi_model=a.multi_model, translate=a.translate,
                                         top_k=depth, threshold=a.threshold, filters=filters)
        return _dump(SearchResponse.page(result, 0, a.top_k))

    def picture(self, photo_id: int) -> bytes:
        photo = self._photo(photo_id)
        return self.engine.thumbnails.get_bytes(photo.id, self.engine.file_of(photo), photo.format, "full",
                                                photo.rotation, photo.version)

    def original(self, photo_id: int) -> Path:
        return self.engine.file_of(self._photo(photo_id))

    def _photo(self, photo_id: int):
        from engine.db import photos as photo_rows

        with self.engine.db.connection() as conn:
            photo = photo_rows.get(conn, photo_id)
        if photo is None:
            raise NotFound(f"no photo with id {photo_id}")
        return photo

    def persons(self, search: str | None, limit: int, offset: int = 0) -> dict:
        from dashboard.api.schemas.faces import PersonListOut

        items, total = self.engine.faces.persons.list(search, limit, offset)
        return _dump(PersonListOut(items=items, total=total, limit=limit, offset=offset))

    def albums(self, search: str | None, limit: int, offset: int = 0) -> dict:
        from dashboard.api.schemas.library import AlbumListOut, AlbumOut

        albums = self.engine.library.albums
        return _dump(AlbumListOut(items=[AlbumOut.model_validate(a) for a in albums.list(search, limit, offset)],
                                  total=albums.count(search), limit=limit, offset=offset))

    def trash(self, limit: int, offset: int = 0) -> dict:
        from dashboard.api.schemas.library import TrashListOut

        items, total = self.engine.library.trash.list(limit, offset)
        return _dump(TrashListOut(items=items, total=total, limit=limit, offset=offset))

    def restore(self, trash_ids: list[int]) -> dict:
        from dashboard.api.schemas.library import RestoreResponse

        return _dump(RestoreResponse.model_validate(self.engine.library.trash.restore(trash_ids)))

    def purge(self, trash_ids: list[int] | None) -> dict:
        return {"removed": self.engine.library.trash.purge(trash_ids)}

    def duplicates(self, params: dict) -> dict:
        from dashboard.api.schemas.library import DuplicatesResponse

        p = dict(params)
        return _dump(DuplicatesResponse.model_validate(self.engine.library.duplicates(p.pop("method"), **p)))

    def delete_duplicates(self, params: dict, *, dry_run: bool) -> dict:
        from dashboard.api.schemas.library import DeleteDuplicatesResponse

        p = dict(params)
        limit = p.pop("limit") or 10_000
        report, trash = self.engine.library.delete_duplicates(p.pop("method"), dry_run=dry_run, **p)
        return _dump(DeleteDuplicatesResponse.of(report, trash, dry_run=dry_run, limit=limit))

    def auto_assign(self, person_id: int, threshold: float | None, *, dry_run: bool) -> dict:
        from dashboard.api.schemas.faces import AutoAssignOut

        report = self.engine.faces.persons.auto_assign(person_id, threshold, dry_run=dry_run)
        return _dump(AutoAssignOut.model_validate(report))

    def person_name(self, person_id: int) -> str:
        return self.engine.faces.persons.get(person_id).name

    def stats(self) -> dict:
        from dataclasses import asdict

        return asdict(self.engine.stats())

    def status(self) -> dict:
        from dashboard.api.schemas.system import HealthOut

        return {"health": _dump(HealthOut.model_validate(self.engine.health())), "jobs": None}


class RemoteSource:
    """A photoindex server, through its REST API (httpx; the token as a Bearer header)."""

    remote = True

    def __init__(self, url: str, token: str | None, timeout: float = 600.0) -> None:
        import httpx

        self.url = url.rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise Invalid(_("--server needs an http:// or https:// address, got {url!r}", url=url))
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, trust_env=False)
        self._root: Path | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "RemoteSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, **kwargs: Any):
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(_("the server {url} is not reachable ({error}); check --server or PHOTOINDEX_SERVER",
                                url=self.url, error=type(exc).__name__)) from exc
        if response.status_code < 400:
            return response
        from bot.api import _detail  # the one reading of a server's error answer

        detail = _detail(response)
        if response.status_code == 401:
            raise Forbidden(_("the server {url} needs its token: --token or API_TOKEN ({detail})", url=self.url,
                              detail=detail))
        kind = {403: Forbidden, 404: NotFound, 409: Conflict, 503: Unavailable}.get(response.status_code, Invalid)
        if response.status_code >= 500 and kind is Invalid:
            kind = PhotoIndexError
        raise kind(_("the server answered {status}: {detail}", status=response.status_code, detail=detail))

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params={k: v for k, v in params.items() if v is not None}).json()

    @property
    def root(self) -> Path | None:
        """The server's library folder (as /health tells one with access), for full paths."""
        if self._root is None:
            library = self.get("/health").get("library")
            self._root = Path(library) if library else None
        return self._root

    def person_id(self, name: str) -> int:
        persons = self.get("/persons", name=name, limit=5)["items"] or self.get("/persons", search=name, limit=5)["items"]
        return one_named("person", name, persons)

    def album_id(self, name: str) -> int:
        return one_named("album", name, self.get("/albums", search=name, limit=5)["items"])

    def search(self, a: SearchArgs) -> dict:
        filters = {"date_from": a.date_from and a.date_from.isoformat(), "date_to": a.date_to and a.date_to.isoformat(),
                   "places": a.places, "cameras": a.cameras,
                   "person_ids": [self.person_id(n) for n in a.persons] or None,
                   "album_ids": [self.album_id(n) for n in a.albums] or None}
        if a.image is None and a.photo_id is None:
            body = {"query": a.query, "top_k": a.top_k, "threshold": a.threshold, "formats": a.formats,
                    "model": a.model, "multi_model": a.multi_model, "translate": a.translate, **filters}
            return self.call("POST", "/search/text", json={k: v for k, v in body.items() if v is not None}).json()
        form = {"top_k": a.top_k, "threshold": a.threshold, "model": a.model, "multi_model": a.multi_model,
                "photo_id": a.photo_id, "formats": ",".join(a.formats) if a.formats else None,
                **{k: ",".join(map(str, v)) if isinstance(v, list) else v for k, v in filters.items()}}
        data = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in form.items() if v is not None}
        if a.image is None:
            return self.call("POST", "/search/image", data=data).json()
        kind = mimetypes.guess_type(a.image.name)[0] or "application/octet-stream"
        with a.image.open("rb") as f:
            return self.call("POST", "/search/image", data=data, files={"file": (a.image.name, f, kind)}).json()

    def picture(self, photo_id: int) -> bytes:
        return self.call("GET", f"/image/{photo_id}/full").content

    def original(self, photo_id: int) -> Path:
        raise Invalid(_("a server sends viewable pictures, not original files: export with --thumbnails, "
                        "or run photoindex export on the server's machine"))

    def persons(self, search: str | None, limit: int, offset: int = 0) -> dict:
        return self.get("/persons", search=search, limit=limit, offset=offset)

    def albums(self, search: str | None, limit: int, offset: int = 0) -> dict:
        return self.get("/albums", search=search, limit=limit, offset=offset)

    def trash(self, limit: int, offset: int = 0) -> dict:
        return self.get("/trash", limit=limit, offset=offset)

    def restore(self, trash_ids: list[int]) -> dict:
        return self.call("POST", "/trash/restore", json={"trash_ids": trash_ids}).json()

    def purge(self, trash_ids: list[int] | None) -> dict:
        body = {"trash_ids": trash_ids} if trash_ids else {"all": True}
        return self.call("POST", "/trash/purge", json=body).json()

    def duplicates(self, params: dict) -> dict:
        body = {k: v for k, v in params.items() if v is not None}
        return self.call("POST", "/duplicates", json=body).json()

    def delete_duplicates(self, params: dict, *, dry_run: bool) -> dict:
        body = {k: v for k, v in params.items() if v is not None}
        return self.call("DELETE", "/duplicates", json={**body, "dry_run": dry_run}).json()

    def auto_assign(self, person_id: int, threshold: float | None, *, dry_run: bool) -> dict:
        body = {"dry_run": dry_run, **({"threshold": threshold} if threshold is not None else {})}
        return self.call("POST", f"/persons/{person_id}/auto-assign", json=body).json()

    def person_name(self, person_id: int) -> str:
        return self.get(f"/persons/{person_id}", faces_limit=0)["name"]

    def stats(self) -> dict:
        return self.get("/stats")

    def status(self) -> dict:
        return {"health": self.get("/health"), "jobs": self.get("/admin/jobs", limit=1000)}

