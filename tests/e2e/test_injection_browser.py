"""User text never becomes markup: persons, albums, file names, camera names and assistant queries
carrying script, event-handler, `http-equiv` and `javascript:` payloads, shown in every view and
after every action, at desktop size and on an emulated phone. Any dialog, any executed payload,
any injected element (in the page or a shadow root) or a navigation fails the test."""
from __future__ import annotations

import shutil
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import DESKTOP, PHONE, Live, shot
from tests.e2e.test_dashboard_browser import MAP_MARKERS, ask, search, tab, text, wait_text
from tests.fixtures import make_jpeg

pytestmark = pytest.mark.timeout(1500)  # two full walks; generous for a loaded machine

IMG = '<img src=x onerror="window.__pwned=1;alert(1)">'
SCRIPT = "<script>window.__pwned=2;alert(2)</script>"
META = '<meta http-equiv="refresh" content="0;url=about:blank#pwned">'
SVG = '"><svg onload="window.__pwned=3">'
LINK = "[x](javascript:window.__pwned=4)"
PAYLOADS = (IMG, SCRIPT, META, SVG, LINK)
SEARCH_BOX = "input[placeholder='sunset over the sea…']"
PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.4 Mobile/15E148 Safari/604.1")

INJECTED = """() => {
  const found = [];
  const visit = root => root.querySelectorAll('*').forEach(e => {
    if (e.shadowRoot) visit(e.shadowRoot);
    const tag = e.tagName.toLowerCase();
    for (const a of e.attributes) {
      if (a.name.startsWith('on') && /__pwned|alert/.test(a.value)) found.push(`${tag}[${a.name}]`);
      if (['href', 'src', 'action', 'formaction'].includes(a.name) && /^\\s*javascript:/i.test(a.value)) found.push(`${tag}[${a.name}=javascript:]`);
    }
    if (tag === 'script' && e.type !== 'application/json' && /__pwned/.test(e.textContent)) found.push('script');
    if (tag === 'meta' && /refresh/i.test(e.getAttribute('http-equiv') || '')) found.push('meta http-equiv=refresh');
    if (tag === 'img' && e.getAttribute('src') === 'x') found.push('img src=x');
    if (tag === 'svg' && e.hasAttribute('onload')) found.push('svg onload');
    if (tag === 'iframe') found.push('iframe');
  });
  visit(document);
  if (window.__pwned) found.push('payload ran: ' + window.__pwned);
  return found;
}"""


def plant(live: Live) -> dict[str, int]:
    """Files, cameras, persons, albums and an offline photo named with the payloads; returns photo ids."""
    lib = live.library
    first = make_jpeg(lib / "evil" / f"{IMG}.jpg", (640, 480), (230, 20, 20), gps=(48.85, 2.35, 30.0), make=META,
                      model=IMG)
    shutil.copy(first, lib / "evil" / f"copy {SVG}.jpg")  # a duplicate group; the first is kept (older)
    make_jpeg(lib / f"x{SCRIPT}.jpg", (400, 300), (230, 30, 30), gps=(35.68, 139.69, 40.0), make=SVG, model=LINK)
    (lib / "evil" / f"{LINK}.png").write_bytes(b"not an image at all")  # a failed file
    gone = make_jpeg(lib / "evil" / f"gone {META}.jpg", (64, 48), (10, 10, 10))
    live.engine.index()
    gone.unlink()
    live.engine.index()  # offline now
    live.engine.library.index_phash()
    with live.engine.db.connection() as conn:
        ids = {r["path"]: r["id"] for r in conn.execute("SELECT id, path FROM photos")}
    live.engine.library.albums.create(SCRIPT, None, [ids[f"evil/{IMG}.jpg"], ids[f"x{SCRIPT}.jpg"]])
    return ids


def name_persons(live: Live) -> None:
    """Persons with payload names on the two faces of people/both.png (each pass deletes one)."""
    with live.engine.db.connection() as conn:
        photo = conn.execute("SELECT id FROM photos WHERE path = 'people/both.png'").fetchone()["id"]
    known = {p.name for p in live.engine.faces.persons.list(None, 100, 0)[0]}
    for face, name in zip(live.engine.faces.of_photo(photo), (IMG, SCRIPT)):
        if name not in known:
            live.engine.faces.persons.assign(face.id, None, new_name=name)


def open_page(browser, live: Live, phone: bool):
    if phone:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, user_agent=PHONE_UA,
                                      device_scale_factor=2)
    else:
        context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(live.url + "/", wait_until="domcontentloaded")
    page.locator(".bk-tab", has_text="Admin").wait_for(timeout=30_000)
    page.start_url = page.url
    return page


def clean(page, where: str) -> None:
    page.wait_for_timeout(300)
    injected = page.evaluate(INJECTED)
    assert not injected and not page.dialogs, f"{where}: injected {injected}, dialogs {page.dialogs}"
    assert page.url == page.start_url, f"{where}: the page navigated to {page.url}"


