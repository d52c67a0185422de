"""Library scan: compare the files under PHOTOS_DIR with the index (new, changed, moved, offline).

Nothing is ever deleted by a scan. A missing, unmounted or empty library root stops the scan before
anything changes, photos under a folder that could not be read are left as they are, and photos
whose files are gone are marked offline until they come back or are removed explicitly.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import islice
from pathlib import Path
from typing import TypeVar

import psycopg

from engine.config import Settings
from engine.db.database import Database
from engine.db import offline as offline_rows
from engine.db import photos as photo_rows
from engine.db import scan as scan_rows
from engine.db import unsupported as unsupported_rows
from engine.db.unsupported import UnsupportedFile
from engine.errors import Unavailable
from engine.media.formats import format_of, unsupported_reason
from engine.runtime.hashing import file_hash

log = logging.getLogger(__name__)

_SKIPPED_DIRS = {"@eaDir", "#recycle", "$RECYCLE.BIN", "System Volume Information", "__MACOSX"}


class LibraryUnavailable(Unavailable):
    """The library root is missing or empty while the index holds photos: nothing is changed."""


class TooManyOffline(LibraryUnavailable):
    """Too large a share of the library would go offline at once (a disk unmounted?): nothing is changed."""


OFFLINE_STOP_MIN_PHOTOS = 10
"""A scan stops on OFFLINE_MAX_SHARE only when more photos than this would go offline (small libraries)."""

SCAN_BATCH = 5000
"""Files the scan holds at once: the walk goes to the database, and is read back, this many at a time."""

T = TypeVar("T")


@dataclass(frozen=True)
class LibraryFile:
    path: str
    """POSIX path relative to the library root."""
    size: int
    mtime: float
    format: str


@dataclass(frozen=True)
class ScanReport:
    files: int
    new: int
    changed: int
    unchanged: int
    offline: int
    """Photos whose file went missing in this scan (kept in the index, marked offline)."""
    returned: int = 0
    """Offline photos whose file is back at its path."""
    moved: int = 0
    """Photos found under a new path with the same bytes (a moved folder, a rename): same id, albums, faces."""
    removed: int = 0
    """Photos offline for longer than OFFLINE_GRACE_DAYS, removed from the index."""
    unreadable_dirs: tuple[str, ...] = ()
    unsupported: int = 0


def iter_library(root: Path, unreadable_dirs: list[str]) -> Iterator[LibraryFile | UnsupportedFile]:
    """Every supported file under `root`, and every picture or video the index does not take, one
    at a time in path order; symlinks are not followed, hidden folders skipped. Folders that cannot
    be read are appended to `unreadable_dirs` ("" for the root)."""
    yield from _iter_files(root, root, unreadable_dirs)


def _iter_files(root: Path, folder: Path, unreadable_dirs: list[str]) -> Iterator[LibraryFile | UnsupportedFile]:
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        rel = folder.relative_to(root).as_posix()
        log.warning("cannot read folder %s: %s", folder, exc)
        unreadable_dirs.append("" if rel == "." else rel)
        return
    for entry in sorted(entries, key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if entry.name not in _SKIPPED_DIRS:
                    yield from _iter_files(root, Path(entry.path), unreadable_dirs)
                continue
            fmt = format_of(entry.name)
            reason = None if fmt else unsupported_reason(entry.name)
            if (fmt is None and reason is None) or not entry.is_file():
                continue
            stat = entry.stat()
        except OSError as exc:
            log.warning("cannot stat %s: %s", entry.path, exc)
            continue
        rel = Path(entry.path).relative_to(root).as_posix()
        if fmt is None:
            yield UnsupportedFile(rel, stat.st_size, stat.st_mtime, Path(entry.name).suffix.lower().lstrip("."), reason)
            continue
        yield LibraryFile(rel, stat.st_size, stat.st_mtime, fmt)


def check_library_root(root: Path) -> None:
    if not root.exists():
        raise LibraryUnavailable(f"PHOTOS_DIR {root} does not exist (unmounted disk?); the scan stopped and nothing was marked offline.")
    if not root.is_dir():
        raise LibraryUnavailable(f"PHOTOS_DIR {root} is not a folder; the scan stopped.")
    if not os.access(root, os.R_OK | os.X_OK):
        raise LibraryUnavailable(f"PHOTOS_DIR {root} cannot be read; the scan stopped and nothing was marked offline.")


def scan_library(db: Database, root: Path, *, offline_max_share: float = 0.25, offline_grace_days: float = 0,
                 batch_size: int = SCAN_BATCH) -> ScanReport:
    """Bring the photos table in line with the files under `root`.

    A photo whose file is gone is marked offline, never deleted. When its file returns at the same
    path it is simply back; a new file with the bytes of a missing photo (a moved folder, a rename)
    takes over that photo's row, so its id, albums, faces and rotation stay. A scan that would take
    more than `offline_max_share` of the library offline at once (and more than
    OFFLINE_STOP_MIN_PHOTOS photos) stops before changing anything. Photos offline for longer than
    `offline_grace_days` (when above 0) are removed from the index.

    Memory does not grow with the library: the walk goes to the database `batch_size` files at a
    time and is compared with the index there (`engine.db.scan`), all in one transaction, so a scan
    that stops or is killed changes nothing and the next one starts over.
    """
    root = root.resolve()
    check_library_root(root)
    unreadable_dirs: list[str] = []
    with db.connection() as conn:
        online = scan_rows.online_count(conn)
        scan_rows.stage(conn)
        unsupported_rows.stage(conn)
        for batch in _batches(iter_library(root, unreadable_dirs), batch_size):
            scan_rows.add_files(conn, [(f.path, f.size, f.mtime, f.format) for f in batch if isinstance(f, LibraryFile)])
            unsupported_rows.add_staged(conn, [f for f in batch if isinstance(f, UnsupportedFile)])
        files = scan_rows.finish_staging(conn)
        if not files and online:
            raise LibraryUnavailable(
                f"PHOTOS_DIR {root} holds no photos but the index has {online}; "
                "the scan stopped and nothing was marked offline (is the disk mounted?)."
            )
        changed = _update_changed(conn, root, batch_size)
        returned = scan_rows.bring_back(conn)
        scan_rows.stage_missing(conn, unreadable_dirs)
        moved = _take_over_moved(conn, root, batch_size)
        going = scan_rows.going_count(conn)
        if going > max(OFFLINE_STOP_MIN_PHOTOS, offline_max_share * online):
            raise TooManyOffline(
                f"{going} of the {online} photos in the index are gone from PHOTOS_DIR {root} (more than "
                f"OFFLINE_MAX_SHARE={offline_max_share:g} of them); the scan stopped and changed nothing. Is a disk "
                "unmounted? If the files are really gone, run the scan again with a higher OFFLINE_MAX_SHARE "
                "(e.g. OFFLINE_MAX_SHARE=1 photoindex index): they are then marked offline, not deleted.")
        scan_rows.mark_offline(conn)
        new = scan_rows.insert_new(conn)
        expired = datetime.now(timezone.utc) - timedelta(days=offline_grace_days)
        removed = offline_rows.remove(conn, offline_before=expired) if offline_grace_days > 0 else []
        unsupported = unsupported_rows.replace_with_staged(conn, keep_under=unreadable_dirs)
    return ScanReport(
        files=files,
        new=new,
        changed=changed,
        unchanged=files - new - changed - moved,
        offline=going,
        returned=returned,
        moved=moved,
        removed=len(removed),
        unreadable_dirs=tuple(unreadable_dirs),
        unsupported=unsupported,
    )


def scan(db: Database, settings: Settings) -> ScanReport:
    """`scan_library` of PHOTOS_DIR with the settings' OFFLINE_MAX_SHARE and OFFLINE_GRACE_DAYS."""
    return scan_library(db, settings.photos_dir, offline_max_share=settings.offline_max_share,
                        offline_grace_days=settings.offline_grace_days)


