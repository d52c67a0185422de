"""The trash: move photos out of the library into TRASH_DIR and back, keeping every byte.

Layout: a photo at `PHOTOS_DIR/a/b/c.jpg` goes to `TRASH_DIR/a/b/c.jpg` (or `c (1).jpg` when a
file of that name is already trashed). Its `photos` row is deleted in the same transaction
(so search, stats and albums stop showing it, and embeddings/faces go with it) and kept in the
`trash` table as JSON together with the ids of the albums it was in, its faces and its vectors.
`restore` moves the file back to its original path and re-inserts the same row (same id,
metadata and rotation), its faces (linked to the persons that still exist) and its vectors, back
into the albums that still exist: nothing needs indexing again.

Safety: a request names photos by id or by library-relative path. Every request is checked in
full before anything moves, and refused as a whole when one item is bad: unknown ids/paths,
absolute paths, `..`, and any symlink on the way to the file (inside the library or the trash)
are refused, so nothing outside PHOTOS_DIR or TRASH_DIR is ever moved or written. Moves are
renames; across file systems the copy is verified by hash before the original is removed.
"""
from __future__ import annotations

import errno
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from engine.db import photos as photo_rows
from engine.db import trash as trash_rows
from engine.db.database import Database
from engine.errors import Conflict, NotFound, Unavailable
from engine.i18n import N_
from engine.library.paths import OutsideLibrary, resolve_inside
from engine.runtime.hashing import file_hash

log = logging.getLogger(__name__)


class TrashError(Conflict):
    """A move that would overwrite or lose a file; nothing was moved."""


class PhotosNotFound(NotFound):
    """Some requested photos are not in the index; nothing was moved."""


class TrashItemNotFound(NotFound):
    pass


class RestoreConflict(TrashError):
    """The original path is taken again (a new file or a new index row); nothing was moved."""


class TrashUnavailable(Unavailable):
    """TRASH_DIR is unusable (inside the library, or the library inside it)."""


@dataclass(frozen=True)
class TrashedPhoto:
    trash_id: int
    photo_id: int
    original_path: str
    trash_path: str
    size: int
    content_hash: str | None
    deleted_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class TrashPreview:
    """What a thumbnail of a trashed photo is made from."""

    photo_id: int
    path: Path
    format: str
    rotation: int
    version: str
    root: Path
    """The trash folder `path` lies in."""


@dataclass
class TrashReport:
    trashed: list[TrashedPhoto] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)
    """Indexed photos whose file was already gone: their rows were removed, nothing was moved."""


@dataclass
class RestoreReport:
    restored: list[TrashedPhoto] = field(default_factory=list)
    conflicts: list[tuple[TrashedPhoto, str]] = field(default_factory=list)
    """Items that stayed in the trash (`restore_what_can`), each with the reason."""


def strict_path(root: Path, relative: str) -> Path:
    """`root/relative` with no symlink anywhere below `root` (`..`, absolute paths refused too)."""
    resolve_inside(root, relative)  # absolute, `..`, empty, escaping symlinks
    base = root.resolve()
    current = base
    for part in PurePosixPath(str(relative).replace("\\", "/")).parts:
        current = current / part
        if current.is_symlink():
            raise OutsideLibrary(f"path {relative!r} goes through a symbolic link; refused")
    return current