def shown(page, needle: str, timeout: float = 60) -> None:
    """The payload is on the page as text (so it was rendered, and rendered inert)."""
    wait_text(page, needle, timeout)


def search_from_drawer(page, query: str) -> None:
    """Search from the sidebar, opening it first where it is a closed drawer (a phone; a search may close it)."""
    if not page.locator(SEARCH_BOX).is_visible():
        page.locator("#sidebar-toggle").click()
        page.locator(SEARCH_BOX).wait_for(state="visible", timeout=10_000)
    search(page, query)


def close_drawer(page) -> None:
    """On a phone the open sidebar covers the results: close it (a search closes it by itself, so
    wait for that first; a click while it is still closing would open it again)."""
    if page.viewport_size["width"] > 700:
        return
    try:
        page.locator(SEARCH_BOX).wait_for(state="hidden", timeout=3_000)
    except PlaywrightTimeout:
        page.locator("#sidebar-toggle").click()
        page.locator(SEARCH_BOX).wait_for(state="hidden", timeout=10_000)


def walk(page, live: Live, ids: dict[str, int], suffix: str) -> None:
    clean(page, "first load")
    search_from_drawer(page, SCRIPT)
    shown(page, f"for “{SCRIPT}”")
    clean(page, "a query with a script")
    search_from_drawer(page, "red")
    target = ids[f"evil/{IMG}.jpg"]
    page.locator(f".grid .cell[data-id='{target}']").wait_for(timeout=30_000)
    close_drawer(page)
    clean(page, "results with payload file names")
    page.locator(f".grid .cell[data-id='{target}']").click()
    page.locator(".lightbox .frame img").wait_for(timeout=15_000)
    shown(page, IMG)
    page.locator(".lightbox").get_by_role("button", name="Info").click()  # the info panel
    shown(page, META)  # the camera
    clean(page, "the lightbox of a payload file with payload camera names")
    page.keyboard.press("Escape")
    page.locator(".lightbox").wait_for(state="hidden", timeout=10_000)

    tab(page, "Assistant")
    for n, question in enumerate((f"{IMG} red", f"{META} photos by {SVG}"), 1):
        ask(page, question)
        page.locator(".answer").nth(n - 1).wait_for(timeout=60_000)  # answered: the next question is taken
        shown(page, question.split(" photos")[0])
    clean(page, "assistant questions")
    shot(page, f"injection-assistant-{suffix}")

    tab(page, "Persons")
    card = page.locator(".card", has_text=IMG).first
    card.wait_for(timeout=30_000)
    clean(page, "payload person names")
    card.click()
    shown(page, f"{IMG} · ")
    page.get_by_label("Name", exact=True).fill(LINK + META)
    page.get_by_role("button", name="Rename").click()
    shown(page, f"Renamed to {LINK + META}")
    clean(page, "renaming a person to a payload")
    page.get_by_role("button", name="Delete person").click()
    shown(page, f"Deleted {LINK + META}")
    clean(page, "deleting a person with a payload name")
    shot(page, f"injection-persons-{suffix}")

    tab(page, "Map")
    page.locator(".bk-Canvas, canvas").first.wait_for(timeout=20_000)
    deadline = time.time() + 30
    markers = []
    while not markers and time.time() < deadline:
        page.wait_for_timeout(300)
        markers = [m for m in page.evaluate(MAP_MARKERS) if SCRIPT in m[2]]
    assert markers, "the payload photo has no marker"
    page.mouse.move(markers[0][0], markers[0][1])
    page.wait_for_timeout(800)
    clean(page, "a map tooltip with a payload file name")
    page.mouse.move(5, 5)

    tab(page, "Duplicates")
    page.get_by_role("button", name="Find duplicates").click()
    shown(page, f"copy {SVG}.jpg")  # a copy, by name, shown as text; the kept one's folder on its card
    clean(page, "a duplicate group of payload files")

    tab(page, "Albums")
    page.get_by_placeholder("New album name").fill(SVG + suffix)
    page.get_by_role("button", name="Create album").click()
    shown(page, f"Created “{SVG + suffix}”")
    clean(page, "creating an album with a payload name")
    page.locator(".card", has_text=SCRIPT).first.click()
    shown(page, f"{SCRIPT} · 2 photos")
    clean(page, "opening an album with a payload name")
    shot(page, f"injection-albums-{suffix}")

    tab(page, "Admin")
    shown(page, f"evil/{LINK}.png")  # failed files
    shown(page, f"evil/gone {META}.jpg")  # offline photos
    clean(page, "failed and offline files with payload names")
    shot(page, f"injection-admin-{suffix}")


def test_no_user_text_becomes_markup(live: Live, browser) -> None:
    ids = plant(live)
    for phone in (False, True):
        name_persons(live)
        page = open_page(browser, live, phone)
        try:
            walk(page, live, ids, "phone" if phone else "desktop")
            assert text(page)  # the walk ended on a rendered page
        finally:
            page.context.close()
    shutil.rmtree(live.library / "evil", ignore_errors=True)
