"""The dashboard as a photo app, in real headless Chromium: the timeline home page, selection as
in the apps people know, the trash, the duplicates review, the lightbox's info panel, a new
user's first start offline without a model, dark mode, and the page staying current by itself.

Each test gets its own server over its own copy of the library (see conftest.py); every page
must load without script or console errors and without a request leaving 127.0.0.1.
"""
from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import Live, shot
from tests.e2e.test_dashboard_browser import (_by_path, _photo, active_tab, cells, finish, grid_ids, open_page,
                                              search, tab, text, wait_images, wait_text)

pytestmark = pytest.mark.timeout(900)  # a limit on a hung browser, not a timing assertion; the first test builds the library

MONTHS = """() => { const out = [];
  const walk = r => r.querySelectorAll('*').forEach(e => { if (e.shadowRoot) walk(e.shadowRoot);
    if (e.classList.contains('month')) out.push(e.textContent); });
  walk(document); return out; }"""

CALENDAR_SHOWN_WHOLE = """() => { let cal = null;
  const walk = r => r.querySelectorAll('*').forEach(e => { if (e.shadowRoot) walk(e.shadowRoot);
    if (!cal && e.classList.contains('flatpickr-calendar') && e.classList.contains('open')) cal = e; });
  walk(document);
  if (!cal) return 'no open calendar';
  const r = cal.getBoundingClientRect();
  if (r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight) return 'outside the window';
  for (const [x, y] of [[r.left + 4, r.top + 4], [r.right - 4, r.top + 4], [r.right - 4, r.bottom - 4], [r.left + 4, r.bottom - 4]]) {
    const hit = cal.getRootNode().elementFromPoint(x, y);
    if (!hit || !cal.contains(hit)) return `cut off at ${Math.round(x)},${Math.round(y)}`;
  }
  return 'ok'; }"""
"""The open calendar lies inside the window and each of its corners is on top (nothing clips it)."""

BADGES = "els => els.map(e => (e.querySelector('.badge') || {}).textContent || '')"


def months(page) -> list[str]:
    return page.evaluate(MONTHS)


