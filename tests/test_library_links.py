"""A symbolic link swapped in after the scan is never followed: decoding, faces, pHash, thumbnails,
hashing and the trash open library files with no link below the root, at the moment they open them."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from engine.app import PhotoIndex
from engine.db import photos as photo_rows
from engine.library.paths import OutsideLibrary, open_inside, read_inside
from engine.runtime.hashing import file_hash
from tests.face_fixtures import face_engine, save_faces, tiny_face_pack  # noqa: F401
from tests.fixtures import make_jpeg


def _row(engine: PhotoIndex, path: str) -> photo_rows.Photo:
    with engine.db.connection() as conn:
        return photo_rows.get_by_path(conn, path)


def _faces(engine: PhotoIndex) -> list[tuple]:
    with engine.db.connection() as conn:
        return [tuple(r.values()) for r in conn.execute("SELECT photo_id, bbox FROM faces ORDER BY id")]


def _phashes(engine: PhotoIndex) -> list[tuple]:
    with engine.db.connection() as conn:
        return [tuple(r.values()) for r in conn.execute("SELECT id, phash::text FROM photos ORDER BY id")]


@pytest.fixture
def swapped(face_engine: PhotoIndex, library: Path, tmp_path: Path) -> tuple[PhotoIndex, dict[str, photo_rows.Photo]]:
    """An indexed library whose file and folder are then replaced by links to files outside it."""
    save_faces(library / "face.png", [("anna", 320, 240)])
    make_jpeg(library / "trip" / "beach.jpg", (320, 240), (20, 120, 200))
    outside = tmp_path / "outside"
    secret = make_jpeg(outside / "secret.jpg", (640, 480), (200, 30, 30), gps=(55.75, 37.62, 120.0),
                       taken_at=datetime(2020, 1, 2, 3, 4), make="Secret", model="Camera 9000")
    save_faces(outside / "trip" / "beach.jpg", [("boris", 320, 240), ("anna", 160, 160)])
    face_engine.index()
    face_engine.faces.index()
    face_engine.library.index_phash()
    before = {p: _row(face_engine, p) for p in ("face.png", "trip/beach.jpg")}
    before["faces"] = _faces(face_engine)
    (library / "face.png").unlink()
    (library / "face.png").symlink_to(secret)
    os.rename(library / "trip", tmp_path / "old-trip")
    (library / "trip").symlink_to(outside / "trip", target_is_directory=True)
    return face_engine, before


def test_nothing_is_read_through_a_swapped_in_link(swapped) -> None:
    engine, before = swapped
    faces = before.pop("faces")
    with engine.db.connection() as conn:  # make both photos due again without a scan
        conn.execute("UPDATE photos SET metadata_read = false, phash_indexed = false, faces_indexed = false")
        conn.execute("DELETE FROM embeddings_vit_b32")
    engine.index(scan=False)
    engine.library.index_phash()
    engine.faces.index()
    for path, old in before.items():
        now = _row(engine, path)
        assert now.index_failed and "symbolic link" in now.fail_reason, (path, now.fail_reason)
        assert (now.content_hash, now.latitude, now.camera, now.taken_at) == \
            (old.content_hash, old.latitude, old.camera, old.taken_at), path
    assert _faces(engine) == faces
    assert [bits for _id, bits in _phashes(engine)] == [None, None]  # unreadable now, not the outside file's

    face = before["face.png"]
    with pytest.raises(Exception, match="symbolic link"):
        engine.faces.reindex_photo(face.id)
    assert _row(engine, "face.png").camera is None
    root = engine.settings.photos_dir
    for path in before:
        with pytest.raises(OutsideLibrary, match="symbolic link"):
            engine.thumbnails.get(before[path].id, root / path, "jpg", "thumb", 0, "v2")
        with pytest.raises(OutsideLibrary):
            file_hash(root / path, root=root)
        with pytest.raises(OutsideLibrary):
            engine.search.image(model=engine.settings.clip_model, image_path=root / path)


def test_open_inside_refuses_links_fifos_and_paths_out(library: Path, tmp_path: Path) -> None:
    (library / "a").mkdir()
    (library / "a" / "ok.jpg").write_bytes(b"ok")
    (tmp_path / "out.jpg").write_bytes(b"secret")
    (library / "a" / "link.jpg").symlink_to(library / "a" / "ok.jpg")  # even a link that stays inside
    (library / "b").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(library / "a" / "fifo.jpg")
    assert read_inside(library, "a/ok.jpg") == b"ok" == read_inside(library, library / "a" / "ok.jpg")
    for bad in ("a/link.jpg", "b/out.jpg", "a/fifo.jpg", "../out.jpg", "/etc/passwd", tmp_path / "out.jpg", ""):
        with pytest.raises(OutsideLibrary):
            open_inside(library, bad)
    with pytest.raises(FileNotFoundError):
        open_inside(library, "a/missing.jpg")
