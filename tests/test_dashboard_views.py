"""The dashboard's view models without a browser: set params, call actions, read params."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import panel as pn
import pytest

from dashboard.app import Dashboard
from dashboard.views.admin import AdminView, fill_color, jobs_html
from dashboard.views.assistant import AssistantView, describe_parsed
from dashboard.views.albums import AlbumsView
from dashboard.views.common import Context, Tile, human_seconds, in_date_range
from dashboard.views.duplicates import DuplicatesView
from dashboard.views.lightbox import Lightbox, face_box
from dashboard.views.map import CLUSTER_ABOVE, GeoPhoto, MapView, cluster
from dashboard.views.persons import PersonsView
from dashboard.views.search import SearchView
from engine.app import PhotoIndex
from engine.db.database import open_database
from tests.e2e.conftest import build_library
from tests.face_fixtures import face_settings, tiny_face_pack  # noqa: F401
from tests.fakes.gemini import FakeGemini
from tests.fakes.servers import serve


@pytest.fixture
def ctx(tmp_path: Path, database_url: str, library: Path, color_model_dir: Path, tiny_face_pack: Path,
        dask_cluster) -> Context:
    build_library(library)
    settings = face_settings(tmp_path, database_url, library, color_model_dir, tiny_face_pack)
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    engine.index()
    engine.faces.index()
    engine.library.index_phash()
    yield Context(engine)
    engine.close()


def path_of(ctx: Context, photo_id: int) -> str:
    return ctx.photo(photo_id).path


def test_search_filters_paging_and_selection(ctx: Context) -> None:
    view = SearchView(ctx)
    view.param.update(query="red", top_k=10)
    view.search()
    assert view.results and all("red" in path_of(ctx, t.id) for t in view.results[:3])
    assert view.message.startswith(f"{len(view.results)} photos for “red”")
    assert view.grid.items[0]["src"] == f"/image/{view.results[0].id}/thumb"
    assert view.has_more  # 10 asked, more in the library
    view.load_more()
    assert len(view.results) > 10

    view.param.update(formats=["PNG"])
    view.search()
    assert {t.format for t in view.results} == {"png"}
    view.param.update(formats=[], threshold=50)
    view.search()
    assert all(t.score >= 0.5 for t in view.results)

    view.param.update(threshold=0, date_from=date(2023, 1, 1), date_to=date(2023, 12, 31))
    view.search()
    assert {path_of(ctx, t.id) for t in view.results} == {"2023/sydney/red.jpg", "2023/sydney/red_copy.jpg"}

    view.param.update(date_from=None, date_to=None, upload=(ctx.engine.settings.photos_dir / "2024/paris/green.jpg").read_bytes(),
                      upload_name="green.jpg")
    view.search()
    assert path_of(ctx, view.results[0].id) == "2024/paris/green.jpg" and "like green.jpg" in view.message

    view.param.update(upload=None, multi_model=True)
    view.search()  # fused over every indexed model (here one), and said so
    assert view.results and "rrf" in view.message.lower()

    opened = []
    view.opener = lambda ids, i: opened.append((ids, i))
    view.open(view.results[2].id)
    assert opened == [([t.id for t in view.results], 2)]

    view.toggle_select_mode()
    assert view.grid.select_mode
    victims = [t.id for t in view.results if "misc/blue_" in path_of(ctx, t.id)]
    view.select(victims)
    view.ask_delete()
    assert view.confirm_delete
    view.delete_selected()
    assert not view.confirm_delete and view.selected == []
    assert all(ctx.photo(i) is None for i in victims)
    assert not any(t.id in victims for t in view.results)
    assert f"Moved {len(victims)} photos" in view.message
    view.leave_select_mode()
    assert not view.select_mode


def test_search_errors_are_messages(ctx: Context) -> None:
    view = SearchView(ctx)
    view.param.update(query="red", person_id=999_999)
    view.search()
    assert view.results == [] and view.message.startswith("⚠")


def test_lightbox_walk_rotate_and_faces(ctx: Context) -> None:
    box = Lightbox(ctx)
    ids = sorted(p.id for p in ctx.engine.search.text("x", model=ctx.engine.settings.clip_model, top_k=50).hits)
    two = next(i for i in ids if path_of(ctx, i) == "people/both.png")
    box.show(ids, ids.index(two))
    assert box.is_open and box.photo_id == two and box.stage.src == f"/image/{two}/full"
    assert "people/both.png" in box.info
    assert len(box.faces) == 2 and all(not f["assigned"] for f in box.stage.faces)
    assert all(0 <= f["x"] <= 1 and 0 < f["w"] <= 1 for f in box.stage.faces)

    box.toggle_faces()
    assert box.stage.show_faces
    first = box.faces[0]
    box.select_face(first.id)
    assert "age" in box.face_summary() and "unassigned" in box.face_summary()
    updated = box.create_person("Tanya")
    assert updated.person_name == "Tanya" and any(f["assigned"] for f in box.stage.faces)
    second = box.faces[1]
    box.select_face(second.id)
    assert box.assign(name="Tanya").person_name == "Tanya"
    box.unassign()
    assert ctx.engine.faces.get(second.id).person_id is None

    assert box.rotate(90) == 90
    assert box.stage.src == f"/image/{two}/full?v=1" and ctx.thumb_url(two) == f"/image/{two}/thumb?v=1"
    w, h = box.faces[0].image_width, box.faces[0].image_height
    assert (w, h) == (480, 640)  # the boxes follow the rotation
    assert box.rotate(-90) == 0

    box.select_face(first.id)
    shown = []
    ctx.listen(lambda event, payload: shown.append(event) if event == "show-results" else None)
    tiles = box.find_face()
    assert shown == ["show-results"] and not box.is_open and all(isinstance(t, Tile) for t in tiles)

    box.show(ids, 0)
    box.key("ArrowRight")
    assert box.index == 1
    box.key("ArrowLeft")
    box.key("ArrowLeft")
    assert box.index == 0
    box.show(ids, ids.index(two))
    found = box.redetect()
    assert len(found) == 2 and box.show_faces
    box.key("Escape")
    assert not box.is_open


def test_admin_index_all_progress(ctx: Context) -> None:
    view = AdminView(ctx)
    view.refresh()
    assert view.stats["total_photos"] > 0 and "available" in view.gpu and view.models
    assert view.cache["disk"]["files"] >= 0
    with ctx.engine.db.connection() as conn:
        conn.execute("UPDATE photos SET phash = NULL, phash_indexed = false")
    queued = view.index_all()
    assert [j["kind"] for j in queued][0].startswith("index:") and "Queued" in view.message
    seen = set()
    import time

    for _ in range(600):
        view.refresh_jobs()
        seen |= {j["state"] for j in view.jobs}
        if not view.running:
            break
        time.sleep(0.05)
    assert not view.running and all(j["state"] == "done" for j in view.jobs), view.jobs
    assert {"done"} <= seen and all(j["percent"] == 100 for j in view.jobs)
    html = jobs_html(view.jobs)
    assert "phash" in html and "100%" in html
    assert fill_color(10) != fill_color(95)
    view.warm(ctx.engine.settings.clip_model)
    assert any(m["loaded"] for m in view.models)
    view.unload(ctx.engine.settings.clip_model)
    assert not any(m["loaded"] for m in view.models)
    assert view.reset_failed() == 0


def test_persons_albums_duplicates_map(ctx: Context) -> None:
    faces = [f for p in ("people/anna0.png", "people/boris.png") for f in
             ctx.engine.faces.of_photo(ctx.engine.search.image(model=ctx.engine.settings.clip_model,
                                                               image_path=ctx.engine.settings.photos_dir / p,
                                                               top_k=1).hits[0].id)]
    anna = ctx.engine.faces.persons.assign(faces[0].id, None, new_name="Anna")
    boris = ctx.engine.faces.persons.assign(faces[1].id, None, new_name="Boris")

    persons = PersonsView(ctx)
    persons.refresh()
    assert {p.name for p in persons.persons} == {"Anna", "Boris"}
    assert persons.people_grid.items[0]["src"].startswith("/ui/face/")
    persons.open_person(anna.person_id)
    assert persons.photos_total == 1 and persons.photo_grid.items
    persons.rename("Anya")
    assert ctx.engine.faces.persons.get(anna.person_id).name == "Anya"
    persons.merge(boris.person_id)
    assert [p.name for p in persons.persons] == ["Boris"] and persons.person_id == boris.person_id
    persons.delete()
    assert persons.persons == [] and persons.person_id is None

    albums = AlbumsView(ctx)
    album = albums.create("Trip")
    assert albums.album_grid.items[0]["label"] == "Trip"
    ids = [t.id for t in SearchView(ctx).results] or [h.id for h in ctx.engine.search.text(
        "x", model=ctx.engine.settings.clip_model, top_k=4).hits]
    ctx.engine.library.albums.add(album.id, ids)
    albums.open_album(album.id)
    assert [t.id for t in albums.photos] and len(albums.photos) == 4
    albums.set_select_mode(True)
    albums.selected = ids[:2]
    assert albums.remove_selected() == 2 and len(albums.photos) == 2
    albums.rename_to = "Trip 2024"
    albums.rename()
    assert ctx.engine.library.albums.get(album.id).name == "Trip 2024"
    albums.delete()
    assert albums.albums == []

    dups = DuplicatesView(ctx)
    dups.find()
    assert dups.groups, dups.message
    group = next(g for g in dups.groups if "red_copy" in " ".join(p.path for p in g.photos))
    assert group.keep.path == "2023/sydney/red.jpg"  # the better copy is kept
    index = dups.groups.index(group)
    head, _grid, why = dups._body.objects[index].objects
    assert "keep **2023/sydney/red.jpg** (less compressed (JPEG quality" in head.objects[0].object
    assert r"2023/sydney/red\_copy.jpg: re-encoded (JPEG quality 90 → 70) · pHash " in why.object  # what and why
    assert " bits of 256 apart" in why.object
    assert any(isinstance(o, pn.widgets.Button) for o in head.objects)

    ctx.engine.settings.duplicate_review_size = 1  # every group now waits for a person's look
    dups.find()
    assert dups.groups and all(g.needs_review for g in dups.groups)
    assert " to review · " in dups.message and "0 extra copies shown" in dups.message
    head = dups._body.objects[0].objects[0]
    assert not any(isinstance(o, pn.widgets.Button) for o in head.objects)  # no delete button, the reason instead
    assert "⚠ Review: " in head.objects[-1].object and "more than 1 copies of one picture" in head.objects[-1].object
    assert dups.delete_group(0) == 0 and "flagged for review" in dups.message
    assert dups.delete_all() == 0
    ctx.engine.settings.duplicate_review_size = 12
    dups.find()
    group = next(g for g in dups.groups if "red_copy" in " ".join(p.path for p in g.photos))
    moved = dups.delete_group(dups.groups.index(group))
    assert moved >= 1 and ctx.photo(group.extras[0].id) is None

    search = SearchView(ctx)
    geo = MapView(ctx, search=search)
    geo.refresh()
    assert len(geo.markers) == 3 and "3 photos with GPS in the library" in geo.message  # red_copy is trashed
    search.param.update(query="green")
    search.search()
    geo.refresh()
    opened = []
    geo.opener = lambda ids, i: opened.append(ids)
    assert geo.message.startswith("3 photos with GPS of the")
    geo.open_marker(0)
    assert opened and ctx.photo(opened[0][0]).latitude is not None
    search.clear()  # no results: the map follows the sidebar's filters instead
    search.param.update(date_from=date(2024, 1, 1), date_to=date(2024, 12, 31))
    geo.refresh()
    assert [path_of(ctx, i) for m in geo.markers for i in m["ids"]] == ["2024/paris/green.jpg"]
    assert geo.message.startswith("1 photo with GPS passing the filters")
    search.param.update(date_from=None, date_to=None, formats=["PNG"])
    geo.refresh()
    assert geo.markers == [] and geo.message.startswith("0 photos with GPS passing the filters")


def test_assistant_chat_understands_searches_and_hands_over(ctx: Context) -> None:
    dash = Dashboard(ctx.engine)
    chat = dash.assistant
    assert "offline parser" in chat.gemini_status and "GEMINI_API_KEY" in chat.gemini_status

    turn = chat.ask("red photos in Australia")
    assert turn is not None and turn.error is None
    assert "place **Australia**" in turn.understood and "looking for “**red**”" in turn.understood
    assert "offline parser" in turn.understood
    assert {path_of(ctx, t.id) for t in turn.tiles} == {"2023/sydney/red.jpg", "2023/sydney/red_copy.jpg"}
    assert turn.summary.startswith("2 photos · ranked by ")
    assert all(0 < t.score <= 1 for t in turn.tiles)  # a similarity, not an RRF score

    city = chat.ask("red in Sydney")  # the big city, not the suburb the nearest locality is
    assert "place **Sydney**" in city.understood and {t.id for t in city.tiles} == {t.id for t in turn.tiles}

    dated = chat.ask("blue pictures from 2022")
    assert "taken **2022-01-01 – 2022-12-31**" in dated.understood
    assert [path_of(ctx, t.id) for t in dated.tiles] == ["2022/nyc/blue.jpg"]
    assert dated.summary.startswith("1 photo · ")
    assert chat.ask("   ") is None
    assert [t.question for t in chat.turns] == ["red photos in Australia", "red in Sydney", "blue pictures from 2022"]

    dash.tab = "Assistant"
    chat.open_in_search(turn)
    assert dash.tab == "Search"
    assert [t.id for t in dash.search.results] == [t.id for t in turn.tiles]
    assert "red photos in Australia" in dash.search.message
    chat.clear()
    assert chat.turns == []


def test_assistant_chat_says_when_gemini_answered(ctx: Context) -> None:
    fake = FakeGemini(replies=[{"query": "blue", "persons": [], "albums": [], "places": [], "date_from": "2022-01-01",
                                "date_to": "2022-12-31", "formats": [], "cameras": []}])
    with serve(fake.app()) as url:
        ctx.engine.settings.gemini_api_key = "test-key"
        ctx.engine.settings.gemini_base_url = url
        chat = AssistantView(ctx)
        assert chat.gemini_status.startswith("Gemini (")
        turn = chat.ask("синие фото двадцать второго года")
    assert turn.understood.startswith("Understood by Gemini")
    assert [path_of(ctx, t.id) for t in turn.tiles] == ["2022/nyc/blue.jpg"]
    assert len(fake.requests) == 1

    chat.use_gemini = False  # the user's own choice: the offline parser, and no request
    offline = chat.ask("blue pictures from 2022")
    assert offline.understood.startswith("Understood by the offline parser")
    assert len(fake.requests) == 1


def test_helpers() -> None:
    many = [GeoPhoto(i, f"p{i}", 10 + (i % 7) * 0.001, 20 + (i % 5) * 0.001, None) for i in range(CLUSTER_ABOVE + 50)]
    clustered = cluster(many)
    assert len(clustered) < len(many) and sum(m["count"] for m in clustered) == len(many)
    spread = [GeoPhoto(i, f"p{i}", 10 + i * 0.01, 20, None) for i in range(CLUSTER_ABOVE + 1)]
    assert len(cluster(spread)) < len(spread)  # too many spots: binned
    home = [GeoPhoto(1, "a", 55.75, 37.62, None), GeoPhoto(2, "b", 55.7502, 37.6201, None),
            GeoPhoto(3, "c", 48.85, 2.29, None)]
    by_count = sorted(cluster(home), key=lambda m: -m["count"])
    assert [m["ids"] for m in by_count] == [[1, 2], [3]] and by_count[0]["label"] == "2 photos"
    assert human_seconds(75) == "1m 15s" and human_seconds(None) == "—"
    assert in_date_range(None, None, None) and not in_date_range(None, date(2020, 1, 1), None)
    from engine.faces.records import Face

    face = Face(1, 2, "p", (10, 20, 30, 60), [], (10, 20, 30, 60), 100, 200, 0, 0.9, 30, "F", None, None, None, None, "m")
    assert face_box(face) == {"id": 1, "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2, "assigned": False, "label": "? · 30"}


def test_user_text_is_shown_as_typed_never_as_html(ctx: Context) -> None:
    """Queries, names and paths go into Markdown panes, which pass raw HTML through: they are escaped."""
    import html

    import panel as pn

    def inner_html(markdown: str) -> str:  # what the browser puts into the page
        return html.unescape(pn.pane.Markdown(markdown)._transform_object(markdown)["object"])

    sneaky = '<img src=x onerror="alert(1)"> *bold*'
    view = SearchView(ctx)
    view.param.update(query=sneaky)
    view.search()
    shown = inner_html(view.message)
    assert "<img" not in shown and "&lt;img" in shown and "<em>" not in shown and "*bold*" in shown

    person = ctx.engine.faces.persons.create(sneaky)
    parsed = ctx.engine.assistant.understand(f"{sneaky} photos", use_gemini=False)
    from engine.assistant.parser import Named

    shown = inner_html(describe_parsed(replace(parsed, persons=(Named(person.id, person.name),))))
    assert "<img" not in shown and "&lt;img" in shown
