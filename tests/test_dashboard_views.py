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
from engine.search.filters import SearchFilters
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
    view.search()  # fused over every indexed model: here one, and it says so
    assert view.results and "only ViT-B/32 is indexed" in view.message

    opened = []
    view.opener = lambda ids, i: opened.append((ids, i))
    view.open(view.results[2].id)
    assert opened == [([t.id for t in view.results], 2)]

    selection = view.selection
    selection.toggle()
    assert view.grid.select_mode
    victims = [t.id for t in view.results if "misc/blue_" in path_of(ctx, t.id)]
    selection.start(victims)
    assert view.grid.selected == victims
    selection.ask_delete()
    assert selection.confirm_delete
    selection.delete()
    assert not selection.confirm_delete and selection.selected == [] and not selection.active
    assert all(ctx.photo(i) is None for i in victims)
    assert not any(t.id in victims for t in view.results)
    assert selection.undo.text == f"Moved {len(victims)} photos to the trash"
    selection.undo.undo()  # the notice's Undo: back with the same ids
    assert all(ctx.photo(i) is not None for i in victims) and selection.undo.text == "Restored 2 photos"


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
    assert "both.png" in box.info and "people/" not in box.info
    assert len(box.faces) == 2 and all(not f["assigned"] for f in box.stage.faces)
    assert all(0 <= f["x"] <= 1 and 0 < f["w"] <= 1 for f in box.stage.faces)

    box.toggle_faces()
    assert box.stage.show_faces
    first = box.faces[0]
    box.select_face(first.id)
    assert "Age" in box.face_summary() and "unassigned" in box.face_summary() and "#" not in box.face_summary()
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
    assert "pHash (duplicates)" in html and "100%" in html and "<b>#" not in html  # no job ids in text
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
    head, cards, delete = dups._body.objects[index].objects[:3]
    assert "keep **red.jpg** (less compressed (JPEG quality" in head.object
    copy = next(c for c in cards.objects if "red_copy.jpg" in c.objects[0].object)
    assert "re-encoded (JPEG quality 90 → 70) · pHash " in copy.objects[0].object  # what and why
    assert " bits of 256 apart" in copy.objects[0].object
    assert isinstance(delete, pn.widgets.Button) and delete.visible and not delete.disabled

    ctx.engine.settings.duplicate_review_size = 1  # every group now waits for a person's look
    dups.find()
    assert dups.groups and all(g.needs_review for g in dups.groups)
    assert " to review · " in dups.message and "0 extra copies shown" in dups.message
    head, _cards, delete = dups._body.objects[0].objects[:3]
    assert not delete.visible  # no delete button, the reason instead
    assert "flagged for review" in head.object and "more than 1 copies of one picture" in head.object
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


def by_path(ctx: Context, path: str) -> int:
    from engine.db import photos as photo_rows

    with ctx.engine.db.connection() as conn:
        return photo_rows.get_by_path(conn, path).id


