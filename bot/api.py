"""A small client of the photo search REST API (httpx): the bot never touches the engine or the files."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

MAX_RANKED = 500
"""The REST API's top_k limit: how deep a server without search `offset` can be paged."""


class ApiError(RuntimeError):
    """The server answered with an error, or could not be reached. `detail` is the server's own
    sentence (English), `status` its HTTP status; None when it was not reached."""

    def __init__(self, status: int | None, detail: str = "") -> None:
        super().__init__(f"{status}: {detail}" if status else f"not reachable ({detail})")
        self.status = status
        self.detail = detail


def _detail(response: httpx.Response) -> str:
    """The server's sentence; of a validation error (a list of pydantic errors) only the first message."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text[:200] or response.reason_phrase
    if isinstance(detail, list):
        first = detail[0] if detail and isinstance(detail[0], dict) else {}
        return str(first.get("msg") or "the request was not valid").removeprefix("Value error, ")[:200]
    return str(detail)[:500]


@dataclass(frozen=True)
class Found:
    id: int
    path: str
    score: float | None = None
    distance_km: float | None = None


@dataclass(frozen=True)
class Page:
    """One page of photos; `more` says whether another page follows."""
    items: list[Found]
    more: bool
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Album:
    id: int
    name: str
    photo_count: int


@dataclass(frozen=True)
class Original:
    filename: str
    data: bytes
    full_size_jpeg: bool
    """True when the file is over Telegram's upload limit and this is the full-size JPEG instead."""
    size: int


def _items(body: Any) -> list[dict]:
    """The rows of a list answer: a plain list, or the {items, total, limit, offset} envelope."""
    return body.get("items", []) if isinstance(body, dict) else list(body)


def _page(rows: list[Found], limit: int, total: int | None, offset: int) -> Page:
    """`limit` rows and whether more follow: from `total` when the server counts, else from a row past the page."""
    more = offset + limit < total if total is not None else len(rows) > limit
    return Page(rows[:limit], more)


class PhotoApi:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, trust_env=False)

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(None, type(exc).__name__) from exc
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        return response

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        return (await self._call(method, url, **kwargs)).json()

    @staticmethod
    def _found(body: dict) -> list[Found]:
        return [Found(r["id"], r["path"], r.get("score")) for r in body.get("results", [])]

    async def _ranked(self, send: Callable[[int, int], Awaitable[dict]], limit: int, offset: int,
                      first_id: int | None) -> Page:
        """`limit` hits from rank `offset`, asked for with the search endpoints' `offset` (body or form field).
        A server from before that parameter ranks from the top again (its first hit is `first_id`, the
        first of page one): then the hits are asked for from the top and the earlier ones dropped."""
        body = await send(offset, limit + 1)
        hits = self._found(body)
        if offset and hits and hits[0].id == first_id:
            top_k = min(MAX_RANKED, offset + limit + 1)
            body = await send(0, top_k)
            hits = self._found(body)[offset:]
        return Page(hits[:limit], len(hits) > limit, list(body.get("notes", [])))

    async def search_text(self, query: str, limit: int, offset: int = 0, first_id: int | None = None, *,
                          multi_model: bool = False, translate: bool | None = None) -> Page:
        """Hits and the server's notes; `translate` None leaves it to the server (on when it has a key)."""
        payload: dict[str, Any] = {"query": query, "multi_model": multi_model}
        if translate is not None:
            payload["translate"] = translate

        async def send(skip: int, top_k: int) -> dict:
            return await self._json("POST", "/search/text", json={**payload, "top_k": top_k, "offset": skip})
        return await self._ranked(send, limit, offset, first_id)

    async def search_image(self, data: bytes, filename: str, mime: str, limit: int, offset: int = 0,
                           first_id: int | None = None) -> Page:
        async def send(skip: int, top_k: int) -> dict:
            return await self._json("POST", "/search/image", files={"file": (filename, data, mime)},
                                    data={"top_k": str(top_k), "offset": str(skip)})
        return await self._ranked(send, limit, offset, first_id)

    async def similar(self, photo_id: int, limit: int, offset: int = 0, first_id: int | None = None) -> Page:
        async def send(skip: int, top_k: int) -> dict:
            return await self._json("POST", "/search/image",
                                    data={"photo_id": str(photo_id), "top_k": str(top_k), "offset": str(skip)})
        return await self._ranked(send, limit, offset, first_id)

    async def find_person(self, name: str) -> tuple[int, str] | None:
        """The person called `name` (in any case form, or an alias: the server resolves it), else the
        first whose name contains it."""
        for key in ("name", "search"):
            persons = _items(await self._json("GET", "/persons", params={key: name, "limit": 10}))
            if persons:
                return persons[0]["id"], persons[0]["name"]
        return None

    async def person_photos(self, person_id: int, limit: int, offset: int = 0) -> Page:
        body = await self._json("GET", f"/persons/{person_id}/photos", params={"limit": limit, "offset": offset})
        return _page([Found(p["id"], p["path"]) for p in body["items"]], limit, body["total"], offset)

    async def albums(self, search: str | None = None) -> list[Album]:
        params: dict[str, Any] = {"limit": 50}
        if search:
            params["search"] = search
        return [Album(a["id"], a["name"], a["photo_count"]) for a in _items(await self._json("GET", "/albums", params=params))]

    async def album_photos(self, album_id: int, limit: int, offset: int = 0) -> tuple[Album, Page]:
        body = await self._json("GET", f"/albums/{album_id}", params={"limit": limit, "offset": offset})
        album = Album(body["id"], body["name"], body["photo_count"])
        return album, _page([Found(p["id"], p["path"]) for p in body["photos"]], limit, album.photo_count, offset)

    async def near(self, limit: int, offset: int = 0, *, point: tuple[float, float] | None = None,
                   place: str | None = None, radius_km: float = 5.0) -> Page:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if point is not None:
            params |= {"lat": point[0], "lon": point[1], "radius_km": radius_km}
        else:
            params["place"] = place
        body = await self._json("GET", "/photos/near", params=params)
        rows = [Found(p["id"], p["path"], distance_km=p.get("distance_km")) for p in body["items"]]
        return _page(rows, limit, body["total"], offset)

    async def thumbnail(self, photo_id: int) -> bytes:
        return (await self._call("GET", f"/image/{photo_id}/thumb")).content

    async def original(self, photo_id: int, max_bytes: int) -> Original:
        """The photo's file as it is in the library; over `max_bytes` the full-size JPEG rendering instead."""
        photo = await self._json("GET", f"/photo/{photo_id}")
        name = str(photo["path"]).rsplit("/", 1)[-1]
        if int(photo["size"]) <= max_bytes:
            return Original(name, (await self._call("GET", f"/image/{photo_id}/original")).content, False, photo["size"])
        jpeg = (await self._call("GET", f"/image/{photo_id}/full")).content
        return Original(name.rsplit(".", 1)[0] + ".jpg", jpeg, True, photo["size"])
