"""The timeline's keyset pages, month counts and the library revision, on the real schema."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from engine.app import PhotoIndex
from engine.db.timeline import MOMENT
from engine.search.filters import SearchFilters


def _rows(engine: PhotoIndex, rows: list[tuple[str, str, datetime | None, float]]) -> dict[str, int]:
    """Photo rows as a scan plus metadata would leave them: (path, format, taken_at, mtime)."""
    with engine.db.connection() as conn:
        for path, fmt, taken, mtime in rows:
            conn.execute("INSERT INTO photos (path, size, mtime, format, taken_at, metadata_read)"
                         " VALUES (%s, 1, %s, %s, %s, true)", (path, mtime, fmt, taken))
        return {r["path"]: r["id"] for r in conn.execute("SELECT id, path FROM photos")}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def dated(engine: PhotoIndex) -> dict[str, int]:
    rows = [(f"2023/{m:02d}-{d}.jpg", "jpg", utc(2023, m, d, 12), 0.0) for m in (1, 3, 7) for d in (1, 2, 3)]
    rows += [("2024/a.heic", "heic", utc(2024, 5, 1, 9), 0.0), ("2024/b.heic", "heic", utc(2024, 5, 1, 9), 0.0),
             ("undated.png", "png", None, utc(2022, 6, 1).timestamp()),
             ("broken.jpg", "jpg", utc(2025, 1, 1), 0.0)]
    ids = _rows(engine, rows)
    with engine.db.connection() as conn:
        conn.execute("UPDATE photos SET index_failed = true WHERE path = 'broken.jpg'")
    return ids


def test_pages_walk_the_whole_library_newest_first_without_gaps(engine: PhotoIndex, dated: dict[str, int]) -> None:
    timeline = engine.library.timeline
    seen, before = [], None
    while True:
        page = timeline.page(before=before, limit=4)
        seen += page
        if len(page) < 4:
            break
        before = page[-1].cursor
    paths = [p.path for p in seen]
    assert len(paths) == len(set(paths)) == 12  # every photo once; the unreadable one is in Admin, not here
    assert paths[:2] == ["2024/b.heic", "2024/a.heic"]  # same moment: the later id first, stably
    assert paths[-1] == "undated.png"  # no EXIF date: its file time places it
    assert [p.at for p in seen] == sorted((p.at for p in seen), reverse=True)
    assert seen[-1].taken_at is None and seen[-1].at == utc(2022, 6, 1)

    back = timeline.newer(None, seen[6].cursor, limit=3)
    assert [p.id for p in back] == [p.id for p in seen[3:6]]  # the three just above, newest first
    assert [p.id for p in timeline.between(None, seen[2].cursor, seen[5].cursor, 100)] == [p.id for p in seen[2:6]]
    assert [p.id for p in timeline.between(None, None, seen[1].cursor, 100)] == [p.id for p in seen[:2]]


def test_months_jump_and_filters(engine: PhotoIndex, dated: dict[str, int]) -> None:
    timeline = engine.library.timeline
    months = timeline.months()
    assert [(m.month, m.count) for m in months] == [
        (date(2024, 5, 1), 2), (date(2023, 7, 1), 3), (date(2023, 3, 1), 3), (date(2023, 1, 1), 3),
        (date(2022, 6, 1), 1)]
    march = timeline.page(month=date(2023, 3, 1), limit=2)
    assert [p.path for p in march] == ["2023/03-3.jpg", "2023/03-2.jpg"]
    assert timeline.page(month=date(2023, 5, 1), limit=1)[0].path == "2023/03-3.jpg"  # an empty month: the next older

    heic = SearchFilters.of(formats=["HEIC"])
    assert [p.path for p in timeline.page(heic)] == ["2024/b.heic", "2024/a.heic"]
    assert [m.count for m in timeline.months(heic)] == [2]
    spring = SearchFilters.of(date_from=date(2023, 2, 1), date_to=date(2023, 3, 31))
    assert {p.path for p in timeline.page(spring)} == {"2023/03-1.jpg", "2023/03-2.jpg", "2023/03-3.jpg"}


def test_pages_are_read_through_the_timeline_index(engine: PhotoIndex, dated: dict[str, int]) -> None:
    """The keyset page is an ordered index scan (no sort) however deep it starts; a table this small
    would be read whole, so the planner is told to avoid that."""
    page = engine.library.timeline.page(limit=3)
    with engine.db.connection() as conn:
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_bitmapscan = off")
        conn.execute("SET enable_sort = off")
        plan = "\n".join(r["QUERY PLAN"] for r in conn.execute(
            f"EXPLAIN SELECT p.id FROM photos p WHERE NOT p.index_failed AND ({MOMENT}, p.id) < (%s, %s)"
            f" ORDER BY {MOMENT} DESC, p.id DESC LIMIT 200", (page[-1].at, page[-1].id)))
    assert "Index Scan Backward using photos_timeline_idx" in plan and "Sort" not in plan, plan


def test_revision_moves_with_every_change_and_only_then(engine: PhotoIndex, dated: dict[str, int]) -> None:
    start = engine.revision()
    assert engine.revision() == start  # reading does not move it
    engine.library.rotate(dated["2024/a.heic"], 90)
    rotated = engine.revision()
    assert rotated > start
    album = engine.library.albums.create("Trip", None, [dated["2024/b.heic"]])
    assert engine.revision() > rotated
    after_album = engine.revision()
    engine.library.albums.get(album.id)
    assert engine.revision() == after_album
