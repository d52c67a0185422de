"""Library scan: compare the files under PHOTOS_DIR with the index (new, changed, moved, offline).

Nothing is ever deleted by a scan. A missing, unmounted or empty library root stops the scan before
anything changes, photos under a folder that could not be read are left as they are, and photos
whose files are gone are marked offline until they come back or are removed explicitly.
"""
from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta, timezone
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from engine.config import Settings
from engine.db.database import Database
from engine.db import offline as offline_rows
from engine.db import photos as photo_rows
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


@dataclass(frozen=True)
class LibraryFile:
    path: str
    """POSIX path relative to the library root."""
    size: int
    mtime: float
    format: str


@dataclass
class LibraryWalk:
    files: list[LibraryFile] = field(default_factory=list)
    unreadable_dirs: list[str] = field(default_factory=list)
    unsupported: list[UnsupportedFile] = field(default_factory=list)
    """Pictures and videos the index does not take (listed with the reason, never skipped silently)."""


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


def walk_library(root: Path) -> LibraryWalk:
    """Every supported file under `root`; symlinks are not followed, hidden folders skipped."""
    walk = LibraryWalk()
    for entry in _iter_files(root, root, walk):
        walk.files.append(entry)
    return walk


def _iter_files(root: Path, folder: Path, walk: LibraryWalk) -> Iterator[LibraryFile]:
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        rel = folder.relative_to(root).as_posix()
        log.warning("cannot read folder %s: %s", folder, exc)
        walk.unreadable_dirs.append("" if rel == "." else rel)
        return
    for entry in sorted(entries, key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if entry.name not in _SKIPPED_DIRS:
                    yield from _iter_files(root, Path(entry.path), walk)
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
            walk.unsupported.append(UnsupportedFile(rel, stat.st_size, stat.st_mtime,
                                                    Path(entry.name).suffix.lower().lstrip("."), reason))
            continue
        yield LibraryFile(rel, stat.st_size, stat.st_mtime, fmt)


def check_library_root(root: Path) -> None:
    if not root.exists():
        raise LibraryUnavailable(f"PHOTOS_DIR {root} does not exist (unmounted disk?); the scan stopped and nothing was marked offline.")
    if not root.is_dir():
        raise LibraryUnavailable(f"PHOTOS_DIR {root} is not a folder; the scan stopped.")
    if not os.access(root, os.R_OK | os.X_OK):
        raise LibraryUnavailable(f"PHOTOS_DIR {root} cannot be read; the scan stopped and nothing was marked offline.")


def scan_library(db: Database, root: Path, *, offline_max_share: float = 0.25, offline_grace_days: float = 0
                 ) -> ScanReport:
    """Bring the photos table in line with the files under `root`.

    A photo whose file is gone is marked offline, never deleted. When its file returns at the same
    path it is simply back; a new file with the bytes of a missing photo (a moved folder, a rename)
    takes over that photo's row, so its id, albums, faces and rotation stay. A scan that would take
    more than `offline_max_share` of the library offline at once (and more than
    OFFLINE_STOP_MIN_PHOTOS photos) stops before changing anything. Photos offline for longer than
    `offline_grace_days` (when above 0) are removed from the index.
    """
    root = root.resolve()
    check_library_root(root)
    walk = walk_library(root)
    with db.connection() as conn:
        known = photo_rows.file_states(conn)
    if not walk.files and any(not s.offline for s in known.values()):
        raise LibraryUnavailable(
            f"PHOTOS_DIR {root} holds no photos but the index has {len(known)}; "
            "the scan stopped and nothing was marked offline (is the disk mounted?)."
        )

    new: list[LibraryFile] = []
    touched: list[tuple[int, float]] = []
    replaced: list[tuple[int, LibraryFile, str | None]] = []
    returned: list[int] = []
    seen: set[str] = set()
    for f in walk.files:
        seen.add(f.path)
        state = known.get(f.path)
        if state is None:
            new.append(f)
            continue
        if state.offline:
            returned.append(state.id)
        if state.size != f.size or state.mtime != f.mtime:
            new_hash = _hash_or_none(root, f.path) if state.content_hash else None
            if new_hash is not None and new_hash == state.content_hash:
                touched.append((state.id, f.mtime))
            else:
                replaced.append((state.id, f, new_hash))

    missing = {path: state for path, state in known.items()
               if path not in seen and not _under_any(path, walk.unreadable_dirs)}
    moved = _match_moved(root, new, missing)
    new = [f for f in new if f.path not in {m[1] for m in moved}]
    moved_ids = {m[0] for m in moved}
    going = [s.id for s in missing.values() if not s.offline and s.id not in moved_ids]
    online = sum(not s.offline for s in known.values())
    if len(going) > max(OFFLINE_STOP_MIN_PHOTOS, offline_max_share * online):
        raise TooManyOffline(
            f"{len(going)} of the {online} photos in the index are gone from PHOTOS_DIR {root} (more than "
            f"OFFLINE_MAX_SHARE={offline_max_share:g} of them); the scan stopped and changed nothing. Is a disk "
            "unmounted? If the files are really gone, run the scan again with a higher OFFLINE_MAX_SHARE "
            "(e.g. OFFLINE_MAX_SHARE=1 photoindex index): they are then marked offline, not deleted.")
    with db.connection() as conn:
        photo_rows.insert_new(conn, [(f.path, f.size, f.mtime, f.format) for f in new])
        photo_rows.touch(conn, touched)
        photo_rows.reset_changed(conn, [(pid, f.size, f.mtime, f.format, h) for pid, f, h in replaced])
        offline_rows.bring_back(conn, returned)
        offline_rows.move(conn, moved)
        offline_rows.mark(conn, going)
        expired = datetime.now(timezone.utc) - timedelta(days=offline_grace_days)
        removed = offline_rows.remove(conn, offline_before=expired) if offline_grace_days > 0 else []
        unsupported_rows.replace(conn, walk.unsupported, keep_under=walk.unreadable_dirs)
    return ScanReport(
        files=len(walk.files),
        new=len(new),
        changed=len(replaced),
        unchanged=len(walk.files) - len(new) - len(replaced) - len(moved),
        offline=len(going),
        returned=len(returned),
        moved=len(moved),
        removed=len(removed),
        unreadable_dirs=tuple(walk.unreadable_dirs),
        unsupported=len(walk.unsupported),
    )


def scan(db: Database, settings: Settings) -> ScanReport:
    """`scan_library` of PHOTOS_DIR with the settings' OFFLINE_MAX_SHARE and OFFLINE_GRACE_DAYS."""
    return scan_library(db, settings.photos_dir, offline_max_share=settings.offline_max_share,
                        offline_grace_days=settings.offline_grace_days)


def _match_moved(root: Path, new: list[LibraryFile], missing: dict[str, photo_rows.FileState]
                 ) -> list[tuple[int, str, float, str]]:
    """(photo id, new path, mtime, format) for new files holding the bytes of a missing photo.

    Only new files of the size of a missing photo are hashed; equal copies pair up in path order.
    """
    by_size: dict[int, list[tuple[str, photo_rows.FileState]]] = {}
    for path, state in sorted(missing.items()):
        if state.content_hash:
            by_size.setdefault(state.size, []).append((path, state))
    moved = []
    for f in new:
        candidates = by_size.get(f.size)
        if not candidates:
            continue
        digest = _hash_or_none(root, f.path)
        match = next((c for c in candidates if c[1].content_hash == digest), None)
        if match is not None:
            candidates.remove(match)
            moved.append((match[1].id, f.path, f.mtime, f.format))
    return moved


def _hash_or_none(root: Path, path: str) -> str | None:
    try:
        return file_hash(root / path, root=root)
    except OSError:
        return None


def _under_any(path: str, folders: list[str]) -> bool:
    parents = {p.as_posix() for p in PurePosixPath(path).parents}
    return any(folder in parents or folder == "" for folder in folders)