def test_timeline_pages_groups_jumps_filters_and_stays_current(ctx: Context) -> None:
    from dashboard.views import timeline as timeline_module
    from dashboard.views.timeline import TimelineView

    flt: dict[str, SearchFilters | None] = {"now": None}
    view = TimelineView(ctx, filters=lambda: flt["now"])
    view.load()
    total = len(ctx.engine.library.timeline.page(limit=1000))
    assert view.message == f"{total} photos" and len(view.photos) == total
    items = view.grid.items
    assert items[0]["month"] and items[0]["day"] and view.grid.grouped
    dated = [i for i in items if i["month"] in ("July 2023", "May 2024", "January 2022")]
    assert [i["month"] for i in dated] == ["May 2024", "July 2023", "July 2023", "January 2022"]  # newest first
    assert {m["year"] for m in view.scrubber.months} >= {2022, 2023, 2024}
    assert all(not any(ch.isdigit() for ch in str(i.get("badge", ""))) for i in items)  # no scores, no ids

    view.jump("2023-07")  # the scrubber
    assert [path_of(ctx, p.id) for p in view.photos][:2] == ["2023/sydney/red_copy.jpg", "2023/sydney/red.jpg"]
    assert view.has_newer and view.month == "2023-07"
    view.newer()
    assert len(view.photos) == total and not view.has_newer

    # small pages: infinite scroll down, a bounded window, and back up
    timeline_module.PAGE, timeline_module.WINDOW = 4, 8
    try:
        view.load()
        assert len(view.photos) == 4 and view.has_older
        for _ in range(5):
            view.older()
        assert len(view.photos) <= 8 and view.has_newer  # the top was dropped
        seen = {p.id for p in view.photos}
        while view.has_newer:
            view.newer()
            seen |= {p.id for p in view.photos}
        assert len(view.photos) <= 8 and len(seen) == total
    finally:
        timeline_module.PAGE, timeline_module.WINDOW = 200, 1000

    flt["now"] = SearchFilters.of(formats=["PNG"])
    view.load()
    assert {path_of(ctx, p.id).rsplit(".", 1)[1] for p in view.photos} == {"png"}
    assert view.message.endswith("photos matching the filters")
    flt["now"] = SearchFilters.of(date_from=date(1990, 1, 1), date_to=date(1990, 12, 31))
    view.load()
    assert view.photos == [] and view.grid.empty_text == "No photos match the filters in the sidebar."

    flt["now"] = None
    view.load()
    red = by_path(ctx, "2023/sydney/red.jpg")
    ctx.engine.library.trash.move_to_trash([red])  # elsewhere: another page, the REST API
    view.refresh()
    assert red not in [p.id for p in view.photos] and view.message == f"{total - 1} photos"


def test_timeline_selection_like_a_photo_app(ctx: Context) -> None:
    from dashboard.views.timeline import TimelineView

    view = TimelineView(ctx)
    view.load()
    sel = view.selection
    ids = [p.id for p in view.photos]
    view.grid._handle_msg({"type": "select", "ids": ids[2:5]})  # shift-click range / long press, from the browser
    assert sel.active and sel.selected == ids[2:5] and view.grid.select_mode and view.grid.selected == ids[2:5]
    sel.select_all()
    assert sel.selected == ids
    sel.select_none()
    assert sel.selected == [] and sel.active
    view.grid._handle_msg({"type": "escape"})
    assert not sel.active

    view.grid._handle_msg({"type": "select", "ids": ids[:3]})
    album_id = sel.create_album("From the timeline")
    album = ctx.engine.library.albums.get(album_id)
    assert album.photo_count == 3 and "Created “From the timeline” with 3 photos" == sel.message

    view.grid._handle_msg({"type": "delete", "ids": [ids[0]]})  # the Delete key on the focused photo: asked first
    assert sel.confirm_delete and sel.selected == ids[:3]
    view.grid._handle_msg({"type": "escape"})  # Escape closes the question, keeps the selection
    assert not sel.confirm_delete and sel.selected == ids[:3]
    sel.ask_delete()
    sel.delete()
    assert all(ctx.photo(i) is None for i in ids[:3]) and sel.undo.text == "Moved 3 photos to the trash"
    view.refresh()
    assert not set(ids[:3]) & {p.id for p in view.photos}
    sel.undo.undo()
    view.refresh()
    assert set(ids[:3]) <= {p.id for p in view.photos}
    assert ctx.engine.library.albums.get(album_id).photo_count == 3  # back in their album too