def normalize_relative(path: str) -> str:
    rel = PurePosixPath(str(path).replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts or str(rel) in ("", "."):
        raise OutsideLibrary(f"path {path!r} is not a path inside the library")
    return rel.as_posix()


def move_file(src: Path, dst: Path) -> None:
    """Rename `src` to `dst` (never over an existing file); across devices copy, verify, then unlink."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists() or dst.is_symlink():
        raise TrashError(f"{dst} already exists")
    try:
        os.rename(src, dst)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    tmp = dst.with_name(f".{dst.name}.partial")
    with open(src, "rb", opener=_no_follow) as fin, open(tmp, "xb") as fout:  # a link swapped in is not copied
        shutil.copyfileobj(fin, fout, 1 << 20)
    shutil.copystat(src, tmp, follow_symlinks=False)
    if file_hash(tmp) != file_hash(src):
        tmp.unlink(missing_ok=True)
        raise TrashError(f"copy of {src} to {dst} differs; the original was kept")
    os.replace(tmp, dst)
    src.unlink()


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)


def _free_name(root: Path, rel: str) -> str:
    candidate = PurePosixPath(rel)
    n = 1
    while (root / candidate).exists() or (root / candidate).is_symlink():
        candidate = candidate.with_name(f"{PurePosixPath(rel).stem} ({n}){PurePosixPath(rel).suffix}")
        n += 1
    return candidate.as_posix()


def _trashed(row: trash_rows.TrashRow) -> TrashedPhoto:
    return TrashedPhoto(row.id, row.photo_id, row.original_path, row.trash_path, row.size, row.content_hash,
                        row.deleted_at, row.reason)


class Trash:
    def __init__(self, db: Database, library_root: Path, trash_root: Path, on_removed=None) -> None:
        self.db = db
        self.library_root = Path(library_root)
        self.trash_root = Path(trash_root)
        self.on_removed = on_removed or (lambda _photo_id: None)
        """Called with each photo id that left the index (e.g. to drop its cached thumbnails)."""

    def _roots(self) -> tuple[Path, Path]:
        library = self.library_root.resolve()
        self.trash_root.mkdir(parents=True, exist_ok=True)
        trash = self.trash_root.resolve()
        if trash == library or library in trash.parents or trash in library.parents:
            raise TrashUnavailable(f"TRASH_DIR {trash} must lie outside PHOTOS_DIR {library} and not contain it")
        return library, trash

    def move_to_trash(self, ids: Sequence[int] = (), paths: Sequence[str] = (), *, reason: str | None = None) -> TrashReport:
        """Move photos (by id and/or library-relative path) to the trash; all-or-nothing validation."""
        library, trash = self._roots()
        wanted_paths = [normalize_relative(p) for p in paths]
        with self.db.connection() as conn:
            photos = photo_rows.find(conn, ids, wanted_paths)
        found_ids = {p.id for p in photos}
        found_paths = {p.path for p in photos}
        unknown = [str(i) for i in ids if i not in found_ids] + [p for p in wanted_paths if p not in found_paths]
        if unknown:
            raise PhotosNotFound(f"not in the index: {', '.join(unknown[:20])}; nothing was moved")
        targets: list[tuple[int, str, Path | None]] = []
        for p in photos:
            source = strict_path(library, p.path)
            if source.exists() and not source.is_file():
                raise OutsideLibrary(f"{p.path!r} is not a regular file; refused")
            targets.append((p.id, p.path, source if source.is_file() else None))

        report = TrashReport()
        for photo_id, rel, source in targets:
            if source is None:
                with self.db.connection() as conn:
                    photo_rows.delete(conn, [photo_id])
                report.missing_files.append(rel)
                self.on_removed(photo_id)
                continue
            item = self._trash_one(photo_id, rel, source, trash, reason)
            if item is not None:
                report.trashed.append(item)
                self.on_removed(photo_id)
        return report

    def _trash_one(self, photo_id: int, rel: str, source: Path, trash: Path, reason: str | None) -> TrashedPhoto | None:
        moved_to: Path | None = None
        trash_rel = _free_name(trash, rel)
        destination = strict_path(trash, trash_rel)  # no links inside TRASH_DIR either
        try:
            with self.db.connection() as conn:
                row = trash_rows.take(conn, photo_id, trash_rel, reason)
                if row is None:  # deleted meanwhile (a scan, another request)
                    return None
                move_file(source, destination)
                moved_to = destination
            return _trashed(row)
        except BaseException:
            if moved_to is not None and moved_to.exists() and not source.exists():
                move_file(moved_to, source)  # the transaction failed after the move: put it back
            raise

    def list(self, limit: int = 100, offset: int = 0) -> tuple[list[TrashedPhoto], int]:
        with self.db.connection() as conn:
            rows, total = trash_rows.page(conn, limit, offset)
        return [_trashed(r) for r in rows], total

    def preview(self, trash_id: int) -> TrashPreview:
        """The trashed file of item `trash_id` (no link on the way), for its thumbnail."""
        _, trash = self._roots()
        with self.db.connection() as conn:
            rows = trash_rows.get_many(conn, [trash_id])
        if not rows:
            raise TrashItemNotFound(f"nothing in the trash has id {trash_id}")
        row = rows[0]
        path = strict_path(trash, row.trash_path)
        if not path.is_file():
            raise TrashItemNotFound(f"the trashed file {row.trash_path!r} is gone from TRASH_DIR")
        photo = row.photo or {}
        rotation = int((photo.get("exif_data") or {}).get("UserRotation", 0) or 0) % 360
        version = row.content_hash or f"{row.size}-{photo.get('mtime')}"
        return TrashPreview(row.photo_id, path, photo.get("format") or "jpg", rotation, version, trash)

    def restore(self, trash_ids: Sequence[int]) -> RestoreReport:
        """Put trashed photos back where they were, with their index rows; all-or-nothing checks."""
        library, trash = self._roots()
        with self.db.connection() as conn:
            rows = trash_rows.get_many(conn, trash_ids)
            unknown = sorted(set(trash_ids) - {r.id for r in rows})
            if unknown:
                raise TrashItemNotFound(f"no trash items {unknown}; nothing was restored")
            taken = photo_rows.find(conn, [r.photo_id for r in rows], [r.original_path for r in rows])
        if taken:
            raise RestoreConflict(f"already in the index again: {[t.path for t in taken]}; nothing was restored")
        plans = []
        for r in rows:
            source = strict_path(trash, r.trash_path)
            if not source.is_file():
                raise TrashError(f"the trashed file {r.trash_path!r} is gone from TRASH_DIR")
            destination = strict_path(library, r.original_path)
            if destination.exists() or destination.is_symlink():
                raise RestoreConflict(f"{r.original_path!r} exists in the library again; nothing was restored")
            plans.append((r, source, destination))

        report = RestoreReport()
        for r, source, destination in plans:
            report.restored.append(self._restore_one(r, source, destination, library))
        return report

    def restore_what_can(self, items: Sequence[TrashedPhoto]) -> RestoreReport:
        """Put back every item that can go back; the others stay in the trash, each with the
        reason (its old path is taken again, its file left the trash folder). Items restored or
        emptied meanwhile are skipped."""
        try:
            return self.restore([t.trash_id for t in items])
        except TrashUnavailable:
            raise
        except (TrashError, TrashItemNotFound):
            pass  # one item is in the way: go one by one
        report = RestoreReport()
        for item in items:
            try:
                report.restored += self.restore([item.trash_id]).restored
            except TrashItemNotFound:
                continue
            except TrashUnavailable:
                raise
            except RestoreConflict:
                report.conflicts.append((item, N_("a photo is at the old path again (move or rename it, then restore)")))
            except TrashError:
                report.conflicts.append((item, N_("its file is gone from the trash folder")))
        return report

    def _restore_one(self, r: trash_rows.TrashRow, source: Path, destination: Path, library: Path) -> TrashedPhoto:
        moved = False
        try:
            with self.db.connection() as conn:
                trash_rows.put_back(conn, r)
                destination.parent.mkdir(parents=True, exist_ok=True)
                strict_path(library, r.original_path)  # the folders just made hold no links
                move_file(source, destination)
                moved = True
            return _trashed(r)
        except BaseException:
            if moved and destination.exists() and not source.exists():
                move_file(destination, source)
            raise

    def purge(self, trash_ids: Sequence[int] | None = None) -> int:
        """Delete trashed files for good (all when `trash_ids` is None); returns how many went."""
        _, trash = self._roots()
        with self.db.connection() as conn:
            rows = trash_rows.get_many(conn, trash_ids)
        if trash_ids is not None:
            unknown = sorted(set(trash_ids) - {r.id for r in rows})
            if unknown:
                raise TrashItemNotFound(f"no trash items {unknown}; nothing was deleted")
        removed = 0
        for r in rows:
            path = strict_path(trash, r.trash_path)
            with self.db.connection() as conn:
                trash_rows.delete(conn, r.id)
                if path.is_file():
                    path.unlink()
            removed += 1
        return removed
