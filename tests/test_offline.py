"""A folder that goes empty never deletes its photos: they go offline and come back with their ids,
albums, faces and rotation, by path or (moved, renamed) by content; removal is explicit."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.indexing.scan import TooManyOffline
from tests.face_fixtures import face_engine, save_faces, tiny_face_pack  # noqa: F401
from tests.fixtures import make_jpeg


def _state(engine: PhotoIndex) -> dict[str, dict]:
    """Everything a user made or the index learned, per path: id, offline, albums, faces, rotation, vectors."""
    with engine.db.connection() as conn:
        rows = conn.execute(
            "SELECT p.id, p.path, p.offline_since IS NOT NULL AS offline, p.content_hash, p.exif_data->'UserRotation'"
            " AS rotation, (SELECT array_agg(album_id ORDER BY album_id) FROM album_photos a WHERE a.photo_id = p.id)"
            " AS albums, (SELECT array_agg(person_id ORDER BY id) FROM faces f WHERE f.photo_id = p.id) AS persons,"
            " (SELECT count(*) FROM faces f WHERE f.photo_id = p.id) AS faces,"
            " EXISTS (SELECT 1 FROM embeddings_vit_b32 e WHERE e.photo_id = p.id) AS vector FROM photos p").fetchall()
    return {r.pop("path"): r for r in rows}


@pytest.fixture
def indexed(face_engine: PhotoIndex, library: Path) -> PhotoIndex:
    """52 photos, 12 of them (23%) on a "disk" folder: four with faces, one named person, in an album, one rotated."""
    for i in range(40):
        make_jpeg(library / "home" / f"{i:02d}.jpg", (96, 64), (6 * i, 80, 160), marker=None)
    for i in range(8):
        make_jpeg(library / "disk" / "2019" / f"{i:02d}.jpg", (96, 64), (200, 9 * i, 40), marker=None)
    for i in range(4):
        save_faces(library / "disk" / "people" / f"p{i}.png", [("anna", 160 + 48 * i, 160)])
    engine = face_engine
    engine.index()
    engine.faces.index()
    ids = {p: r["id"] for p, r in _state(engine).items()}
    album = engine.library.albums.create("Summer", None, [ids[f"disk/2019/{i:02d}.jpg"] for i in range(8)] + [ids["home/00.jpg"]])
    face = engine.faces.of_photo(ids["disk/people/p0.png"])[0]
    engine.faces.persons.assign(face.id, None, new_name="Anna")
    engine.library.rotate(ids["disk/2019/03.jpg"], 90)
    assert album.photo_count == 9
    return engine


def test_an_emptied_sub_folder_goes_offline_and_comes_back(indexed: PhotoIndex, library: Path, tmp_path: Path) -> None:
    before = _state(indexed)
    shutil.move(library / "disk", tmp_path / "unplugged")
    (library / "disk").mkdir()  # the mount point of an unmounted disk

    report = indexed.index()
    assert (report.scan.offline, report.scan.new, report.scan.moved) == (12, 0, 0)
    during = _state(indexed)
    assert set(during) == set(before)  # nothing deleted
    assert {p for p, r in during.items() if r["offline"]} == {p for p in before if p.startswith("disk/")}
    assert {p: {**r, "offline": False} for p, r in during.items()} == before  # albums, faces, rotation, vectors kept
    assert report.failed == 0  # offline photos are not decoded (and so not flagged unreadable)
    assert indexed.library.albums.list(None, 10, 0)[0].photo_count == 9

    again = indexed.index()  # still unplugged: nothing new to say
    assert (again.scan.offline, again.scan.returned) == (0, 0)

    (library / "disk").rmdir()
    shutil.move(tmp_path / "unplugged", library / "disk")
    back = indexed.index()
    assert (back.scan.returned, back.scan.new, back.scan.offline, back.indexed) == (12, 0, 0, 0)
    assert _state(indexed) == before


def test_a_moved_folder_and_a_renamed_file_keep_their_ids(indexed: PhotoIndex, library: Path) -> None:
    before = _state(indexed)
    (library / "archive").mkdir()
    shutil.move(library / "disk", library / "archive" / "old disk")
    (library / "home" / "05.jpg").rename(library / "home" / "beach at dawn.JPG")

    report = indexed.index()
    assert (report.scan.moved, report.scan.new, report.scan.offline, report.indexed) == (13, 0, 0, 0)
    after = _state(indexed)
    renamed = {p.replace("disk/", "archive/old disk/", 1).replace("home/05.jpg", "home/beach at dawn.JPG"): r
               for p, r in before.items()}
    assert after == renamed
    person = indexed.faces.persons.list(None, 10, 0)[0][0]
    assert person.name == "Anna" and person.photo_count == 1


def test_a_scan_that_would_take_too_much_offline_stops(indexed: PhotoIndex, library: Path) -> None:
    before = _state(indexed)
    shutil.rmtree(library / "home")  # 40 of 52: a disk gone, not a cleanup

    with pytest.raises(TooManyOffline, match="OFFLINE_MAX_SHARE"):
        indexed.index()
    assert _state(indexed) == before

    indexed.settings.offline_max_share = 1.0  # the user says the files are really gone
    assert indexed.index().scan.offline == 40
    assert len(_state(indexed)) == 52


def test_removing_offline_photos_is_explicit(indexed: PhotoIndex, library: Path) -> None:
    shutil.rmtree(library / "disk" / "2019")
    indexed.index()
    with TestClient(create_app(engine=indexed)) as client:
        listed = client.get("/library/offline").json()
        assert listed["total"] == 8 and all(i["path"].startswith("disk/2019/") for i in listed["items"])
        dry = client.post("/library/offline/remove", json={}).json()
        assert dry["dry_run"] and dry["count"] == 8 and len(_state(indexed)) == 52
        online = _state(indexed)["home/00.jpg"]["id"]
        one = listed["items"][0]["id"]
        done = client.post("/library/offline/remove", json={"ids": [one, online], "dry_run": False}).json()
        assert done == {"dry_run": False, "count": 1, "ids": [one]}  # a photo that is there is never removed
        assert client.post("/library/offline/remove", json={"dry_run": False}).json()["count"] == 7
    after = _state(indexed)
    assert len(after) == 44 and not any(r["offline"] for r in after.values())
    assert indexed.library.albums.list(None, 10, 0)[0].photo_count == 1


def test_offline_photos_go_after_the_grace_period(indexed: PhotoIndex, library: Path) -> None:
    shutil.rmtree(library / "disk" / "people")
    indexed.settings.offline_grace_days = 30
    assert indexed.index().scan.offline == 4
    with indexed.db.connection() as conn:
        conn.execute("UPDATE photos SET offline_since = now() - interval '31 days'"
                     " WHERE path IN ('disk/people/p0.png', 'disk/people/p1.png')")
    report = indexed.index()
    assert report.scan.removed == 2
    assert sorted(p for p, r in _state(indexed).items() if r["offline"]) == ["disk/people/p2.png", "disk/people/p3.png"]
