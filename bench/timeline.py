"""Timeline speed at library scale: time to the first page and to each page while scrolling.

N photo rows (dates spread over 20 years, 5% without a date, 10% HEIC) are bulk-loaded with
binary COPY into a fresh embedded database with the real schema (migration 009's timeline
index). Then, through the real code:

- first page: what the Timeline tab does when it opens (`TimelineView.load`: 200 photos, the
  month counts for the scrubber, the grid's items), and its two queries alone;
- scrolling: `TimelineView.older` page after page from the top, and the same keyset page read
  at increasing depths (a jump with the scrubber, then scrolling on);
- the peer, in the same run on the same rows: LIMIT/OFFSET paging in the same order (what the
  engine's `browse()` does, and what a timeline without a keyset would do) at the same depths;
- the same with the sidebar's format filter (HEIC, 10% of the rows);
- with `--browser`, the real page in headless Chromium: from navigation to the first thumbnails'
  cells in the DOM, and from scrolling to the end to the next page's cells.

    .venv/bin/python bench/timeline.py --n 100000 --browser
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # --browser serves the page with the tests' server helper
from common import BENCH_ROOT, CpuMeter, command, log, machine, revision, stop_embedded  # noqa: E402

from engine.app import PhotoIndex  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.db import filters as filter_sql  # noqa: E402
from engine.db import photos as photo_rows  # noqa: E402
from engine.db.database import Database, open_database  # noqa: E402
from engine.db.timeline import MOMENT, Cursor  # noqa: E402
from engine.search.filters import SearchFilters  # noqa: E402

PAGE = 200
DEPTHS = (0.0, 0.1, 0.5, 0.9)
"""Where the measured pages start, as a share of the library."""


def bulk_load(db: Database, n: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    start = datetime(2006, 1, 1, tzinfo=timezone.utc)
    seconds = rng.integers(0, 20 * 365 * 86400, size=n)
    undated = rng.random(n) < 0.05
    heic = rng.random(n) < 0.10
    started = time.perf_counter()
    with db.connection() as conn, conn.cursor() as cur:
        with cur.copy("COPY photos (id, path, size, mtime, format, taken_at, width, height, metadata_read)"
                      " FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "text", "int8", "float8", "text", "timestamptz", "int4", "int4", "bool"])
            for i in range(n):
                taken = None if undated[i] else start + timedelta(seconds=int(seconds[i]))
                mtime = (start + timedelta(seconds=int(seconds[i]) + 3600)).timestamp()
                fmt = "heic" if heic[i] else "jpg"
                copy.write_row((i + 1, f"library/{i // 1000:03d}/{i:07d}.{fmt}", 2_000_000, mtime, fmt, taken,
                                4000, 3000, True))
        cur.execute("SELECT setval('photos_id_seq', %s)", (n,))
        cur.execute("ANALYZE photos")
    return time.perf_counter() - started


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(1000 * (time.perf_counter() - started))
    return times, result


def row(what: str, times: list[float], cpu: CpuMeter | None = None, note: str = "") -> str:
    p50 = statistics.median(times)
    p95 = float(np.percentile(times, 95)) if len(times) > 1 else p50
    other = f"{cpu.other_cores:.2f}" if cpu else "—"
    return f"| {what} | {len(times)} | {p50:.1f} | {p95:.1f} | {other} | {note} |"


def offset_page(engine: PhotoIndex, depth: int, flt: SearchFilters | None) -> list[Any]:
    """The peer: the same order, paged by OFFSET."""
    conditions, params = filter_sql.where(flt, "p")
    where = " AND ".join(["NOT p.index_failed", *conditions])
    with engine.db.connection() as conn:
        return conn.execute(f"SELECT p.id FROM photos p WHERE {where} ORDER BY {MOMENT} DESC, p.id DESC"
                            " LIMIT %s OFFSET %s", (*params, PAGE, depth)).fetchall()


def cursor_at(engine: PhotoIndex, depth: int, flt: SearchFilters | None) -> Cursor | None:
    """The keyset cursor of the photo just above `depth` (set up outside the timing)."""
    if depth == 0:
        return None
    with engine.db.connection() as conn:
        p = photo_rows.get(conn, offset_page(engine, depth - 1, flt)[0]["id"])
    return Cursor(p.taken_at or datetime.fromtimestamp(p.mtime, timezone.utc), p.id)


def measure_sql(engine: PhotoIndex, pgdata: Path, flt: SearchFilters | None, label: str, repeat: int,
                n: int) -> list[str]:
    timeline = engine.library.timeline
    rows = []
    with CpuMeter(pgdata) as cpu:
        times, _ = timed(lambda: timeline.page(flt, limit=PAGE), repeat)
    rows.append(row(f"{label}first page, 200 photos (keyset)", times, cpu))
    with CpuMeter(pgdata) as cpu:
        times, months = timed(lambda: timeline.months(flt), repeat)
    rows.append(row(f"{label}month counts for the scrubber", times, cpu, f"{len(months)} months"))
    shown = sum(m.count for m in months)
    for share in DEPTHS:
        depth = int(share * shown)
        cursor = cursor_at(engine, depth, flt)
        with CpuMeter(pgdata) as cpu:
            keyset, page = timed(lambda: timeline.page(flt, before=cursor, limit=PAGE), repeat)
        with CpuMeter(pgdata) as peer_cpu:
            offset, ref = timed(lambda: offset_page(engine, depth, flt), repeat)
        assert [p.id for p in page] == [r["id"] for r in ref], "keyset and offset pages differ"
        rows.append(row(f"{label}page at depth {depth:,}: keyset (ours)", keyset, cpu))
        rows.append(row(f"{label}page at depth {depth:,}: OFFSET (peer)", offset, peer_cpu,
                        f"OFFSET p50 / keyset p50 = {statistics.median(offset) / max(statistics.median(keyset), 1e-6):.1f}"))
    return rows


def measure_view(engine: PhotoIndex, pgdata: Path, repeat: int, pages: int) -> list[str]:
    from dashboard.views.common import Context
    from dashboard.views.timeline import TimelineView

    ctx = Context(engine)
    rows = []
    with CpuMeter(pgdata) as cpu:
        times, _ = timed(lambda: TimelineView(ctx).load(), repeat)
    rows.append(row("TimelineView.load (page + months + grid items)", times, cpu))
    view = TimelineView(ctx)
    view.load()
    per_page = []
    with CpuMeter(pgdata) as cpu:
        for _ in range(pages):
            started = time.perf_counter()
            view.older()
            per_page.append(1000 * (time.perf_counter() - started))
    rows.append(row(f"TimelineView.older, {pages} pages in a row (scrolling)", per_page, cpu,
                    f"window {len(view.photos)} photos"))
    view.jump("2008-03")
    deep = []
    with CpuMeter(pgdata) as cpu:
        for _ in range(pages):
            started = time.perf_counter()
            view.older()
            deep.append(1000 * (time.perf_counter() - started))
    rows.append(row("TimelineView.jump to 2008-03, then older × pages", deep, cpu))
    return rows


def measure_browser(engine: PhotoIndex, repeat: int) -> list[str]:
    from playwright.sync_api import sync_playwright

    from dashboard.server import create_app
    from tests.fakes.servers import serve

    count_cells = ("() => { let n = 0; const walk = r => r.querySelectorAll('*').forEach(e => {"
                   " if (e.shadowRoot) walk(e.shadowRoot); if (e.classList.contains('cell')) n++; });"
                   " walk(document); return n; }")
    first, scroll = [], []
    with serve(create_app(engine=engine)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        for _ in range(repeat):
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.route("**/image/**", lambda route: route.fulfill(status=204))  # no files behind the rows
            started = time.perf_counter()
            page.goto(url + "/", wait_until="commit")
            page.wait_for_function(f"() => ({count_cells})() >= {PAGE}", timeout=120_000, polling=20)
            first.append(1000 * (time.perf_counter() - started))
            for k in range(2, 6):
                started = time.perf_counter()
                page.evaluate("() => { const m = document.getElementById('main'); m.scrollTop = m.scrollHeight; }")
                page.wait_for_function(f"() => ({count_cells})() >= {PAGE * k}", timeout=60_000, polling=20)
                scroll.append(1000 * (time.perf_counter() - started))
            page.close()
        browser.close()
    return [row("browser: navigation → first 200 cells in the DOM", first),
            row("browser: scrolled to the end → next 200 cells", scroll)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="photo rows")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--pages", type=int, default=25, help="pages scrolled in a row")
    parser.add_argument("--browser", action="store_true", help="also measure the page in headless Chromium")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    BENCH_ROOT.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(dir=BENCH_ROOT, prefix="timeline-run-"))
    settings = Settings(_env_file=None, data_dir=run_dir, database_url=None, photos_dir=run_dir / "library",
                        index_on_start=False, map_tiles_url="")
    (run_dir / "library").mkdir()
    db = open_database(settings)
    pgdata = settings.embedded_db_dir.resolve()
    engine = PhotoIndex(settings, db)
    try:
        log(f"loading {args.n:,} photo rows")
        load_s = bulk_load(db, args.n, args.seed)
        log(f"loaded in {load_s:.1f} s")
        rows = measure_sql(engine, pgdata, None, "", args.repeat, args.n)
        rows += measure_sql(engine, pgdata, SearchFilters.of(formats=["HEIC"]), "HEIC only: ", args.repeat, args.n)
        rows += measure_view(engine, pgdata, args.repeat, args.pages)
        if args.browser:
            log("browser")
            rows += measure_browser(engine, max(2, args.repeat // 5))
    finally:
        engine.close()
        stop_embedded(settings)
        shutil.rmtree(run_dir, ignore_errors=True)

    print(f"\n### Timeline: {args.n:,} photos, pages of {PAGE}, engine {revision()}\n")
    print(f"- machine: {machine()}")
    print(f"- bulk load (binary COPY + ANALYZE): {load_s:.1f} s; dates over 20 years, 5% undated, 10% HEIC")
    print("- ms per call, one connection at a time; \"other load\": cores used meanwhile by other processes\n")
    print("| what | calls | p50 ms | p95 ms | other load (cores) | note |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\n```\n{command()}\n```")


if __name__ == "__main__":
    main()
