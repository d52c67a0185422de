"""Albums: named, ordered-by-addition sets of photos with a cover.

The cover is the photo chosen with `cover_photo_id`, else the most recently added photo. A
photo that leaves the index (trash, deleted file) leaves its albums; the trash remembers the
albums and a restore puts it back in them.
"""
from __future__ import annotations

from collections.abc import Sequence

from engine.db import albums as album_rows
from engine.db import photos as photo_rows
from engine.db.albums import Album, AlbumPhoto
from engine.db.database import Database
from engine.errors import Invalid, NotFound
from engine.search.service import PhotoNotFound


class AlbumNotFound(NotFound):
    pass


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise Invalid("an album needs a non-empty name")
    return name


class Albums:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self, search: str | None = None, limit: int = 100, offset: int = 0) -> list[Album]:
        with self.db.connection() as conn:
            return album_rows.search(conn, search, limit, offset)

    def count(self, search: str | None = None) -> int:
        with self.db.connection() as conn:
            return album_rows.count(conn, search)

    def get(self, album_id: int) -> Album:
        with self.db.connection() as conn:
            album = album_rows.get(conn, album_id)
        if album is None:
            raise AlbumNotFound(f"no album with id {album_id}")
        return album

    def create(self, name: str, description: str | None = None, photo_ids: Sequence[int] = ()) -> Album:
        with self.db.connection() as conn:
            album_id = album_rows.create(conn, _clean_name(name), description)
            if photo_ids:
                self._add(conn, album_id, photo_ids)
        return self.get(album_id)

    def update(self, album_id: int, *, name: str | None = None, description: str | None = None,
               cover_photo_id: int | None = None, clear_cover: bool = False) -> Album:
        with self.db.connection() as conn:
            self._lock(conn, album_id)
            clean_name = None if name is None else _clean_name(name)
            if cover_photo_id is not None and not album_rows.holds(conn, album_id, cover_photo_id):
                raise PhotoNotFound(f"photo {cover_photo_id} is not in album {album_id}")
            album_rows.update(conn, album_id, name=clean_name, description=description,
                              cover_photo_id=cover_photo_id, clear_cover=clear_cover)
        return self.get(album_id)

    def delete(self, album_id: int) -> None:
        """The album goes; its photos stay in the library."""
        with self.db.connection() as conn:
            if not album_rows.delete(conn, album_id):
                raise AlbumNotFound(f"no album with id {album_id}")

    def add(self, album_id: int, photo_ids: Sequence[int]) -> int:
        """Add photos (already present ones are kept); returns how many were new. Unknown ids: nothing added."""
        with self.db.connection() as conn:
            self._lock(conn, album_id)
            return self._add(conn, album_id, photo_ids)

    @staticmethod
    def _lock(conn, album_id: int) -> None:
        if not album_rows.lock(conn, album_id):
            raise AlbumNotFound(f"no album with id {album_id}")

    @staticmethod
    def _add(conn, album_id: int, photo_ids: Sequence[int]) -> int:
        ids = sorted(set(photo_ids))
        known = {p.id for p in photo_rows.get_many(conn, ids)}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise PhotoNotFound(f"no photos with ids {unknown[:20]}; nothing was added")
        return album_rows.add(conn, album_id, ids)

    def remove(self, album_id: int, photo_ids: Sequence[int]) -> int:
        with self.db.connection() as conn:
            self._lock(conn, album_id)
            return album_rows.remove(conn, album_id, photo_ids)

    def photos(self, album_id: int, limit: int = 200, offset: int = 0) -> list[AlbumPhoto]:
        self.get(album_id)
        with self.db.connection() as conn:
            return album_rows.photos(conn, album_id, limit, offset)

    def of_photo(self, photo_id: int) -> list[int]:
        with self.db.connection() as conn:
            return album_rows.of_photo(conn, photo_id)