def wait_cells(page, n: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while cells(page).count() != n:
        if time.time() > deadline:
            raise AssertionError(f"{cells(page).count()} cells, not {n}")
        page.wait_for_timeout(150)


def wait_cells_at_least(page, n: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while cells(page).count() < n:
        if time.time() > deadline:
            raise AssertionError(f"{cells(page).count()} cells, fewer than {n}")
        page.wait_for_timeout(150)


def test_timeline_is_home_with_scrubber_dates_and_paged_search(live: Live, browser) -> None:
    page = open_page(browser, live)
    assert active_tab(page) == "Timeline"
    deadline = time.time() + 60
    while not live.engine.models.loaded() and time.time() < deadline:  # warmed at start, before any search
        time.sleep(0.2)
    assert live.engine.models.loaded() == [live.engine.settings.clip_model]
    total = len(live.engine.library.timeline.page(limit=1000))
    wait_cells(page, total)
    found = months(page)
    assert [m for m in found if m in ("May 2024", "July 2023", "January 2022")] == ["May 2024", "July 2023",
                                                                                 "January 2022"], found
    wait_images(page, 6)
    shot(page, "timeline-desktop")
    icon = page.evaluate("() => document.querySelector('link[rel=icon]').href")
    reply = page.request.get(icon)
    assert reply.ok and "svg" in reply.headers["content-type"]

    segments = page.locator(".bar .seg")
    assert segments.count() == len(live.engine.library.timeline.months())
    page.locator(".bar .seg[data-key='2023-07']").click()  # the scrubber
    page.wait_for_function("() => true")
    deadline = time.time() + 20
    while months(page)[:1] != ["July 2023"] and time.time() < deadline:
        page.wait_for_timeout(150)
    assert months(page)[0] == "July 2023"
    assert _photo(live, grid_ids(page)[0]).path == "2023/sydney/red_copy.jpg"

    box = page.locator(".dates input").first
    box.click()
    page.locator(".flatpickr-calendar.open").first.wait_for(timeout=10_000)
    assert page.evaluate(CALENDAR_SHOWN_WHOLE) == "ok"
    shot(page, "date-calendar-desktop")
    box.fill("2023-07-01 to 2023-07-31")  # typed, not picked
    box.press("Enter")
    wait_cells(page, 2)
    assert months(page) == ["July 2023"] and "2 photos matching the filters" in text(page)

    page.get_by_role("button", name="Clear").click()
    wait_cells(page, total)
    assert box.input_value() == ""

    page.get_by_role("button", name="10", exact=True).click()
    search(page, "red")
    wait_cells_at_least(page, 10)  # the first page; the next may follow at once, its end being in sight
    assert active_tab(page) == "Search"
    assert any(b.endswith("%") for b in cells(page).evaluate_all(BADGES))
    cells(page).last.scroll_into_view_if_needed()  # infinite scroll loads the next page
    wait_cells(page, total)
    page.get_by_role("button", name="date", exact=True).click()
    page.wait_for_timeout(800)
    badges = cells(page).evaluate_all(BADGES)
    assert not any(b.endswith("%") for b in badges), badges  # sorted by date: no match scores
    taken = [p.taken_at for p in (_photo(live, i) for i in grid_ids(page)) if p.taken_at]
    assert taken == sorted(taken, reverse=True)
    shot(page, "search-by-date-desktop")
    finish(page)


def test_selection_ranges_keyboard_album_and_undo(live: Live, browser) -> None:
    page = open_page(browser, live)
    total = len(live.engine.library.timeline.page(limit=1000))
    wait_cells(page, total)
    first = cells(page).first
    first.hover()
    first.locator(".tick").click()  # the tick that shows on hover starts selecting
    page.locator(".grid.selecting").wait_for(timeout=10_000)
    wait_text(page, "1 selected")
    cells(page).nth(3).click(modifiers=["Shift"])  # a range
    wait_text(page, "4 selected")
    shot(page, "select-range-desktop")
    page.get_by_role("button", name="All", exact=True).click()
    wait_text(page, f"{total} selected")
    page.get_by_role("button", name="None", exact=True).click()
    wait_text(page, "0 selected")
    page.keyboard.press("Escape")
    page.locator(".grid.selecting").wait_for(state="detached", timeout=10_000)

    ids = grid_ids(page)
    page.keyboard.press("ArrowRight")  # the keyboard: a focus ring moves over the photos (from the last clicked)
    page.locator(".cell.focus").wait_for(timeout=5_000)
    k = ids.index(int(page.locator(".cell.focus").get_attribute("data-id"))) + 1
    assert k + 2 < total
    page.keyboard.press("ArrowRight")
    assert int(page.locator(".cell.focus").get_attribute("data-id")) == ids[k]
    page.keyboard.press("Enter")
    page.locator(".lightbox .frame img").wait_for(timeout=15_000)
    wait_text(page, f" {k + 1}/{total}")
    page.keyboard.press("Escape")
    page.locator(".lightbox").wait_for(state="hidden", timeout=10_000)
    page.keyboard.press(" ")
    wait_text(page, "1 selected")
    page.keyboard.press("Shift+ArrowRight")
    wait_text(page, "2 selected")
    page.keyboard.press("Delete")
    wait_text(page, "Move 2 photos to the trash?")
    page.keyboard.press("Escape")  # closes the question only
    page.locator(".confirm").first.wait_for(state="hidden", timeout=10_000)
    assert all(_photo(live, i) is not None for i in ids[k:k + 2])
    page.keyboard.press("Delete")
    page.get_by_role("button", name="Move to trash").click()
    wait_text(page, "Moved 2 photos to the trash")
    wait_cells(page, total - 2)
    assert all(_photo(live, i) is None for i in ids[k:k + 2])
    shot(page, "trash-undo-desktop")
    page.get_by_role("button", name="Undo").click()
    wait_text(page, "Restored 2 photos")
    wait_cells(page, total)
    assert all(_photo(live, i) is not None for i in ids[k:k + 2])

    cells(page).nth(0).click(modifiers=["Control"])
    page.locator(".grid.selecting").wait_for(timeout=10_000)  # the server's answer: until then a click opens
    cells(page).nth(1).click()
    wait_text(page, "2 selected")
    page.get_by_placeholder("New album name").fill("Picked on the timeline")
    page.get_by_role("button", name="New album").click()
    wait_text(page, "Created “Picked on the timeline” with 2 photos")
    album = live.engine.library.albums.list("Picked on the timeline")[0]
    assert album.photo_count == 2
    finish(page)


def test_trash_restores_explains_conflicts_and_empties_after_asking(live: Live, browser) -> None:
    page = open_page(browser, live)
    total = len(live.engine.library.timeline.page(limit=1000))
    wait_text(page, f"{total} photos")
    tab(page, "Trash")
    wait_text(page, "The trash is empty")
    victims = [_by_path(live, p).id for p in ("2023/sydney/red.jpg", "2022/nyc/blue.jpg", "2024/paris/green.jpg")]
    live.engine.library.trash.move_to_trash(victims, reason="elsewhere")  # not through this page
    wait_cells(page, 3)  # the page follows by itself
    wait_text(page, f"{total - 3} photos ·")  # the sidebar's counter too
    assert "Trashed today" in text(page)
    assert sorted(cells(page).evaluate_all(BADGES)) == ["2022/nyc", "2023/sydney", "2024/paris"]
    wait_images(page, 3)
    shot(page, "trash-desktop")

    live.files["blue"].write_bytes(b"a new file where the old one was")
    page.get_by_role("button", name="All", exact=True).click()
    page.get_by_role("button", name="Restore selected").click()
    wait_text(page, "Restored 2 photos; 1 photo stayed in the trash (2022/nyc/blue.jpg): a photo is at the old path")
    wait_cells(page, 1)
    assert _photo(live, victims[0]) is not None and _photo(live, victims[1]) is None

    page.get_by_role("button", name="Empty trash").click()
    wait_text(page, "Delete 1 photo for good? This cannot be undone.")
    page.get_by_role("button", name="Cancel").click()
    assert live.engine.library.trash.list()[1] == 1
    page.get_by_role("button", name="Empty trash").click()
    page.get_by_role("button", name="Delete for good").click()
    wait_text(page, "Deleted 1 photo for good")
    wait_text(page, "The trash is empty")
    assert live.engine.library.trash.list()[1] == 0
    finish(page)


def test_duplicates_review_side_by_side(live: Live, browser) -> None:
    page = open_page(browser, live)
    tab(page, "Duplicates")
    assert page.get_by_role("button", name="Delete all extras").is_disabled()  # nothing found yet
    page.get_by_role("button", name="Find duplicates").click()
    wait_text(page, "Group 1")
    wait_images(page, 2)
    group = text(page)
    assert "matched by" in group and "bits of 256 apart" in group and "keep red.jpg (" in group
    assert "640×480" in group and "14 Jul 2023" in group and "2023/sydney" in group
    shot(page, "duplicates-desktop")
    red = page.locator(".dup-group").filter(has_text="red_copy.jpg")
    red.get_by_role("button", name="Keep this").first.click()  # the other copy
    wait_text(page, "keep red_copy.jpg")
    page.get_by_role("button", name="Keep red_copy.jpg, move 1 other to the trash").click()
    wait_text(page, "Kept red_copy.jpg: moved 1 extra copy to the trash")
    original = _by_path(live, "2023/sydney/red_copy.jpg")
    assert original is not None and _by_path(live, "2023/sydney/red.jpg") is None
    page.get_by_role("button", name="Undo").click()
    wait_text(page, "Restored 1 photo")
    assert _by_path(live, "2023/sydney/red.jpg") is not None

    page.get_by_role("button", name="Find duplicates").click()
    wait_text(page, "Group 1")
    page.get_by_role("button", name="Delete all extras").click()
    wait_text(page, "to the trash?")
    page.get_by_role("button", name="Cancel").click()
    assert _by_path(live, "2023/sydney/red_copy.jpg") is not None
    finish(page)


def test_lightbox_info_panel_map_people_and_small_photos(live: Live, browser) -> None:
    both = _by_path(live, "people/both.png")
    live.engine.faces.persons.assign(live.engine.faces.of_photo(both.id)[0].id, None, new_name="Tanya")
    green, small = _by_path(live, "2024/paris/green.jpg"), _by_path(live, "misc/red_0.jpg")
    page = open_page(browser, live)
    page.locator(f".grid .cell[data-id='{green.id}']").click()
    page.locator(".lightbox .frame img").wait_for(timeout=15_000)
    page.get_by_role("button", name="Info").click()
    page.locator(".info-panel dl").wait_for(timeout=10_000)
    info = text(page, ".info-panel")
    for needle in ("Canon EOS R6", "RF24-105mm F4 L IS USM", "1/250 s · ƒ/8 · ISO 200 · 35 mm", "640×480",
                   "2024/paris/green.jpg", "Paris, France", "Wednesday, 1 May 2024"):
        assert needle in info, (needle, info)
    page.wait_for_function("() => true")
    deadline = time.time() + 15
    while not any(z == 13 for z, _, _ in live.tiles.requests) and time.time() < deadline:
        page.wait_for_timeout(150)
    assert any(z == 13 for z, _, _ in live.tiles.requests), "the small map fetched no tiles"
    shot(page, "lightbox-info-desktop")
    page.keyboard.press("Escape")

    page.locator(f".grid .cell[data-id='{both.id}']").click()
    wait_text(page, "both.png")
    page.locator(".info-panel dl").wait_for(timeout=10_000)
    assert "People Tanya" in text(page, ".info-panel")
    page.keyboard.press("Escape")

    page.locator(f".grid .cell[data-id='{small.id}']").click()
    page.locator(".lightbox .frame img").wait_for(timeout=15_000)
    page.wait_for_function("() => { const walk = r => { for (const e of r.querySelectorAll('*')) {"
                           " if (e.shadowRoot) { const f = walk(e.shadowRoot); if (f) return f; }"
                           " if (e.tagName === 'IMG' && e.closest('.frame') && e.naturalWidth) return e; } };"
                           " const img = walk(document); return img && img.style.width; }", timeout=15_000)
    width = page.evaluate("() => { const walk = r => { for (const e of r.querySelectorAll('*')) {"
                          " if (e.shadowRoot) { const f = walk(e.shadowRoot); if (f) return f; }"
                          " if (e.tagName === 'IMG' && e.closest('.frame')) return e; } };"
                          " const img = walk(document); return [img.naturalWidth, img.getBoundingClientRect().width]; }")
    assert width == [small.width, small.width], width  # shown at its own size, not blown up
    finish(page)


def test_first_start_offline_without_a_model(first_run: Live, browser) -> None:
    """What a new user sees: the timeline fills as the scan reads the files (no reload), a card with
    the command that gets the model, Admin saying "metadata only", the map saying tiles are
    unavailable, and the page in the system's dark mode with a toggle."""
    live = first_run
    page = open_page(browser, live, dark=True)
    page.locator("html[data-bs-theme='dark']").wait_for(state="attached", timeout=30_000)  # follows the system
    page.locator(".bk-tab", has_text="Admin").wait_for(timeout=30_000)
    total = len(list(p for p in live.library.rglob("*") if p.is_file()))
    wait_cells(page, total, timeout=120)  # the start-up scan finished; the page followed by itself
    wait_text(page, "Search by description needs the image-text model SigLIP")
    card = page.locator(".model-card pre").first
    command = card.inner_text()
    assert "download" in command and card.evaluate("e => e.scrollWidth <= e.clientWidth")  # whole, never cut off
    wait_images(page, 4)
    shot(page, "first-run-dark-desktop")

    search(page, "red")
    wait_text(page, "Search by description needs the image-text model: see the card above.")
    tab(page, "Admin")
    page.locator(".job[data-state='metadata only']").first.wait_for(timeout=30_000)
    assert "metadata only" in text(page, ".job")
    assert "#198754" not in page.locator(".job").first.inner_html()  # no green "done" for a job that wrote no vectors
    wait_text(page, "metadata only · no vectors written")
    shot(page, "admin-metadata-only-desktop")
    tab(page, "Map")
    wait_text(page, "Map tiles are unavailable (the tile server cannot be reached")
    page.wait_for_timeout(1500)
    assert not [u for u in page.outside], page.outside
    shot(page, "map-offline-desktop")

    page.get_by_role("button", name="Light mode").click()  # the toggle
    page.locator("html[data-bs-theme='light']").wait_for(state="attached", timeout=30_000)
    page.get_by_role("button", name="Dark mode").wait_for(timeout=30_000)
    finish(page)

    phone = open_page(browser, live, phone=True)
    wait_text(phone, "Search by description needs the image-text model SigLIP")
    assert phone.locator(".model-card pre").first.evaluate("e => e.scrollWidth <= e.clientWidth")
    shot(phone, "first-run-phone")
    finish(phone)
