"""Library scan: compare the files under PHOTOS_DIR with the index (new, changed, deleted).

A missing, unmounted or empty library root stops the scan before anything is marked deleted,
and photos under a folder that could not be read are kept: an unreadable disk is not a delete.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from engine.db.database import Database
from engine.db import photos as photo_rows
from engine.db import unsupported as unsupported_rows
from engine.db.unsupported import UnsupportedFile
from engine.errors import Unavailable
from engine.media.formats import format_of, unsupported_reason
from engine.runtime.hashing import file_hash

log = logging.getLogger(__name__)

_SKIPPED_DIRS = {"@eaDir", "#recycle", "$RECYCLE.BIN", "System Volume Information", "__MACOSX"}


class LibraryUnavailable(Unavailable):
    """The library root is missing or empty while the index holds photos: nothing is deleted."""


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
    deleted: int
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
        raise LibraryUnavailable(f"PHOTOS_DIR {root} does not exist (unmounted disk?); the scan stopped and nothing was marked deleted.")
    if not root.is_dir():
        raise LibraryUnavailable(f"PHOTOS_DIR {root} is not a folder; the scan stopped.")
    if not os.access(root, os.R_OK | os.X_OK):
        raise LibraryUnavailable(f"PHOTOS_DIR {root} cannot be read; the scan stopped and nothing was marked deleted.")


def scan_library(db: Database, root: Path) -> ScanReport:
    """Bring the photos table in line with the files under `root`."""
    root = root.resolve()
    check_library_root(root)
    walk = walk_library(root)
    with db.connection() as conn:
        known = photo_rows.file_states(conn)
    if not walk.files and known:
        raise LibraryUnavailable(
            f"PHOTOS_DIR {root} holds no photos but the index has {len(known)}; "
            "the scan stopped and nothing was marked deleted (is the disk mounted?)."
        )

    new: list[LibraryFile] = []
    touched: list[tuple[int, float]] = []
    replaced: list[tuple[int, LibraryFile, str | None]] = []
    seen: set[str] = set()
    for f in walk.files:
        seen.add(f.path)
        state = known.get(f.path)
        if state is None:
            new.append(f)
        elif state.size != f.size or state.mtime != f.mtime:
            new_hash = _hash_or_none(root / f.path) if state.content_hash else None
            if new_hash is not None and new_hash == state.content_hash:
                touched.append((state.id, f.mtime))
            else:
                replaced.append((state.id, f, new_hash))

    gone = [
        state.id
        for path, state in known.items()
        if path not in seen and not _under_any(path, walk.unreadable_dirs)
    ]
    with db.connection() as conn:
        photo_rows.insert_new(conn, [(f.path, f.size, f.mtime, f.format) for f in new])
        photo_rows.touch(conn, touched)
        photo_rows.reset_changed(conn, [(pid, f.size, f.mtime, f.format, h) for pid, f, h in replaced])
        photo_rows.delete(conn, gone)
        unsupported_rows.replace(conn, walk.unsupported, keep_under=walk.unreadable_dirs)
    return ScanReport(
        files=len(walk.files),
        new=len(new),
        changed=len(replaced),
        unchanged=len(walk.files) - len(new) - len(replaced),
        deleted=len(gone),
        unreadable_dirs=tuple(walk.unreadable_dirs),
        unsupported=len(walk.unsupported),
    )


def _hash_or_none(path: Path) -> str | None:
    try:
        return file_hash(path)
    except OSError:
        return None


def _under_any(path: str, folders: list[str]) -> bool:
    parents = {p.as_posix() for p in PurePosixPath(path).parents}
    return any(folder in parents or folder == "" for folder in folders)
