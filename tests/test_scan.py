"""The library scan streams: it holds at most one batch of files at a time (a million-file library
scans in bounded memory), and a scan that stops midway, even killed, changes nothing."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.config import Settings
from engine.db import scan as scan_rows
from engine.db import unsupported as unsupported_rows
from engine.db.database import Database, open_database
from engine.indexing import scan
from engine.indexing.scan import scan_library
from engine.runtime.hashing import file_hash

BATCH = 5


@pytest.fixture
def db(tmp_path: Path, database_url: str, library: Path) -> Iterator[Database]:
    database = open_database(Settings(_env_file=None, data_dir=tmp_path / "data", database_url=database_url,
                                      photos_dir=library))
    yield database
    database.close()


def _fill(library: Path) -> None:
    """23 photos (distinct bytes) in three folders and 3 videos the index does not take."""
    for i in range(12):
        _write(library / "a" / f"{i:02d}.jpg", f"a{i}")
    for i in range(9):
        _write(library / "c" / f"{i:02d}.jpg", f"c{i}")
    for i in range(2):
        _write(library / f"top{i}.png", f"top{i}")
    for i in range(3):
        _write(library / "clips" / f"{i}.mov", f"clip{i}")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() * 10)


def _photos(db: Database) -> dict[str, dict]:
    with db.connection() as conn:
        rows = conn.execute("SELECT id, path, size, offline_since IS NOT NULL AS offline FROM photos").fetchall()
    return {r.pop("path"): r for r in rows}


def _hash_all(db: Database, library: Path) -> None:
    """What the index stage does for every decoded photo: remember its bytes' hash (moves are matched by it)."""
    with db.connection() as conn:
        for path in _photos(db):
            conn.execute("UPDATE photos SET content_hash = %s WHERE path = %s", (file_hash(library / path), path))


class Held:
    """Counts the files the walk has yielded that have not yet gone to the database, and the rows
    each page read back from it holds."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.yielded = self.written = 0
        self.most_held = 0
        self.writes = 0
        self.pages: dict[str, list[int]] = {}
        walk = scan.iter_library

        def counted_walk(root: Path, unreadable: list[str]) -> Iterator:
            for item in walk(root, unreadable):
                self.yielded += 1
                yield item

        monkeypatch.setattr(scan, "iter_library", counted_walk)
        for module, name in ((scan_rows, "add_files"), (unsupported_rows, "add_staged")):
            monkeypatch.setattr(module, name, self._written(getattr(module, name)))
        for name in ("changed_page", "move_candidates_page", "missing_with"):
            monkeypatch.setattr(scan_rows, name, self._paged(name, getattr(scan_rows, name)))

    def _written(self, write: Callable) -> Callable:
        def counted(conn, rows):
            self.most_held = max(self.most_held, self.yielded - self.written)
            self.written += len(rows)
            self.writes += 1
            return write(conn, rows)
        return counted

    def _paged(self, name: str, read: Callable) -> Callable:
        def counted(*args):
            rows = read(*args)
            self.pages.setdefault(name, []).append(len(rows))
            return rows
        return counted


def test_the_scan_holds_at_most_one_batch_of_files(db: Database, library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(library)
    held = Held(monkeypatch)
    report = scan_library(db, library, batch_size=BATCH)
    assert (report.files, report.new, report.unsupported) == (23, 23, 3)
    assert held.yielded == held.written == 26
    assert held.most_held == BATCH  # the walk is never more than one batch ahead of the database
    assert held.writes == 2 * 6  # 26 files in 6 batches, photos and unsupported files each
    first = _photos(db)
    assert len(first) == 23 and not any(r["offline"] for r in first.values())

    _hash_all(db, library)
    (library / "b").mkdir()
    shutil.move(library / "a", library / "b" / "a")  # 12 moved: more than two batches to match
    for i in range(7):
        _write(library / "c" / f"{i:02d}.jpg", f"new bytes {i}")  # 7 changed
    for i in (7, 8):
        (library / "c" / f"{i:02d}.jpg").unlink()  # 2 gone
    _write(library / "c" / "new.jpg", "a brand new photo")
    held = Held(monkeypatch)
    report = scan_library(db, library, batch_size=BATCH)

    assert (report.files, report.moved, report.changed, report.offline, report.new, report.unchanged) == (22, 12, 7, 2, 1, 2)
    assert held.most_held <= BATCH
    assert max(n for sizes in held.pages.values() for n in sizes) == BATCH
    assert held.pages["move_candidates_page"] == [5, 5, 2, 0] and held.pages["changed_page"] == [5, 2, 0]
    after = _photos(db)
    assert {p: r["id"] for p, r in after.items() if p.startswith("b/a/")} == \
        {f"b/{p}": r["id"] for p, r in first.items() if p.startswith("a/")}  # moved photos keep their rows
    assert {p for p, r in after.items() if r["offline"]} == {"c/07.jpg", "c/08.jpg"}
    assert len(after) == 24


def test_photos_under_an_unreadable_folder_stay(db: Database, library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(library)
    scan_library(db, library, batch_size=BATCH)
    scandir = os.scandir

    def refusing(folder):
        if Path(folder).name == "c":
            raise PermissionError(13, "Permission denied", str(folder))
        return scandir(folder)

    monkeypatch.setattr(scan.os, "scandir", refusing)
    report = scan_library(db, library, batch_size=BATCH)
    assert report.unreadable_dirs == ("c",) and (report.offline, report.files) == (0, 14)
    assert not any(r["offline"] for r in _photos(db).values())


_KILLED_SCAN = """
import os, signal, sys
from pathlib import Path
from engine.config import Settings
from engine.db import scan as scan_rows
from engine.db.database import open_database
from engine.indexing.scan import scan_library

add_files, batches = scan_rows.add_files, []
def add_then_die(conn, rows):
    batches.append(rows)
    if len(batches) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    add_files(conn, rows)
scan_rows.add_files = add_then_die
library = Path(sys.argv[2])
db = open_database(Settings(_env_file=None, data_dir=library.parent / "data", database_url=sys.argv[1], photos_dir=library))
scan_library(db, library, batch_size=int(sys.argv[3]))
"""


def test_a_scan_killed_midway_changed_nothing_and_the_next_one_finishes(
        db: Database, library: Path, database_url: str) -> None:
    _fill(library)
    killed = subprocess.run([sys.executable, "-c", _KILLED_SCAN, database_url, str(library), str(BATCH)],
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr
    assert _photos(db) == {}

    report = scan_library(db, library, batch_size=BATCH)
    assert report.new == 23 and len(_photos(db)) == 23
    again = scan_library(db, library, batch_size=BATCH)
    assert (again.new, again.unchanged, again.changed, again.moved) == (0, 23, 0, 0)
