"""The pHash stage (hashes and signatures on Dask, then comparison), duplicate groups with their
reasons through REST and the CLI, the keeper rule and choice, deletion that spares review groups."""
from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.db.database import open_database
from engine.indexing.scan import scan_library
from tests.conftest import make_settings
from tests.fixtures import build_exif, make_bad_files
from tests.library_fixtures import ids_by_path, make_scene, sha256


def detailed_scene(path: Path, seed: int, size: tuple[int, int] = (800, 600), *, quality: int = 92,
                   taken_at: datetime | None = None) -> Image.Image:
    """A photo-like JPEG: a smooth layout with finer texture (different seeds: different photos)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), "RGB").resize(size, Image.Resampling.BICUBIC)
    fine = Image.fromarray(rng.integers(0, 256, (size[1] // 16, size[0] // 16, 3), dtype=np.uint8), "RGB").resize(
        size, Image.Resampling.BICUBIC)
    image = Image.blend(coarse, fine, 0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=quality, exif=build_exif(taken_at=taken_at).tobytes())
    return image


@pytest.fixture
def scenes(library: Path) -> dict[str, Path]:
    image = detailed_scene(library / "2020" / "a.jpg", 1, taken_at=datetime(2020, 5, 1, 12))
    out = {"a": library / "2020" / "a.jpg"}
    out["copy"] = library / "backup" / "a copy.jpg"
    out["copy"].parent.mkdir(parents=True)
    shutil.copyfile(out["a"], out["copy"])
    out["small"] = library / "web" / "a_small.jpg"
    out["small"].parent.mkdir(parents=True)
    image.resize((400, 300), Image.Resampling.LANCZOS).save(out["small"], "JPEG", quality=80)
    out["q40"] = library / "2019" / "a_q40.jpg"
    out["q40"].parent.mkdir(parents=True)
    image.save(out["q40"], "JPEG", quality=40, exif=build_exif(taken_at=datetime(2020, 5, 1, 12)).tobytes())
    out["turned"] = library / "edits" / "a_turned.png"
    out["turned"].parent.mkdir(parents=True)
    image.transpose(Image.Transpose.ROTATE_270).save(out["turned"], "PNG")
    out["cropped"] = library / "edits" / "a_cropped.jpg"
    image.crop((100, 40, 100 + 680, 40 + 510)).save(out["cropped"], "JPEG", quality=90)
    detailed_scene(library / "2021" / "b.jpg", 2, taken_at=datetime(2021, 1, 1))
    detailed_scene(library / "2021" / "c.jpg", 3, (640, 480))
    out["b"], out["c"] = library / "2021" / "b.jpg", library / "2021" / "c.jpg"
    return out


@pytest.fixture
def client(engine: PhotoIndex, scenes: dict[str, Path]) -> Iterator[TestClient]:
    engine.indexer.run([], scan=True)
    with TestClient(create_app(engine=engine)) as c:
        yield c


def hamming(a: str, b: str) -> int:
    return sum(x != y for x, y in zip(a, b))


def phashes(engine: PhotoIndex) -> dict[str, str | None]:
    with engine.db.connection() as conn:
        return {r["path"]: r["phash"] for r in conn.execute("SELECT path, phash FROM photos WHERE phash_indexed")}


def test_phash_stage_flags_resumes_and_follows_changes(engine: PhotoIndex, library: Path) -> None:
    a = make_scene(library / "2020" / "a.jpg", (800, 600), seed=1)
    shutil.copyfile(a, library / "a copy.jpg")
    Image.open(a).resize((400, 300), Image.Resampling.LANCZOS).save(library / "a_small.jpg", "JPEG", quality=80)
    make_scene(library / "b.jpg", (800, 600), seed=2)
    make_bad_files(library / "bad")
    scan_library(engine.db, library)
    report = engine.library.index_phash()
    assert report.hashed == 4 and report.failed == 6  # every hostile file is tried once
    hashes = phashes(engine)
    assert len(hashes) == 4 + 6
    assert all(len(h) == 256 and set(h) <= {"0", "1"} for p, h in hashes.items() if not p.startswith("bad/"))
    assert all(h is None for p, h in hashes.items() if p.startswith("bad/"))
    assert hashes["2020/a.jpg"] == hashes["a copy.jpg"]
    assert hamming(hashes["2020/a.jpg"], hashes["a_small.jpg"]) <= 24
    assert hamming(hashes["2020/a.jpg"], hashes["b.jpg"]) > 60
    with engine.db.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM duplicate_compared").fetchone()["n"] == 4
        assert conn.execute("SELECT count(*) AS n FROM photos WHERE signature IS NOT NULL").fetchone()["n"] == 4

    again = engine.library.index_phash()
    assert again.hashed == 0 and engine.library.comparer.pending() == 0  # a second run has nothing to do

    make_scene(a, (800, 600), seed=7)  # new bytes under a known path: hashed and compared again
    scan_library(engine.db, library)
    assert "2020/a.jpg" not in phashes(engine) and engine.library.comparer.pending() == 0
    assert engine.library.index_phash().hashed == 1
    assert hamming(phashes(engine)["2020/a.jpg"], hashes["2020/a.jpg"]) > 60
    groups = engine.library.duplicates("phash").groups
    assert [sorted(p.path for p in g.photos) for g in groups] == [["a copy.jpg", "a_small.jpg"]]


def test_groups_say_why_and_keep_the_best_copy(client: TestClient, engine: PhotoIndex, scenes: dict[str, Path],
                                               library: Path) -> None:
    engine.library.index_phash()
    ids = ids_by_path(engine)
    rel = {k: p.relative_to(library).as_posix() for k, p in scenes.items()}
    body = client.post("/duplicates", json={"method": "phash"}).json()
    assert body["total_groups"] == 1 and body["review_groups"] == 0, body
    (group,) = body["groups"]
    assert {p["path"] for p in group["photos"]} == {rel[k] for k in ("a", "copy", "small", "q40", "turned", "cropped")}
    assert group["keep_id"] == ids[rel["a"]] and not group["needs_review"] and not group["keeper_chosen"]
    assert group["photos"][0]["keep"] and group["photos"][0]["jpeg_quality"] == 92
    reasons = " | ".join(group["keeper_reasons"])
    assert "more pixels" in reasons and "JPEG quality 92 vs 40" in reasons and "original name" in reasons
    why = {next(p["path"] for p in group["photos"] if p["id"] == pair["b"]): pair
           for pair in group["pairs"] if pair["a"] == group["anchor_id"]}
    assert group["anchor_id"] == ids[rel["a"]] and len(why) == 5
    assert why[rel["copy"]]["transform"] == "identical file" and why[rel["copy"]]["rule"] == "identical"
    assert why[rel["small"]]["transform"] == "resized to 50 %"
    assert why[rel["q40"]]["transform"] == "re-encoded (JPEG quality 92 → 40)"
    assert why[rel["turned"]]["transform"] == "rotated 90°, re-saved as PNG" and why[rel["turned"]]["rule"] == "phash"
    assert why[rel["cropped"]]["rule"] == "crop" and why[rel["cropped"]]["transform"].startswith("cropped to 8")
    phash = next(s for s in why[rel["turned"]]["signals"] if s["name"] == "pHash")
    assert phash["matched"] and "bits of 256" in phash["unit"] and phash["value"] <= 56
    crop = next(s for s in why[rel["cropped"]]["signals"] if s["name"] == "crop")
    assert crop["matched"] and crop["value"] >= 0.8 and "correlation" in crop["unit"]
    assert body["notes"] == []

    exact = client.post("/duplicates", json={"method": "phash", "max_distance": 0}).json()
    assert {p["path"] for p in exact["groups"][0]["photos"]} >= {rel["a"], rel["copy"]}
    assert all(rel["b"] not in {p["path"] for p in g["photos"]} for g in exact["groups"])

    # the user keeps the rotated PNG instead; the group and its reasons follow
    members = [p["id"] for p in group["photos"]]
    assert client.put("/duplicates/keeper", json={"photo_id": ids[rel["turned"]], "group": members}).status_code == 204
    chosen = client.post("/duplicates", json={"method": "phash"}).json()["groups"][0]
    assert chosen["keep_id"] == ids[rel["turned"]] and chosen["keeper_chosen"] and chosen["keeper_reasons"] == ["chosen by you"]
    assert client.put("/duplicates/keeper", json={"photo_id": ids[rel["b"]], "group": members}).status_code == 422
    assert client.request("DELETE", "/duplicates/keeper", json={"group": members}).status_code == 204
    assert client.post("/duplicates", json={}).json()["groups"][0]["keep_id"] == ids[rel["a"]]

    before = {k: sha256(p) for k, p in scenes.items()}
    dry = client.request("DELETE", "/duplicates", json={"method": "phash"})
    assert dry.status_code == 200 and dry.json()["dry_run"] and dry.json()["deleted"] == 0
    assert "dry_run false" in dry.json()["note"] and str(dry.json()["total_extras"]) in dry.json()["note"]
    bare = client.delete("/duplicates", params={"dry_run": "true"})  # the original's call: no body, a query string
    assert bare.status_code == 200 and bare.json()["dry_run"] and bare.json()["deleted"] == 0
    assert all(p.is_file() for p in scenes.values())
    done = client.request("DELETE", "/duplicates", json={"method": "phash", "dry_run": False}).json()
    gone = {"copy", "small", "q40", "turned", "cropped"}
    assert done["deleted"] == 5 and {t["photo_id"] for t in done["trashed"]} == {ids[rel[k]] for k in gone}
    trash = engine.settings.resolved_trash_dir
    for key in gone:
        assert not scenes[key].exists() and sha256(trash / rel[key]) == before[key]
    assert scenes["a"].is_file() and scenes["b"].is_file() and scenes["c"].is_file()
    assert client.post("/duplicates", json={}).json()["total_groups"] == 0

    # a restored copy comes back with its signature and is compared again, without re-hashing
    item = next(t for t in done["trashed"] if t["photo_id"] == ids[rel["turned"]])
    assert client.post("/trash/restore", json={"trash_ids": [item["trash_id"]]}).status_code == 200
    again = client.post("/duplicates", json={}).json()
    assert [{p["path"] for p in g["photos"]} for g in again["groups"]] == [{rel["a"], rel["turned"]}]
    assert engine.library.hash_photos().hashed == 0


def test_big_groups_wait_for_review(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path,
                                    dask_cluster) -> None:
    image = detailed_scene(library / "original.jpg", 5)
    for i in range(5):
        image.resize((800 - 40 * i, 600 - 30 * i), Image.Resampling.LANCZOS).save(library / f"copy{i}.jpg", quality=85)
    settings = make_settings(tmp_path, database_url, library, clip_model_dir, duplicate_review_size=4)
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    try:
        scan_library(engine.db, library)
        engine.library.index_phash()
        report, trash = engine.library.delete_duplicates("phash", dry_run=False)
        (group,) = report.groups
        assert group.needs_review and "more than 4" in group.review[0] and report.review_groups == 1
        assert trash is None and report.extra_ids == [] and all(p.is_file() for p in library.iterdir())
    finally:
        engine.close()


def test_embedding_method(engine: PhotoIndex, scenes: dict[str, Path], library: Path) -> None:
    with TestClient(create_app(engine=engine)) as client:
        engine.indexer.run([], scan=True)
        missing = client.post("/duplicates", json={"method": "clip"})
        assert missing.status_code == 409 and "no photo has" in missing.json()["detail"]
        assert "index them first" in missing.json()["detail"] and missing.json()["detail"].count(".") <= 2
        engine.index()  # the tiny test model's vectors
        answer = client.post("/duplicates", json={"method": "clip", "threshold": 0.9999})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["model"] == engine.settings.clip_model
        ids = ids_by_path(engine)
        pair = {ids["2020/a.jpg"], ids["backup/a copy.jpg"]}  # identical bytes, identical vectors
        assert any(pair <= {p["id"] for p in g["photos"]} for g in body["groups"])
        assert all(g["pairs"][0]["rule"] == "embedding" for g in body["groups"])
        assert client.post("/duplicates", json={"method": "clip", "model": "nope"}).status_code == 400
        assert client.post("/duplicates", json={"method": "md5"}).status_code == 422
        unhashed = client.post("/duplicates", json={"method": "all"}).json()
        assert unhashed["total_groups"] == 0 and "not hashed yet" in unhashed["notes"][0]
        engine.library.index_phash()
        fused = client.post("/duplicates", json={"method": "all"}).json()
        assert fused["total_groups"] == 1 and fused["notes"] == []
        signals = {s["name"] for pair in fused["groups"][0]["pairs"] for s in pair["signals"]}
        assert "embedding" in signals  # the image-text similarity is measured beside the pictures


def test_duplicates_command(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path,
                            scenes: dict[str, Path]) -> None:
    """`photoindex index` computes what duplicates need; `photoindex duplicates` lists groups with reasons."""
    from tests.test_cli_resume import REPO, cli_env, run_cli

    env = cli_env(tmp_path, database_url, library, clip_model_dir)
    done = run_cli(["index"], env, REPO)
    assert done.returncode == 0, done.stderr
    assert "duplicates: 8 hashed" in done.stdout
    listed = run_cli(["duplicates", "--method", "phash"], env, REPO)
    assert listed.returncode == 0, listed.stderr
    assert "group 1: 6 photos, keep 2020/a.jpg" in listed.stdout
    assert "rotated 90°, re-saved as PNG [phash: pHash" in listed.stdout and "1 groups (0 to review)" in listed.stdout
    as_json = run_cli(["duplicates", "--json"], env, REPO)
    report = json.loads(as_json.stdout)
    assert report["total_groups"] == 1 and report["groups"][0]["needs_review"] is False
    assert {p["path"] for p in report["groups"][0]["photos"]} >= {"2020/a.jpg", "edits/a_cropped.jpg"}
    missing = run_cli(["duplicates", "--method", "clip", "--model", "ViT-L/14"], env, REPO)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and "no photo has ViT-L/14 image vectors" in missing.stderr


def test_index_all_runs_the_picture_stages_without_an_image_text_model(
        tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path, dask_cluster) -> None:
    from tests.library_fixtures import wait_job

    detailed_scene(library / "a.jpg", 1)
    settings = make_settings(tmp_path, database_url, library, clip_model_dir).model_copy(
        update={"clip_model": "SigLIP", "model_paths": {}, "models_dir": tmp_path / "no-models"})
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    try:
        scan_library(engine.db, library)
        with TestClient(create_app(engine=engine)) as client:
            started = client.post("/admin/index-all", json={"stages": ["phash"]})
            assert started.status_code == 202, started.text
            assert [j["kind"] for j in started.json()["jobs"]] == ["phash"]
            assert "SigLIP" in started.json()["skipped"]["image-text:SigLIP"]
            assert wait_job(client, started.json()["jobs"][0]["id"])["state"] == "done"
            assert client.post("/admin/index-all", json={"models": ["SigLIP"]}).status_code == 503  # named: answered
    finally:
        engine.close()
