"""The dashboard in real headless Chromium against the real server and an indexed little library.

Each test gets its own server over its own copy of the library, so they pass in any order. Every
page must load without script errors and without a request leaving 127.0.0.1. Every view is saved
as a screenshot at desktop and phone width (see `tests/e2e/conftest.py` for where).
"""
from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, PHONE_UA, Live, shot

pytestmark = pytest.mark.timeout(240)


def open_page(browser, live: Live, viewport=DESKTOP, *, phone: bool = False, dark: bool = False):
    """A page in its own browser context: desktop size, or a real phone's emulation (`is_mobile`,
    touch, a phone user agent, so the viewport meta applies), in the system's light or dark mode."""
    scheme = "dark" if dark else "light"
    if phone or viewport == PHONE:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, user_agent=PHONE_UA,
                                      device_scale_factor=2, color_scheme=scheme)
    else:
        context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    errors: list[str] = []
    console: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: console.append(f"{m.text} ({m.location.get('url', '')})") if m.type == "error" else None)
    page.on("request", lambda r: outside.append(r.url) if urlsplit(r.url).hostname not in ("127.0.0.1", None) else None)
    page.goto(live.url + "/", wait_until="domcontentloaded", timeout=120_000)  # a limit on a busy machine
    page.locator(".bk-tab", has_text="Admin").wait_for(timeout=30_000)
    page.errors, page.console_errors, page.outside = errors, console, outside
    return page


def finish(page) -> None:
    """No script errors, no errors in the console, nothing fetched from outside (icons, fonts and
    tiles all local), then close."""
    assert not page.errors, page.errors
    assert not page.console_errors, page.console_errors
    assert not page.outside, sorted(set(page.outside))[:10]
    page.context.close()


def search(page, text: str) -> None:
    """Search from the sidebar and wait for the answer: the Search tab shows, its skeletons gone."""
    box = page.locator("input[placeholder='sunset over the sea…']")
    box.fill(text)
    box.press("Enter")
    wait_search(page)


def wait_search(page) -> None:
    """The Search tab shows and its skeletons are gone (the timeline's photos are no answer)."""
    deadline = time.time() + 30
    while active_tab(page) != "Search":
        if time.time() > deadline:
            raise AssertionError(f"the Search tab never showed (on {active_tab(page)!r})")
        page.wait_for_timeout(100)
    page.wait_for_function(NO_SKELETONS, timeout=60_000)


NO_SKELETONS = """() => { let n = 0;
  const walk = r => r.querySelectorAll('*').forEach(e => { if (e.shadowRoot) walk(e.shadowRoot);
    if (e.classList.contains('skeleton')) n++; });
  walk(document); return n === 0; }"""


DEEP_TEXT = """sel => { const out = [];
  const walk = n => { if (n.nodeType === 3) { out.push(n.textContent); return; }
    if (n.nodeType !== 1 && n.nodeType !== 11) return;
    if (n.tagName === 'STYLE' || n.tagName === 'SCRIPT') return;
    if (n.shadowRoot) walk(n.shadowRoot);
    n.childNodes.forEach(walk); };
  const roots = [];
  const find = r => r.querySelectorAll('*').forEach(e => { if (e.matches(sel)) roots.push(e); if (e.shadowRoot) find(e.shadowRoot); });
  if (sel) find(document); else roots.push(document.body);
  roots.forEach(walk); return out.join(' '); }"""


def text(page, selector: str | None = None) -> str:
    """Visible-or-not text under `selector`, shadow roots included (Panel renders into them), spaces collapsed."""
    return " ".join(page.evaluate(DEEP_TEXT, selector).split())


