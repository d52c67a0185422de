"""Turning user-supplied or stored paths into files that are guaranteed to be inside a root."""
from __future__ import annotations

from pathlib import Path, PurePosixPath

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