def test_trash_view_restores_explains_conflicts_and_empties_after_asking(ctx: Context) -> None:
    from dashboard.views.trash import TrashView

    trash = ctx.engine.library.trash
    red, blue, green = (by_path(ctx, p) for p in ("2023/sydney/red.jpg", "2022/nyc/blue.jpg", "2024/paris/green.jpg"))
    trash.move_to_trash([red, blue, green], reason="test")
    view = TrashView(ctx)
    view.refresh()
    assert view.total == 3 and view.summary().startswith("**3 photos** in the trash")
    shown = {i["badge"] for i in view.grid.items}
    assert shown == {"2023/sydney", "2022/nyc", "2024/paris"}  # the original folders
    assert {i["month"] for i in view.grid.items} == {"Trashed today"}
    assert view.grid.items[0]["src"].startswith("/ui/trash/")

    by_photo = {t.photo_id: t.trash_id for t in view.items}
    (ctx.engine.settings.photos_dir / "2022/nyc/blue.jpg").write_bytes(b"a new file at the old path")
    view.select([by_photo[red], by_photo[blue]])
    assert view.restore() == 1
    assert ctx.photo(red) is not None and ctx.photo(blue) is None
    assert "Restored 1 photo; 1 photo stayed in the trash (2022/nyc/blue.jpg): a photo is at the old path" in view.message
    assert view.total == 2

    view.ask("empty")
    assert view.confirm == "empty"
    view.escape()
    assert view.confirm is None and view.total == 2  # nothing deleted without the answer
    view.select_none()
    view.ask("purge")
    assert view.confirm is None and "Tick the photos" in view.message
    view.select([by_photo[green]])
    view.ask("purge")
    assert view.confirm == "purge"
    assert view.purge() == 1 and view.total == 1 and "Deleted 1 photo for good" == view.message
    view.ask("empty")
    assert view.purge() == 1 and view.total == 0 and view.grid.empty_text.startswith("The trash is empty")


def test_duplicates_review_keeper_changeable_asked_and_undoable(ctx: Context) -> None:
    from dashboard.views.duplicates import needs_review

    dups = DuplicatesView(ctx)
    dups.find()
    index = next(i for i, g in enumerate(dups.groups) if "red_copy" in " ".join(p.path for p in g.photos))
    group = dups.groups[index]
    assert dups.keep(index).path == "2023/sydney/red.jpg" and "matched by phash" in dups.reason(index)
    copy = next(p for p in group.photos if p.path.endswith("red_copy.jpg"))
    dups.choose_keeper(index, copy.id)  # the user prefers the other copy
    assert dups.keep(index).id == copy.id and [p.path for p in dups.others(index)] == ["2023/sydney/red.jpg"]
    original = dups.others(index)[0].id
    dups.ask_delete_group(index)  # one photo: at once, with Undo
    assert ctx.photo(original) is None and ctx.photo(copy.id) is not None
    assert dups.undo.text.replace("\\", "").startswith("Kept red_copy.jpg: moved 1 extra copy to the trash")
    dups.undo.undo()
    assert ctx.photo(original) is not None

    dups.find()
    flagged = dups.groups[0]
    flagged.review = ["joined through other photos"]  # as the engine flags a doubtful group
    assert needs_review(flagged) and not dups.deletable(0)
    before = ctx.photo(flagged.photos[1].id)
    dups.ask_delete_group(0)
    dups.delete_group(0)
    assert ctx.photo(before.id) is not None and dups.confirm_group is None  # never deleted in one click
    flagged.review = []

    dups.ask_delete_all()
    assert dups.confirm_all and "Move **" in dups._all_text and "extra cop" in dups._all_text
    planned = list(dups._all_plan)
    assert planned and all(ctx.photo(i) is not None for i in planned)
    moved = dups.delete_all()
    assert moved == len(planned) and all(ctx.photo(i) is None for i in planned)
    dups.undo.undo()
    assert all(ctx.photo(i) is not None for i in planned)


