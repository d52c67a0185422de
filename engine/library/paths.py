"""Turning user-supplied or stored paths into files that are guaranteed to be inside a root."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from engine.errors import Forbidden, NotFound


class OutsideLibrary(Forbidden):
    pass


class FileMissing(NotFound):
    """The index knows a photo whose file is gone from the library."""


def resolve_inside(root: Path, relative: str | Path) -> Path:
    """`root / relative`, refusing absolute paths, `..` and symlinks that lead out of `root`."""
    rel = PurePosixPath(str(relative).replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts or str(rel) in ("", "."):
        raise OutsideLibrary(f"path {str(relative)!r} is not a path inside the library")
    root = root.resolve()
    candidate = (root / rel).resolve()
    if candidate != root and root not in candidate.parents:
        raise OutsideLibrary(f"path {str(relative)!r} leads outside the library")
    return candidate


def relative_inside(root: Path, path: Path) -> str:
    """The library-relative POSIX form of an absolute `path` that must lie inside `root`."""
    root = root.resolve()
    resolved = path.resolve()
    if root not in resolved.parents:
        raise OutsideLibrary(f"{path} is not inside the library {root}")
    return resolved.relative_to(root).as_posix()


_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NOFOLLOW = os.O_NOFOLLOW
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a FIFO must not hang the open


def open_inside(root: Path, path: str | Path) -> BinaryIO:
    """Open a library file for reading, refusing a symbolic link anywhere below `root`.

    `path` is relative to `root`, or an absolute path under it. Every folder on the way and the
    file itself are opened relative to the one before with O_NOFOLLOW, so a link swapped in after
    the scan (for the file, or for a whole folder, pointing outside the library) is refused at the
    moment of opening, not at an earlier check. Only a regular file opens (never a FIFO or a device).
    """
    rel = _relative(root, path)
    fd = os.open(root, _DIR)
    for part in rel.parts[:-1]:
        fd = _openat(fd, part, _DIR | _NOFOLLOW, path)
    fd = _openat(fd, rel.parts[-1], _FILE, path)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OutsideLibrary(f"{str(path)!r} is not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_inside(root: Path, path: str | Path) -> bytes:
    """The bytes of a library file, opened by `open_inside`."""
    with open_inside(root, path) as fh:
        return fh.read()


def _relative(root: Path, path: str | Path) -> PurePosixPath:
    try:
        rel = PurePosixPath(Path(path).relative_to(root).as_posix() if Path(path).is_absolute()
                            else str(path).replace("\\", "/"))
    except ValueError:
        raise OutsideLibrary(f"{str(path)!r} is not inside the library {root}") from None
    if rel.is_absolute() or ".." in rel.parts or str(rel) in ("", "."):
        raise OutsideLibrary(f"path {str(path)!r} is not a path inside the library")
    return rel


def _openat(dir_fd: int, name: str, flags: int, path: str | Path) -> int:
    """Open `name` in the folder `dir_fd`, which is closed whatever happens."""
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(dir_fd, name):
            raise OutsideLibrary(f"{str(path)!r} goes through a symbolic link; refused") from None
        raise
    finally:
        os.close(dir_fd)


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False