def _update_changed(conn: psycopg.Connection, root: Path, batch_size: int) -> int:
    """Files whose size or mtime changed: the same bytes (hash) only touch the row, new bytes reset
    what was learned from the old ones. How many changed."""
    changed, after = 0, 0
    while page := scan_rows.changed_page(conn, after, batch_size):
        touched: list[tuple[int, float]] = []
        replaced: list[tuple[int, int, float, str, str | None]] = []
        for c in page:
            new_hash = _hash_or_none(root, c.file.path) if c.content_hash else None
            if new_hash is not None and new_hash == c.content_hash:
                touched.append((c.photo_id, c.file.mtime))
            else:
                replaced.append((c.photo_id, c.file.size, c.file.mtime, c.file.format, new_hash))
        photo_rows.touch(conn, touched)
        photo_rows.reset_changed(conn, replaced)
        changed += len(replaced)
        after = page[-1].file.seq
    return changed


def _take_over_moved(conn: psycopg.Connection, root: Path, batch_size: int) -> int:
    """New files holding the bytes of a missing photo take over its row (its path changes); how many.

    Only new files of the size of a missing photo are hashed; equal copies pair up in path order.
    """
    moved, after = 0, 0
    while page := scan_rows.move_candidates_page(conn, after, batch_size):
        digests = {f.path: _hash_or_none(root, f.path) for f in page}
        candidates = scan_rows.missing_with(conn, sorted({(f.size, d) for f in page if (d := digests[f.path])}))
        moves: list[tuple[int, str, float, str]] = []
        for f in page:
            match = next((m for m in candidates if m.size == f.size and m.content_hash == digests[f.path]), None)
            if match is not None:
                candidates.remove(match)
                moves.append((match.id, f.path, f.mtime, f.format))
        offline_rows.move(conn, moves)
        scan_rows.forget_missing(conn, [m[0] for m in moves])
        moved += len(moves)
        after = page[-1].seq
    return moved


def _batches(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while batch := list(islice(items, size)):
        yield batch


def _hash_or_none(root: Path, path: str) -> str | None:
    try:
        return file_hash(root / path, root=root)
    except OSError:
        return None
