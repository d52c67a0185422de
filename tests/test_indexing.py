"""Indexing a library into PostgreSQL: formats, bad files, incremental runs, deletion guards."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PIL import Image

from engine.app import PhotoIndex
from engine.db.database import open_database
from engine.runtime.cluster import ClusterHandle
from engine.db import photos as photo_rows
from engine.db.embeddings import table_name
from engine.indexing.scan import LibraryUnavailable
from tests.conftest import TEST_MODEL, make_settings
from tests.fixtures import make_bad_files, make_jpeg, make_library

TABLE = table_name(TEST_MODEL)


def counts(engine: PhotoIndex) -> dict[str, int]:
    with engine.db.connection() as conn:
        row = conn.execute(
            f"SELECT (SELECT count(*) FROM photos) AS photos,"
            f" (SELECT count(*) FROM photos WHERE index_failed) AS failed,"
            f" (SELECT count(*) FROM photos WHERE metadata_read) AS read,"
            f" (SELECT count(*) FROM {TABLE}) AS vectors,"
            f" (SELECT count(DISTINCT path) FROM photos) AS distinct_paths"
        ).fetchone()
    return dict(row)


def test_indexes_every_format_and_flags_bad_files(engine: PhotoIndex, library: Path) -> None:
    good = make_library(library)
    bad = make_bad_files(library / "bad")

    report = engine.index()

    assert report.scan is not None and report.scan.new == len(good) + len(bad)
    assert report.indexed == len(good)
    assert report.failed == len(bad)
    c = counts(engine)
    assert c == {"photos": len(good) + len(bad), "failed": len(bad), "read": len(good),
                 "vectors": len(good), "distinct_paths": len(good) + len(bad)}
    with engine.db.connection() as conn:
        failed = {p.path.split("/")[-1]: p.fail_reason for p in photo_rows.failed(conn)}
    assert set(failed) == set(bad)
    for name, keyword in bad.items():
        assert keyword.lower() in failed[name].lower(), (name, failed[name])


def test_metadata_is_stored(engine: PhotoIndex, library: Path) -> None:
    good = make_library(library)
    engine.index()
    rel = good["jpg"].relative_to(library).as_posix()
    with engine.db.connection() as conn:
        photo = photo_rows.get_by_path(conn, rel)
    assert photo is not None and photo.format == "jpg"
    assert photo.latitude is not None and photo.longitude is not None
    assert photo.taken_at is not None
    assert photo.camera
    assert photo.content_hash and len(photo.content_hash) == 32
    assert (photo.width, photo.height) == (800, 600)  # as displayed: stored 600x800 with orientation 6
    assert photo.exif_data.get("Orientation") == 6


def test_second_run_has_nothing_to_do(engine: PhotoIndex, library: Path) -> None:
    make_library(library)
    make_bad_files(library / "bad")
    engine.index()
    before = counts(engine)

    again = engine.index()

    assert again.scan is not None
    assert (again.scan.new, again.scan.changed, again.scan.offline) == (0, 0, 0)
    assert (again.indexed, again.failed) == (0, 0)
    assert counts(engine) == before


def test_incremental_changes(engine: PhotoIndex, library: Path) -> None:
    files = [make_jpeg(library / f"p{i}.jpg", color=(40 * i, 100, 200)) for i in range(4)]
    engine.index()
    with engine.db.connection() as conn:
        old = {p: photo_rows.get_by_path(conn, p.name) for p in files}

    make_jpeg(library / "new.jpg", color=(10, 250, 10))
    make_jpeg(files[0], size=(500, 300), color=(250, 0, 0))  # new content under the same name
    os.utime(files[1], (time.time() + 100, time.time() + 100))  # touched, same bytes
    files[2].unlink()

    report = engine.index()

    assert report.scan is not None
    assert (report.scan.new, report.scan.changed, report.scan.offline) == (1, 1, 1)
    assert report.indexed == 2
    with engine.db.connection() as conn:
        changed = photo_rows.get_by_path(conn, files[0].name)
        touched = photo_rows.get_by_path(conn, files[1].name)
        assert photo_rows.get_by_path(conn, files[2].name).offline_since is not None  # kept, marked offline
    assert changed.id == old[files[0]].id and changed.content_hash != old[files[0]].content_hash
    assert (changed.width, changed.height) == (500, 300)
    assert touched.content_hash == old[files[1]].content_hash
    assert counts(engine)["vectors"] == 5  # the offline photo keeps its vector


@pytest.mark.parametrize("how", ["missing", "empty"])
def test_unavailable_library_never_deletes(engine: PhotoIndex, library: Path, how: str) -> None:
    make_library(library)
    engine.index()
    before = counts(engine)
    for path in sorted(library.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    if how == "missing":
        library.rmdir()

    with pytest.raises(LibraryUnavailable, match="nothing was marked offline"):
        engine.index()

    assert counts(engine) == before


def test_testdata_files_index_or_are_flagged(engine: PhotoIndex, testdata: Path) -> None:
    """Every real-world file under shared/testdata either indexes or is flagged with a reason."""
    engine.settings.photos_dir = testdata
    engine.settings.max_image_pixels = 100_000_000
    report = engine.index()

    c = counts(engine)
    assert report.scan is not None and report.scan.files == c["photos"] > 0
    assert c["read"] + c["failed"] == c["photos"]
    assert c["vectors"] == c["read"]
    with engine.db.connection() as conn:
        assert all(p.fail_reason for p in photo_rows.failed(conn, limit=10_000))
        big = conn.execute("SELECT fail_reason FROM photos WHERE path LIKE '%%heic%%' AND fail_reason LIKE '%%large%%'").fetchall()
    assert report.failed == c["failed"]
    assert big, "the 200-megapixel HEIC must be refused by the pixel cap"


def test_without_a_model_metadata_is_still_indexed(engine: PhotoIndex, library: Path) -> None:
    good = make_library(library)
    make_bad_files(library / "bad")
    engine.settings.model_paths = {}
    engine.settings.models_dir = library / "no-models-here"

    report = engine.index()

    assert report.models == () and len(report.warnings) == 1 and "MODEL_PATHS" in report.warnings[0]
    c = counts(engine)
    assert (c["read"], c["vectors"]) == (len(good), 0)
    assert c["failed"] == report.failed > 0


def test_a_stalling_file_is_stopped_and_the_run_goes_on(engine: PhotoIndex, library: Path) -> None:
    """A decoder that makes no progress within DECODE_TIMEOUT_S is stopped (its worker restarted);
    the file is flagged and every other file is indexed. Here a huge-but-valid PNG stands in for a
    hung decoder against a very short timeout."""
    for i in range(6):
        make_jpeg(library / f"warm{i}.jpg", size=(160, 120), color=(30 * i, 60, 90))
    engine.index()  # warm workers and the model, so only the slow file misses the deadline
    for i in range(6):
        make_jpeg(library / f"small{i}.jpg", size=(160, 120), color=(90, 30 * i, 60))
    Image.new("RGB", (12000, 8000), (10, 200, 30)).save(library / "huge.png", compress_level=1)
    engine.settings.decode_timeout_s = 0.4

    report = engine.index()

    assert (report.indexed, report.failed) == (6, 1)
    with engine.db.connection() as conn:
        (failed,) = photo_rows.failed(conn)
    assert failed.path == "huge.png" and "did not finish" in failed.fail_reason
    assert counts(engine)["vectors"] == 12


def test_a_file_that_kills_its_decoder_is_flagged(tmp_path: Path, database_url: str, library: Path,
                                                   clip_model_dir: Path) -> None:
    """A decoder process that dies on a file (here: killed for exceeding its memory limit) costs
    that file only: the batch is retried file by file and the culprit flagged."""
    settings = make_settings(tmp_path, database_url, library, clip_model_dir,
                             dask_decode_workers=1, dask_decode_memory_limit="400MB")
    for i in range(5):
        make_jpeg(library / f"ok{i}.jpg", size=(160, 120), color=(40 * i, 60, 90))
    Image.new("RGB", (12000, 12000), (10, 200, 30)).save(library / "ok2-killer.png", compress_level=1)
    cluster = ClusterHandle(settings)
    engine = PhotoIndex(settings, open_database(settings), cluster=cluster)
    try:
        report = engine.index()
        with engine.db.connection() as conn:
            (failed,) = photo_rows.failed(conn)
    finally:
        engine.close()
        cluster.close()
    assert (report.indexed, report.failed) == (5, 1)
    assert failed.path == "ok2-killer.png" and "crashed" in failed.fail_reason
