"""What a "more" button pages through, and the inline buttons' callback data.

Telegram carries at most 64 bytes of callback data and shows it to nobody but hands it back verbatim,
so a button holds only a verb and a number or a short token: never a query (up to 1,000 characters)
or a path. Photo and album ids are checked by the REST API like any other request; a token names a
search this bot process remembers (the last `KEEP` per chat), and a stale one gets one sentence.
"""
from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Literal

Kind = Literal["text", "image", "similar", "person", "album", "near", "place"]

KEEP = 30
MAX_CALLBACK_DATA = 64

MORE, SIMILAR, ORIGINAL, ALBUM = "more", "like", "orig", "album"
_CALLBACK = re.compile(r"^(more|like|orig|album):([A-Za-z0-9_-]{1,16})$")


@dataclass(frozen=True)
class Search:
    """A search to page through: its kind, what it was asked with, the next page's offset."""
    kind: Kind
    title: str
    query: str = ""
    """The words (text), a person's or album's id, a place name, or "lat,lon"."""
    file_id: str = ""
    """For a search by a picture: Telegram's id of the file, fetched again for the next page."""
    filename: str = ""
    mime: str = ""
    offset: int = 0
    first_id: int | None = None

    def next(self, shown: int, first_id: int | None) -> "Search":
        return replace(self, offset=self.offset + shown, first_id=self.first_id if self.offset else first_id)


class Searches:
    """The searches of one chat, newest last; tokens are random, so a button cannot name another's."""

    def __init__(self) -> None:
        self._by_token: OrderedDict[str, Search] = OrderedDict()

    def remember(self, search: Search) -> str:
        token = secrets.token_urlsafe(6)
        self._by_token[token] = search
        while len(self._by_token) > KEEP:
            self._by_token.popitem(last=False)
        return token

    def get(self, token: str) -> Search | None:
        return self._by_token.get(token)

    def update(self, token: str, search: Search) -> None:
        if token in self._by_token:
            self._by_token[token] = search


def callback(verb: str, value: int | str) -> str:
    data = f"{verb}:{value}"
    assert len(data.encode()) <= MAX_CALLBACK_DATA and _CALLBACK.match(data), data
    return data


def parse_callback(data: str | None) -> tuple[str, str] | None:
    """(verb, value) of a button this bot made; None for anything else."""
    match = _CALLBACK.match(data or "")
    return (match.group(1), match.group(2)) if match else None
