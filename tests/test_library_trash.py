"""Trash, restore and rotation through the REST API, against the real database and files."""
from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.indexing.scan import scan_library
from tests.fixtures import make_library
from tests.library_fixtures import ids_by_path, sha256, tree_hashes


@pytest.fixture
def files(library: Path) -> dict[str, Path]:
    return make_library(library)


@pytest.fixture
def client(engine: PhotoIndex, files: dict[str, Path]) -> Iterator[TestClient]:
    engine.indexer.run([], scan=True)  # scan + metadata (sizes, EXIF) on the Dask workers, no model
    with TestClient(create_app(engine=engine)) as c:
        yield c


def rel(files: dict[str, Path], library: Path, key: str) -> str:
    return files[key].relative_to(library).as_posix()


def test_trash_and_restore_keep_every_byte(client: TestClient, engine: PhotoIndex, files: dict[str, Path],
                                           library: Path) -> None:
    trash_dir = engine.settings.resolved_trash_dir
    before = tree_hashes(library)
    ids = ids_by_path(engine)
    jpg, heic, dng = rel(files, library, "jpg"), rel(files, library, "heic"), rel(files, library, "dng")
    album = client.post("/albums", json={"name": "Trip", "photo_ids": [ids[jpg], ids[heic]]}).json()
    assert client.post(f"/photo/{ids[jpg]}/rotate", json={"degrees": 90}).json()["rotation"] == 90
    total = client.get("/stats").json()["total_photos"]

    deleted = client.post("/photos/delete", json={"image_ids": [ids[jpg], ids[heic]], "paths": [dng]})
    assert deleted.status_code == 200, deleted.text
    body = deleted.json()
    assert body["deleted"] == 3 and body["missing_files"] == []
    assert {t["original_path"] for t in body["trashed"]} == {jpg, heic, dng}
    for t in body["trashed"]:
        assert t["trash_path"] == t["original_path"]  # the folder structure is kept
        assert not (library / t["original_path"]).exists()
        assert sha256(trash_dir / t["trash_path"]) == before[t["original_path"]]
    assert client.get(f"/photo/{ids[jpg]}").status_code == 404
    assert client.get(f"/image/{ids[jpg]}/thumb").status_code == 404
    assert client.get("/stats").json()["total_photos"] == total - 3
    assert client.get(f"/albums/{album['id']}").json()["photo_count"] == 0
    listing = client.get("/trash").json()
    assert listing["total"] == 3
    thumb = client.get(f"/ui/trash/{body['trashed'][0]['trash_id']}/thumb")  # the Trash tab's pictures
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.content)).size[0] > 0
    assert client.get("/ui/trash/999999/thumb").status_code == 404

    # a rescan does not bring trashed files back, and does not touch the trash
    scan_library(engine.db, library)
    assert client.get("/stats").json()["total_photos"] == total - 3

    restored = client.post("/trash/restore", json={"trash_ids": [t["trash_id"] for t in body["trashed"]]})
    assert restored.status_code == 200, restored.text
    assert tree_hashes(library) == before  # every byte back where it was
    assert not any(p.is_file() for p in trash_dir.rglob("*"))
    photo = client.get(f"/photo/{ids[jpg]}").json()  # the same id, metadata and rotation
    assert photo["path"] == jpg and photo["rotation"] == 90 and photo["camera"] is not None
    assert client.get("/stats").json()["total_photos"] == total
    assert client.get(f"/albums/{album['id']}").json()["photo_count"] == 2
    assert client.get("/trash").json()["total"] == 0
    assert client.get(f"/image/{ids[jpg]}/thumb").status_code == 200


def test_same_name_trashed_twice_and_purge(client: TestClient, engine: PhotoIndex, files: dict[str, Path],
                                           library: Path) -> None:
    png = rel(files, library, "png")
    original = files["png"].read_bytes()
    first = client.post("/photos/delete", json={"paths": [png]}).json()["trashed"][0]
    files["png"].write_bytes(original)  # the same name appears again and is deleted again
    scan_library(engine.db, library)
    second = client.post("/photos/delete", json={"paths": [png]}).json()["trashed"][0]
    assert first["trash_path"] == png and second["trash_path"] != png
    assert second["trash_path"].startswith("screens/diagram (1)")
    # restoring the first while nothing occupies the path works; the second then conflicts
    assert client.post("/trash/restore", json={"trash_ids": [first["trash_id"]]}).status_code == 200
    conflict = client.post("/trash/restore", json={"trash_ids": [second["trash_id"]]})
    assert conflict.status_code == 409
    assert client.post("/trash/purge", json={"trash_ids": [second["trash_id"]]}).json() == {"removed": 1}
    assert client.get("/trash").json()["total"] == 0
    assert files["png"].read_bytes() == original
    assert client.post("/trash/restore", json={"trash_ids": [second["trash_id"]]}).status_code == 404


