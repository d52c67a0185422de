"""Perceptual hashes (an indexing stage on Dask), duplicate groups and keep-best deletion."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.indexing.scan import scan_library
from engine.library.duplicates import DuplicatePhoto, best_first
from engine.library.phash import hamming
from tests.fixtures import make_bad_files
from tests.library_fixtures import ids_by_path, make_scene, sha256


@pytest.fixture
def scenes(library: Path) -> dict[str, Path]:
    a = make_scene(library / "2020" / "a.jpg", (800, 600), seed=1, taken_at=datetime(2020, 5, 1, 12))
    copy = library / "backup" / "a copy.jpg"
    copy.parent.mkdir(parents=True)
    shutil.copyfile(a, copy)
    small = library / "web" / "a_small.jpg"
    small.parent.mkdir(parents=True)
    Image.open(a).resize((400, 300), Image.Resampling.LANCZOS).save(small, "JPEG", quality=80)
    older = make_scene(library / "2019" / "a_older.jpg", (800, 600), seed=1, quality=75, taken_at=datetime(2019, 1, 1))
    other = make_scene(library / "2021" / "b.jpg", (800, 600), seed=2, taken_at=datetime(2021, 1, 1))
    third = make_scene(library / "2021" / "c.jpg", (640, 480), seed=3)
    return {"a": a, "copy": copy, "small": small, "older": older, "b": other, "c": third}


@pytest.fixture
def client(engine: PhotoIndex, scenes: dict[str, Path]) -> Iterator[TestClient]:
    engine.indexer.run([], scan=True)
    with TestClient(create_app(engine=engine)) as c:
        yield c


def phashes(engine: PhotoIndex) -> dict[str, str | None]:
    with engine.db.connection() as conn:
        return {r["path"]: r["phash"] for r in conn.execute("SELECT path, phash FROM photos WHERE phash_indexed")}


def test_phash_stage_flags_resumes_and_follows_changes(engine: PhotoIndex, scenes: dict[str, Path], library: Path) -> None:
    make_bad_files(library / "bad")
    scan_library(engine.db, library)
    report = engine.library.index_phash()
    assert report.hashed == len(scenes) and report.failed == 6  # every hostile file is tried once
    hashes = phashes(engine)
    assert len(hashes) == len(scenes) + 6
    assert all(len(h) == 256 and set(h) <= {"0", "1"} for p, h in hashes.items() if not p.startswith("bad/"))
    assert all(h is None for p, h in hashes.items() if p.startswith("bad/"))
    assert hashes["2020/a.jpg"] == hashes["backup/a copy.jpg"]
    assert hamming(hashes["2020/a.jpg"], hashes["web/a_small.jpg"]) <= 24
    assert hamming(hashes["2020/a.jpg"], hashes["2021/b.jpg"]) > 60

    assert engine.library.index_phash().hashed == 0  # nothing pending: a second run does no work

    make_scene(scenes["a"], (800, 600), seed=7)  # new bytes under a known path
    scan_library(engine.db, library)
    assert "2020/a.jpg" not in phashes(engine)
    assert engine.library.index_phash().hashed == 1
    assert hamming(phashes(engine)["2020/a.jpg"], hashes["2020/a.jpg"]) > 60


def test_keep_best_rule() -> None:
    def photo(i: int, w: int, h: int, taken: datetime | None, mtime: float = 0.0) -> DuplicatePhoto:
        return DuplicatePhoto(i, f"{i}.jpg", "jpg", 1, w, h, taken, mtime)

    group = [photo(1, 400, 300, datetime(2010, 1, 1)), photo(2, 800, 600, datetime(2021, 1, 1)),
             photo(3, 800, 600, datetime(2020, 1, 1)), photo(4, 800, 600, None, mtime=1.7e9)]
    assert [p.id for p in best_first(group)] == [3, 2, 4, 1]  # resolution, then oldest (taken, else file time: 4 is from 2023)
    assert [p.id for p in best_first([photo(5, 10, 10, None), photo(4, 10, 10, None)])] == [4, 5]


def test_duplicates_api_groups_and_deletes_extras(client: TestClient, engine: PhotoIndex, scenes: dict[str, Path],
                                                  library: Path) -> None:
    engine.library.index_phash()
    ids = ids_by_path(engine)
    a, copy, small, older = (ids[scenes[k].relative_to(library).as_posix()] for k in ("a", "copy", "small", "older"))

    exact = client.post("/duplicates", json={"method": "phash", "max_distance": 0}).json()
    groups = [{p["id"] for p in g["photos"]} for g in exact["groups"]]
    assert any({a, copy} <= g for g in groups)
    assert all(ids["2021/b.jpg"] not in g and ids["2021/c.jpg"] not in g for g in groups)

    near = client.post("/duplicates", json={"method": "phash", "max_distance": 24}).json()
    assert near["total_groups"] == 1
    (group,) = near["groups"]
    assert {p["id"] for p in group["photos"]} == {a, copy, small, older}
    assert group["keep_id"] == older  # full resolution and the oldest date taken
    assert [p["keep"] for p in group["photos"]] == [True, False, False, False]
    assert near["total_extras"] == 3 and near["extra_bytes"] > 0

    before = {k: sha256(p) for k, p in scenes.items()}
    dry = client.request("DELETE", "/duplicates", json={"method": "phash", "max_distance": 24})
    assert dry.status_code == 200 and dry.json()["dry_run"] and dry.json()["deleted"] == 0
    assert all(p.is_file() for p in scenes.values())

    done = client.request("DELETE", "/duplicates", json={"method": "phash", "max_distance": 24, "dry_run": False}).json()
    assert done["deleted"] == 3 and {t["photo_id"] for t in done["trashed"]} == {a, copy, small}
    assert scenes["older"].is_file() and scenes["b"].is_file() and scenes["c"].is_file()
    trash = engine.settings.resolved_trash_dir
    for key in ("a", "copy", "small"):
        assert not scenes[key].exists()
        assert sha256(trash / scenes[key].relative_to(library)) == before[key]
    assert client.post("/duplicates", json={"max_distance": 24}).json()["total_groups"] == 0

    # a restored copy comes back with its hash: the group is found again without re-hashing
    copy_item = next(t for t in done["trashed"] if t["photo_id"] == copy)
    assert client.post("/trash/restore", json={"trash_ids": [copy_item["trash_id"]]}).status_code == 200
    assert sha256(scenes["copy"]) == before["copy"]
    again = client.post("/duplicates", json={"max_distance": 24}).json()
    assert [{p["id"] for p in g["photos"]} for g in again["groups"]] == [{copy, older}]


def test_duplicates_by_embedding(engine: PhotoIndex, scenes: dict[str, Path], library: Path) -> None:
    engine.index()  # the tiny test model's vectors
    with TestClient(create_app(engine=engine)) as client:
        answer = client.post("/duplicates", json={"method": "clip", "threshold": 0.9999})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["model"] == engine.settings.clip_model
        ids = ids_by_path(engine)
        groups = [{p["id"] for p in g["photos"]} for g in body["groups"]]
        pair = {ids["2020/a.jpg"], ids["backup/a copy.jpg"]}  # identical bytes, identical vectors
        assert any(pair <= g for g in groups)
        assert all(g["closeness"] >= 0.9999 for g in body["groups"])
        assert client.post("/duplicates", json={"method": "clip", "model": "ViT-L/14"}).json()["total_groups"] == 0
        assert client.post("/duplicates", json={"method": "clip", "model": "nope"}).status_code == 400
        assert client.post("/duplicates", json={"method": "md5"}).status_code == 422