def wait_text(page, needle: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while needle not in text(page):
        if time.time() > deadline:
            raise AssertionError(f"{needle!r} never appeared; page text: {text(page)[:2000]}")
        page.wait_for_timeout(150)


def cells(page):
    return page.locator(".grid .cell")


def wait_images(page, count: int = 1) -> None:
    page.wait_for_function(
        "n => { const all = []; const walk = r => { r.querySelectorAll('*').forEach(e => { if (e.shadowRoot) walk(e.shadowRoot);"
        " if (e.tagName === 'IMG' && e.complete && e.naturalWidth > 0) all.push(e); }); }; walk(document);"
        " return all.length >= n; }",
        arg=count, timeout=20_000)


def tab(page, name: str) -> None:
    page.locator(".bk-tab", has_text=name).first.click()


def _photo(live: Live, photo_id: int):
    from engine.db import photos as photo_rows

    with live.engine.db.connection() as conn:
        return photo_rows.get(conn, photo_id)


def _by_path(live: Live, path: str):
    from engine.db import photos as photo_rows

    with live.engine.db.connection() as conn:
        return photo_rows.get_by_path(conn, path)


def grid_ids(page) -> list[int]:
    return [int(x) for x in cells(page).evaluate_all("els => els.map(e => e.dataset.id)")]


def test_search_by_text_and_open_lightbox(live: Live, browser) -> None:
    page = open_page(browser, live)
    shot(page, "empty-desktop")
    search(page, "red")
    page.locator(".grid .cell").first.wait_for(timeout=20_000)
    ids = grid_ids(page)
    assert ids, "no results"
    top = [_photo(live, i).path for i in ids[:3]]
    assert all("red" in p for p in top), top
    wait_images(page, 3)
    shot(page, "search-desktop")

    cells(page).first.click()
    stage_img = page.locator(".lightbox .frame img")
    stage_img.wait_for(timeout=15_000)
    page.wait_for_function("() => true")
    assert page.locator(".lightbox").is_visible()
    # next and previous
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(500)
    assert re.search(r" 2/\d+", text(page, ".lightbox")), text(page, ".lightbox")
    page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(500)
    shot(page, "lightbox-desktop")
    page.keyboard.press("Escape")
    page.locator(".lightbox").wait_for(state="hidden", timeout=10_000)
    finish(page)


def test_lightbox_faces_assign_new_person_and_rotate(live: Live, browser) -> None:
    page = open_page(browser, live)
    search(page, "anna")  # any query: then open a photo with two faces by id order
    page.locator(".grid .cell").first.wait_for(timeout=20_000)
    ids = grid_ids(page)
    target = _by_path(live, "people/both.png")
    assert target.id in ids, "the two-face photo should be among the results"
    page.locator(f".grid .cell[data-id='{target.id}']").click()
    page.locator(".lightbox .frame img").wait_for(timeout=15_000)

    page.get_by_role("button", name="Faces", exact=True).click()
    boxes = page.locator(".lightbox .box")
    boxes.first.wait_for(timeout=10_000)
    assert boxes.count() == 2
    # both faces unassigned at first: yellow dashed
    assert page.locator(".lightbox .box.unassigned").count() == 2
    shot(page, "lightbox-faces-desktop")

    boxes.first.click()
    page.get_by_placeholder("Name", exact=True).fill("Tanya")
    page.get_by_role("button", name="Create person").click()
    page.locator(".lightbox .box:not(.unassigned)").first.wait_for(timeout=10_000)
    faces = live.engine.faces.of_photo(target.id)
    assert any(f.person_name == "Tanya" for f in faces), faces
    assert "Tanya" in text(page, ".lightbox")
    shot(page, "lightbox-face-popup-desktop")

    before = _photo(live, target.id).rotation
    page.get_by_role("button", name="↻").click()
    page.wait_for_function("() => true")
    deadline = time.time() + 10
    while _photo(live, target.id).rotation == before and time.time() < deadline:
        time.sleep(0.1)
    assert _photo(live, target.id).rotation == (before + 90) % 360
    page.wait_for_timeout(800)
    # the boxes follow the rotation: the photo is now portrait, so the boxes are re-laid out
    assert page.locator(".lightbox .box").count() == 2
    shot(page, "lightbox-rotated-desktop")
    page.get_by_role("button", name="↺").click()
    deadline = time.time() + 10
    while _photo(live, target.id).rotation != before and time.time() < deadline:
        time.sleep(0.1)
    assert _photo(live, target.id).rotation == before
    page.keyboard.press("Escape")  # leaves the face popup
    page.keyboard.press("Escape")  # closes the lightbox
    page.locator(".lightbox").wait_for(state="hidden", timeout=10_000)
    finish(page)


def test_search_by_uploaded_image(live: Live, browser) -> None:
    page = open_page(browser, live)
    page.locator(".upload input[type=file]").set_input_files(str(live.files["green"]))
    wait_search(page)
    page.locator(".grid .cell").first.wait_for(timeout=30_000)
    first = _photo(live, grid_ids(page)[0])
    assert first.path == "2024/paris/green.jpg", first.path
    assert "like green.jpg" in text(page)
    finish(page)


def test_phone_layout(live: Live, browser) -> None:
    """A real phone's emulation: the page is laid out for 390 px (not a shrunk desktop), the filters
    are a drawer with a backdrop that closes once a search runs, the tab bar scrolls, tables keep
    their words whole and what a finger presses is at least 40 px tall."""
    page = open_page(browser, live, phone=True)
    layout = page.evaluate("() => [window.innerWidth, document.documentElement.clientWidth,"
                           " document.querySelector('meta[name=viewport]')?.content]")
    assert layout[0] == layout[1] == 390 and "width=device-width" in layout[2], layout
    assert not page.locator("#sidebar.show").count()  # the drawer starts closed
    wait_images(page, 3)
    shot(page, "timeline-phone")
    page.locator("#sidebar-toggle").click()
    page.locator("#pi-backdrop.show").wait_for(timeout=10_000)
    shot(page, "filters-drawer-phone")
    search(page, "blue")
    page.locator("#pi-backdrop.show").wait_for(state="detached", timeout=10_000)
    page.locator(".grid .cell").first.wait_for(timeout=20_000)
    assert not page.locator("#sidebar.show").count() and active_tab(page) == "Search"
    wait_images(page, 2)
    shot(page, "search-phone")
    small = page.evaluate(TOO_SMALL)
    assert not small, small  # every visible button, input and tab is at least 40 px tall

    page.get_by_role("button", name="Select", exact=True).click()
    page.locator(".grid.selecting").wait_for(timeout=10_000)
    cells(page).nth(0).click()
    cells(page).nth(1).click()
    wait_text(page, "2 selected")
    shot(page, "select-phone")
    page.keyboard.press("Escape")
    page.locator(".grid.selecting").wait_for(state="detached", timeout=10_000)
    cells(page).first.click()
    page.locator(".lightbox .frame img").wait_for(timeout=15_000)
    page.get_by_role("button", name="Info").click()
    page.locator(".info-panel dl").wait_for(timeout=10_000)
    shot(page, "lightbox-phone")
    page.keyboard.press("Escape")
    page.locator(".lightbox").wait_for(state="hidden", timeout=10_000)

    header = page.evaluate(TAB_BAR)
    assert header["scrollable"] and not header["wrapped"], header  # one row that scrolls sideways
    for name in ("Assistant", "Persons", "Map", "Duplicates", "Albums", "Trash", "Admin"):
        tab(page, name)  # the last ones are reached by scrolling the bar
        page.wait_for_timeout(900)
        assert active_tab(page) == name
        shot(page, f"{name.lower()}-phone")
    page.get_by_role("button", name="Index all").wait_for(timeout=10_000)
    broken = page.evaluate(BROKEN_WORDS)
    assert not broken, broken
    finish(page)


def active_tab(page) -> str:
    return page.locator(".bk-tab.bk-active").first.inner_text().strip()


TOO_SMALL = """() => { const out = [];
  const walk = r => r.querySelectorAll('*').forEach(e => { if (e.shadowRoot) walk(e.shadowRoot);
    if (!['BUTTON', 'INPUT', 'SELECT'].includes(e.tagName) && !e.classList.contains('bk-tab')) return;
    if (e.type === 'file' || e.type === 'checkbox' || e.type === 'range' || e.type === 'hidden') return;
    const r = e.getBoundingClientRect();
    if (r.width && r.height && r.bottom > 0 && r.top < innerHeight && r.height < 40)
      out.push(`${e.tagName} "${(e.innerText || e.placeholder || e.value || '').trim().slice(0, 30)}" ${Math.round(r.height)}px`); });
  walk(document); return out; }"""
"""Visible controls under 40 px tall (checkboxes count by their 40 px label row, file inputs by their button)."""

TAB_BAR = """() => { let bar = null;
  const walk = r => r.querySelectorAll('*').forEach(e => { if (e.shadowRoot) walk(e.shadowRoot);
    if (!bar && e.classList.contains('main-tabs') && e.shadowRoot) bar = e.shadowRoot.querySelector('.bk-header'); });
  walk(document);
  const tops = new Set([...bar.querySelectorAll('.bk-tab')].map(t => Math.round(t.getBoundingClientRect().top)));
  const scroller = bar.querySelector('.bk-headers-wrapper') || bar;  // Bokeh's tabs scroll in a wrapper
  return {scrollable: scroller.scrollWidth > scroller.clientWidth && getComputedStyle(scroller).overflowX !== 'hidden',
          wrapped: tops.size > 1}; }"""

BROKEN_WORDS = """() => { const out = [];
  const walk = r => r.querySelectorAll('*').forEach(e => { if (e.shadowRoot) walk(e.shadowRoot);
    if (e.tagName !== 'TD' && e.tagName !== 'TH') return;
    const s = getComputedStyle(e);
    if (s.wordBreak === 'break-all' || s.wordBreak === 'break-word') out.push(e.innerText.slice(0, 40)); });
  walk(document); return out; }"""
"""Table cells that may break inside a word."""


def test_select_and_delete_to_trash(live: Live, browser) -> None:
    page = open_page(browser, live)
    search(page, "blue")
    page.locator(".grid .cell").first.wait_for(timeout=20_000)
    page.get_by_role("button", name="Select", exact=True).click()
    page.locator(".grid.selecting").wait_for(timeout=10_000)
    ids = grid_ids(page)
    victims = [i for i in ids if "misc/blue_" in _photo(live, i).path][:2]
    assert len(victims) == 2
    for i in victims:
        page.locator(f".grid .cell[data-id='{i}']").click()
    wait_text(page, "2 selected")
    shot(page, "select-desktop")
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Move to trash").click()
    wait_text(page, "Moved 2 photos to the trash")
    for i in victims:
        assert page.locator(f".grid .cell[data-id='{i}']").count() == 0
        assert _photo(live, i) is None
    trashed, total = live.engine.library.trash.list()
    assert {t.photo_id for t in trashed} >= set(victims)
    assert not (live.library / "misc" / "blue_0.jpg").exists()
    finish(page)


def ask(page, question: str) -> None:
    box = page.locator(".ask input")
    box.fill(question)
    box.press("Enter")


def test_assistant_chat_and_open_in_search(live: Live, browser) -> None:
    page = open_page(browser, live)
    tab(page, "Assistant")
    wait_text(page, "The offline parser understands the requests")
    ask(page, "red photos in Australia")
    wait_text(page, "2 photos · ranked by")
    assert "place Australia" in text(page, ".answer")
    wait_images(page, 2)
    sydney = {_photo(live, i).path for i in grid_ids(page)}
    assert sydney == {"2023/sydney/red.jpg", "2023/sydney/red_copy.jpg"}, sydney
    ask(page, "blue pictures from 2022")
    wait_text(page, "1 photo · ranked by")
    assert "taken 2022-01-01 – 2022-12-31" in text(page, ".answer")
    shot(page, "assistant-desktop")

    page.get_by_role("button", name="Open in Search").first.click()
    wait_text(page, "2 photos for “red photos in Australia” (assistant)")
    assert {_photo(live, i).path for i in grid_ids(page)} == sydney
    cells(page).first.click()
    page.locator(".lightbox .frame img").wait_for(timeout=15_000)
    page.keyboard.press("Escape")
    finish(page)


MAP_MARKERS = """() => {
  const views = [...window.Bokeh.index.all_views()];
  const plot = views.find(v => v.model.type === 'Figure');
  const glyph = views.find(v => v.model.type === 'GlyphRenderer');
  const rect = plot.canvas_view.el.getBoundingClientRect(), data = glyph.model.data_source.data;
  return data.x.map((x, i) => [rect.left + plot.frame.x_scale.compute(x),
                               rect.top + plot.frame.y_scale.compute(data.y[i]), data.label[i]]); }"""
"""Where the map draws each marker, in page pixels, with its label."""


def test_map_persons_duplicates_albums(live: Live, browser) -> None:
    both = live.engine.faces.of_photo(_by_path(live, "people/both.png").id)
    live.engine.faces.persons.assign(both[0].id, None, new_name="Tanya")
    page = open_page(browser, live)
    tab(page, "Map")
    page.locator(".bk-Canvas, canvas").first.wait_for(timeout=20_000)
    wait_text(page, "4 photos with GPS")
    deadline = time.time() + 20
    while not live.tiles.requests and time.time() < deadline:
        page.wait_for_timeout(200)
    assert live.tiles.requests, "the map fetched no tiles from MAP_TILES_URL"
    shot(page, "map-desktop")
    markers = {label: (x, y) for x, y, label in page.evaluate(MAP_MARKERS)}
    assert set(markers) == {"2022/nyc/blue.jpg", "2024/paris/green.jpg", "2 photos"}, markers  # Sydney: one spot
    page.mouse.click(*markers["2 photos"])
    page.locator(".lightbox .frame img").wait_for(timeout=15_000)
    wait_text(page, " 1/2")
    assert "Sydney, Australia" in text(page, ".lightbox")
    page.keyboard.press("Escape")
    page.locator(".lightbox").wait_for(state="hidden", timeout=10_000)

    tab(page, "Persons")
    wait_text(page, "Tanya")
    wait_images(page, 1)
    shot(page, "persons-desktop")

    tab(page, "Duplicates")
    page.get_by_role("button", name="Find duplicates").click()
    wait_text(page, "Group 1")
    wait_images(page, 2)
    shot(page, "duplicates-desktop")

    tab(page, "Albums")
    page.get_by_placeholder("New album name").fill("Holidays")
    page.get_by_role("button", name="Create album").click()
    wait_text(page, "Created “Holidays”")
    album = live.engine.library.albums.list("Holidays")[0]
    live.engine.library.albums.add(album.id, [p.id for p in _all_photos(live)[:5]])
    page.reload(wait_until="networkidle")  # photos added behind the page's back: a new session shows them
    tab(page, "Albums")
    wait_text(page, "5 photos")
    page.locator(".card", has_text="Holidays").first.click()
    wait_text(page, "Holidays · 5 photos")
    wait_images(page, 3)
    shot(page, "albums-desktop")
    finish(page)


def _all_photos(live: Live):
    hits = live.engine.search.text("x", model=live.engine.settings.clip_model, top_k=50).hits
    return hits


def test_admin_job_progress_moves(live: Live, browser) -> None:
    page = open_page(browser, live)
    tab(page, "Admin")
    page.get_by_role("button", name="Index all").wait_for(timeout=10_000)
    with live.engine.db.connection() as conn:  # make the faces and pHash stages do real work again
        conn.execute("UPDATE photos SET faces_indexed = false, phash = NULL, phash_indexed = false")
    page.get_by_role("button", name="Index all").click()
    seen: list[str] = []
    deadline = time.time() + 90
    while time.time() < deadline:
        states = page.locator(".job").evaluate_all("els => els.map(e => e.dataset.state + ':' + e.innerText)")
        if states:
            seen.append(" | ".join(states))
        if states and all(s.startswith(("done", "failed", "cancelled")) for s in states):
            break
        page.wait_for_timeout(150)
    assert seen, "no job rows appeared"
    assert any("queued" in s or "running" in s for s in seen[:-1] + [seen[0]]), seen[:5]
    final = seen[-1]
    assert "failed:" not in final.split(" | ")[0] and "100%" in final, final
    shot(page, "admin-desktop")
    finish(page)