def test_first_run_without_the_model(tmp_path: Path, database_url: str, library: Path, tiny_face_pack: Path,
                                     dask_cluster) -> None:
    """A new user's case: no image-text weights. The timeline, map and faces work; search says what to run."""
    from dashboard.views.model_card import ModelCard, setup_command
    from dashboard.views.timeline import TimelineView
    from engine.config import Settings

    build_library(library)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=database_url, photos_dir=library,
                        clip_model="SigLIP", clip_device="cpu", models_dir=tmp_path / "no-models",
                        index_on_start=False, face_model_dir=tiny_face_pack, face_model_download=False,
                        face_min_size=10, map_tiles_url="")
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    try:
        job = engine.start_index_job()
        engine.jobs.wait(job.id, timeout=300)
        ctx = Context(engine)
        dash = Dashboard(engine)
        assert dash.tab == "Timeline" and len(dash.timeline.photos) == len(list(library.rglob("*.*")))
        card = dash.timeline.model_card
        assert card.problem and "SigLIP" in card.problem
        command = setup_command(card.problem)
        assert command and command in card._html(card.problem, None)  # the whole command, never cut off
        assert "Search by description needs the image-text model SigLIP" in card._html(card.problem, None)
        assert command == "photoindex models download SigLIP"
        from engine.jobs.runner import JobStatus

        started: list[str] = []  # the card's button starts the engine's download job (no network here)
        engine.start_model_download_job = lambda name: (started.append(name), JobStatus(
            99, f"download:{name}", state="running", stage="downloading model.safetensors", done=3, total=10))[1]
        assert card.download().kind == "download:SigLIP" and started == ["SigLIP"]
        assert "downloading model.safetensors · 30%" in card._html(card.problem, card.job)

        search = dash.search
        search.param.update(query="red")
        search.search()
        assert search.results == [] and search.message.startswith("Search by description needs the image-text model")
        assert search.model_card.problem

        admin = AdminView(ctx)
        admin.refresh()
        row = next(j for j in admin.jobs if j["kind"] == "index:SigLIP")
        assert row["state"] == "metadata only" and "no vectors written" in row["note"]
        assert 'data-state="metadata only"' in jobs_html(admin.jobs) and "#198754" not in jobs_html(admin.jobs)
        assert admin.index_state("SigLIP") == "metadata only"
        assert "none yet (metadata only)" in dash.status.text
        assert ModelCard(ctx).check() is False
        assert engine.warm_in_background() is None  # nothing to warm: search says what to run instead
    finally:
        engine.close()


def test_live_state_follows_changes_made_elsewhere(ctx: Context) -> None:
    dash = Dashboard(ctx.engine)
    before = dash.status.text
    total = len(dash.timeline.photos)
    assert before.startswith(f"**{total} photos**")
    blue = by_path(ctx, "2022/nyc/blue.jpg")
    ctx.engine.library.trash.move_to_trash([blue])  # not through this page
    dash._changed_at = 0
    dash.tick()
    assert dash.status.text.startswith(f"**{total - 1} photos**")
    assert blue not in [p.id for p in dash.timeline.photos]  # the view on screen followed
    assert "Trash" in dash._stale  # the others refresh when shown
    dash.show_tab("Trash")
    assert [t.photo_id for t in dash.trash.items] == [blue]
    revision = dash.revision
    dash._changed_at = 0
    dash.tick()
    assert dash.revision == revision  # nothing changed: nothing refreshed


def test_lightbox_info_panel_and_search_details(ctx: Context) -> None:
    from dashboard.views.lightbox import exposure

    ctx.engine.settings.map_tiles_url = ""
    green = by_path(ctx, "2024/paris/green.jpg")
    box = Lightbox(ctx)
    box.show([green], 0)
    assert box.details == ""  # closed: nothing computed
    box.key("i")
    assert box.show_info
    info = box.details
    for needle in ("Canon EOS R6", "RF24-105mm F4 L IS USM", "1/250 s · ƒ/8 · ISO 200 · 35 mm", "640×480",
                   "2024/paris/green.jpg", "Paris, France", "Map tiles are unavailable", "Wednesday, 1 May 2024"):
        assert needle in info, (needle, info)
    assert exposure({"ExposureTime": 0.05, "FNumber": 1.8, "ISOSpeedRatings": 40}) == "1/20 s · ƒ/1.8 · ISO 40"
    assert exposure({"ExposureTime": [1, 4]}) == "1/4 s" and exposure({}) == ""

    ctx.engine.settings.map_tiles_url = "http://127.0.0.1:9/{Z}/{X}/{Y}.png"
    box.show([green], 0)
    assert "the tile server cannot be reached" in box.details

    view = SearchView(ctx)
    view.param.update(query="red")
    view.search()
    assert any(i["badge"].endswith("%") for i in view.grid.items)
    view.sort = "date"
    dated = [t.taken_at for t in view.shown() if t.taken_at]
    assert dated == sorted(dated, reverse=True) and not any(i["badge"].endswith("%") for i in view.grid.items)
    view.find_similar(green)
    assert "similar to green.jpg" in view.message and str(green) not in view.message
    view.param.update(upload=None, similar_to=None, multi_model=True, sort="relevance")
    view.search()
    assert "only ViT-B/32 is indexed" in view.message
    view.clear()
    assert view.query == "" and view.results == [] and view.formats == []