def test_attacks_are_refused_and_nothing_moves(client: TestClient, engine: PhotoIndex, files: dict[str, Path],
                                               library: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.jpg"
    secret.write_bytes(files["jpg"].read_bytes())
    ids = ids_by_path(engine)
    good = ids[rel(files, library, "png")]

    # an indexed file replaced by a link to a file outside the library
    bmp = files["bmp"]
    bmp.unlink()
    bmp.symlink_to(secret)
    # an indexed folder replaced by a link to a folder outside the library
    webp_dir = files["webp"].parent
    moved_dir = outside / "web"
    webp_dir.rename(moved_dir)
    webp_dir.symlink_to(moved_dir, target_is_directory=True)
    # an indexed file that is now a link to another library file
    heic = files["heic"]
    heic_bytes = heic.read_bytes()
    heic.unlink()
    heic.symlink_to(files["jpg"])

    before_library = tree_hashes(library)
    before_outside = tree_hashes(outside)
    attacks = [
        ({"paths": ["../outside/secret.jpg"]}, 403),
        ({"paths": [str(secret)]}, 403),
        ({"paths": ["/etc/passwd"]}, 403),
        ({"paths": ["2023/../../outside/secret.jpg"]}, 403),
        ({"paths": ["..\\outside\\secret.jpg"]}, 403),
        ({"image_ids": [ids[rel(files, library, "bmp")]]}, 403),
        ({"image_ids": [ids[rel(files, library, "webp")]]}, 403),
        ({"image_ids": [ids[rel(files, library, "heic")]]}, 403),
        ({"image_ids": [999_999]}, 404),
        ({"image_ids": [good, 999_999]}, 404),  # one bad id refuses the whole request
        ({"image_ids": [good], "paths": ["../outside/secret.jpg"]}, 403),
        ({"paths": ["not/indexed.jpg"]}, 404),
    ]
    for body, status in attacks:
        answer = client.post("/photos/delete", json=body)
        assert answer.status_code == status, (body, answer.text)
        assert answer.json()["detail"]
    assert tree_hashes(library) == before_library
    assert tree_hashes(outside) == before_outside
    assert not any(p.is_file() for p in engine.settings.resolved_trash_dir.rglob("*"))
    assert client.get(f"/photo/{good}").status_code == 200

    # the image endpoints refuse links that lead out too
    assert client.get(f"/image/{ids[rel(files, library, 'bmp')]}/full").status_code == 403
    assert client.get(f"/image/{ids[rel(files, library, 'webp')]}/thumb").status_code == 403
    assert heic_bytes  # (the link inside the library is refused by delete, above)


def test_restore_refuses_links_planted_in_the_library(client: TestClient, engine: PhotoIndex,
                                                      files: dict[str, Path], library: Path, tmp_path: Path) -> None:
    jpg = rel(files, library, "jpg")
    trashed = client.post("/photos/delete", json={"paths": [jpg]}).json()["trashed"][0]
    # the original folder becomes a link to somewhere outside: restoring must not write there
    folder = files["jpg"].parent
    for leftover in folder.iterdir():
        leftover.unlink()
    folder.rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder.symlink_to(elsewhere, target_is_directory=True)
    answer = client.post("/trash/restore", json={"trash_ids": [trashed["trash_id"]]})
    assert answer.status_code == 403, answer.text
    assert list(elsewhere.iterdir()) == []
    assert (engine.settings.resolved_trash_dir / trashed["trash_path"]).is_file()
    assert client.get("/trash").json()["total"] == 1


def test_trash_inside_library_is_refused(engine: PhotoIndex, files: dict[str, Path], library: Path) -> None:
    from engine.library.trash import Trash, TrashUnavailable

    scan_library(engine.db, library)
    trash = Trash(engine.db, library, library / "trash")
    with pytest.raises(TrashUnavailable):
        trash.move_to_trash(paths=[rel(files, library, "jpg")])
    assert files["jpg"].is_file()


def test_rotation_is_stored_not_written(client: TestClient, engine: PhotoIndex, files: dict[str, Path],
                                        library: Path) -> None:
    photo_id = ids_by_path(engine)[rel(files, library, "jpg")]
    digest, mtime = sha256(files["jpg"]), os.stat(files["jpg"]).st_mtime_ns
    thumb0 = client.get(f"/image/{photo_id}/thumb")
    assert Image.open(io.BytesIO(thumb0.content)).size == (400, 300)

    steps = [({"degrees": 90}, 90), ({"degrees": 90}, 180), ({"degrees": -90}, 90), ({"degrees": 270, "relative": False}, 270),
             ({"degrees": 180}, 90), ({"degrees": 0, "relative": False}, 0), ({"degrees": -90}, 270)]
    for body, expected in steps:
        answer = client.post(f"/photo/{photo_id}/rotate", json=body)
        assert answer.status_code == 200 and answer.json()["rotation"] == expected, (body, answer.text)
        assert client.get(f"/photo/{photo_id}").json()["exif_data"]["UserRotation"] == expected

    thumb = client.get(f"/image/{photo_id}/thumb")
    image = Image.open(io.BytesIO(thumb.content))
    assert image.size == (300, 400)  # displayed 800x600, turned 270 degrees
    assert image.getpixel((10, image.height - 10))[0] > 200  # the red top-left corner is now bottom-left
    assert thumb.headers["etag"] != thumb0.headers["etag"]
    assert client.get(f"/image/{photo_id}/thumb", headers={"If-None-Match": thumb0.headers["etag"]}).status_code == 200
    full = Image.open(io.BytesIO(client.get(f"/image/{photo_id}/full").content))
    assert full.size[1] > full.size[0]

    assert sha256(files["jpg"]) == digest and os.stat(files["jpg"]).st_mtime_ns == mtime
    # a re-read of the file's metadata keeps the user's rotation
    with engine.db.connection() as conn:
        conn.execute("UPDATE photos SET metadata_read = FALSE, exif_data = exif_data || '{\"Make\": \"x\"}' WHERE id = %s",
                     (photo_id,))
    engine.indexer.run([], scan=False)
    assert client.get(f"/photo/{photo_id}").json()["exif_data"].get("Make") != "x"  # it was read again
    assert client.get(f"/photo/{photo_id}").json()["rotation"] == 270

    assert client.post(f"/photo/{photo_id}/rotate", json={"degrees": 45}).status_code == 422
    assert client.post("/photo/999999/rotate", json={"degrees": 90}).status_code == 404
