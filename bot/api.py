"""A small client of the photo search REST API (httpx)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class ApiError(RuntimeError):
    """The server answered with an error (its message is in the text) or could not be reached."""


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
    score: float | None


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
            raise ApiError(f"the photo server is not reachable ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise ApiError(f"the photo server answered {response.status_code}: {_detail(response)}")
        return response

    @staticmethod
    def _found(body: dict) -> list[Found]:
        return [Found(r["id"], r["path"], r.get("score")) for r in body.get("results", [])]

    async def search_text(self, query: str, top_k: int, multi_model: bool = False, translate: bool = False) -> tuple[list[Found], list[str]]:
        body = (await self._call("POST", "/search/text", json={"query": query, "top_k": top_k,
                                                               "multi_model": multi_model, "translate": translate})).json()
        return self._found(body), body.get("notes", [])

    async def search_image(self, data: bytes, top_k: int) -> list[Found]:
        files = {"file": ("photo.jpg", data, "image/jpeg")}
        return self._found((await self._call("POST", "/search/image", files=files, data={"top_k": str(top_k)})).json())

    async def similar(self, photo_id: int, top_k: int) -> list[Found]:
        return self._found((await self._call("POST", "/search/image",
                                             data={"photo_id": str(photo_id), "top_k": str(top_k)})).json())

    async def person_photos(self, name: str, top_k: int) -> tuple[str | None, list[Found]]:
        persons = (await self._call("GET", "/persons", params={"search": name, "limit": 10})).json()["items"]
        if not persons:
            return None, []
        exact = [p for p in persons if p["name"].lower() == name.lower()]
        person = (exact or persons)[0]
        items = (await self._call("GET", f"/persons/{person['id']}/photos", params={"limit": top_k})).json()["items"]
        return person["name"], [Found(p["id"], p["path"], None) for p in items]

    async def thumbnail(self, photo_id: int) -> bytes:
        return (await self._call("GET", f"/image/{photo_id}/thumb")).content
