"""The dashboard in Russian, in real headless Chromium: chosen by the browser's Accept-Language or by
the RU/EN switch in the header (kept over a reload), `<html lang>` following it, and every view's
text, placeholders and tooltips free of English words (proper names aside). An English browser
still gets the English dashboard the other tests read.

Words are read from every text node and every placeholder, tooltip and accessible name of the
page, shadow roots included, hidden ones too (a confirmation not yet shown is as much the
interface as the grid).
"""
from __future__ import annotations

import re
import time
from pathlib import PurePosixPath

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, PHONE_UA, Live, shot
from tests.e2e.test_dashboard_browser import NO_SKELETONS, _by_path, cells, finish, text, wait_images, wait_text

pytestmark = pytest.mark.timeout(600)  # a limit on a hung browser, not a timing assertion

RU_TABS = ["Лента", "Поиск", "Ассистент", "Люди", "Карта", "Дубликаты", "Альбомы", "Корзина", "Админ"]
EN_TABS = ["Timeline", "Search", "Assistant", "Persons", "Map", "Duplicates", "Albums", "Trash", "Admin"]

WORDS = """() => { const out = [];
  const walk = n => {
    if (n.nodeType === 3) { if (n.textContent.trim()) out.push(n.textContent); return; }
    if (n.nodeType !== 1 && n.nodeType !== 11) return;
    if (n.nodeType === 1) {
      if (['STYLE', 'SCRIPT', 'TEMPLATE', 'CODE', 'PRE'].includes(n.tagName)) return;
      for (const a of ['placeholder', 'title', 'aria-label', 'alt']) { const v = n.getAttribute(a); if (v) out.push(v); }
      if (n.shadowRoot) walk(n.shadowRoot);
    }
    n.childNodes.forEach(walk); };
  walk(document.body); return out; }"""
"""Every piece of text the page holds for a reader: text nodes and the attributes a browser shows.
Code blocks are commands to type (`photoindex models download …`), not words of the interface."""

PROPER = {
    "REST", "API", "GPU", "CPU", "VRAM", "NVML", "pHash", "RRF", "Gemini", "EXIF", "HD", "MP", "ISO", "mm",
    "JPG", "JPEG", "HEIC", "PNG", "RAW", "RU", "EN", "Esc", "Enter", "Delete", "photoindex", "Bokeh", "OpenStreetMap",
    "cpu", "cuda", "mps",
}
"""Names, units, keys and device ids, the same in either language (the product's own name is translated)."""


def proper_names(live: Live) -> tuple[set[str], list[str]]:
    """Words that are names in this library (models, people, folders and files, cameras, lenses), and
    whole phrases to strip first (settings' values)."""
    words = set(PROPER)
    s = live.engine.settings
    phrases = [s.map_tiles_attribution, "2023-07-01 to 2023-07-31", str(s.photos_dir), str(s.data_dir),
               "NVML Shared Library Not Found",  # the NVIDIA library's own error, quoted in the GPU card
               "«red»"]  # the user's own query, quoted back
    for m in live.engine.models.status():
        words.update(re.findall(r"[A-Za-z]+", m.name))
    words.update(re.findall(r"[A-Za-z]+", str(live.engine.faces.stats().model)))  # the face model pack's name
    people, _ = live.engine.faces.persons.list(None, 500, 0)
    for p in people:
        words.update(re.findall(r"[A-Za-z]+", p.name))
    with live.engine.db.connection() as conn:
        rows = [tuple(r.values()) if isinstance(r, dict) else tuple(r)
                for r in conn.execute("SELECT path, camera, lens FROM photos").fetchall()]
    for path, camera, lens in rows:
        words.update(w for part in PurePosixPath(path).parts for w in re.findall(r"[A-Za-z]+", part))
        phrases += [v for v in (camera, lens) if v]
    return words, phrases


def english_words(page, live: Live) -> list[str]:
    allowed, phrases = proper_names(live)
    found = []
    for piece in page.evaluate(WORDS):
        for phrase in phrases:
            piece = piece.replace(phrase, " ")
        piece = re.sub(r"\S+\.(?:jpe?g|png|heic|webp|svg)\b", " ", piece, flags=re.I)  # file names
        piece = re.sub(r"photoindex [a-z -]+", " ", piece)  # commands to type (photoindex models download …)
        piece = re.sub(r"\b[A-Z0-9]*[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*\b(?:=\S*)?", " ", piece)  # CLIP_MODEL=…, acronyms
        for word in re.findall(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]", piece):
            if word not in allowed and word.split("-")[0] not in allowed:
                found.append(f"{word} (in {piece.strip()[:80]!r})")
    return found


def open_in(browser, live: Live, locale: str, *, phone: bool = False, path: str = "/"):
    options = dict(locale=locale, color_scheme="light")
    if phone:
        options.update(viewport=PHONE, is_mobile=True, has_touch=True, user_agent=PHONE_UA, device_scale_factor=2)
    else:
        options.update(viewport=DESKTOP)
    page = browser.new_context(**options).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live.url + path, wait_until="domcontentloaded", timeout=120_000)
    page.errors, page.console_errors, page.outside = errors, [], []
    return page


def tab_names(page) -> list[str]:
    return [t.strip() for t in page.locator(".bk-tab").all_inner_texts()]


def wait_tabs(page, names: list[str]) -> None:
    page.locator(".bk-tab", has_text=names[-1]).first.wait_for(timeout=60_000)
    assert tab_names(page)[:len(names)] == names, tab_names(page)


def visit(page, live: Live, name: str, leaks: dict[str, list[str]], shot_name: str | None = None) -> None:
    page.locator(".bk-tab", has_text=name).first.click()
    page.wait_for_timeout(1200)  # the view refreshes 300 ms after its first render
    if shot_name:
        shot(page, shot_name)
    leaks[name] = english_words(page, live)


def assert_no_english(leaks: dict[str, list[str]]) -> None:
    left = {view: sorted(set(words))[:25] for view, words in leaks.items() if words}
    assert not left, "English left in the Russian interface:\n" + "\n".join(f"{v}: {w}" for v, w in left.items())


def test_russian_browser_gets_every_view_in_russian(live: Live, browser) -> None:
    page = open_in(browser, live, "ru-RU")
    wait_tabs(page, RU_TABS)
    assert page.evaluate("document.documentElement.lang") == "ru"
    page.locator(".grid .cell").first.wait_for(timeout=30_000)
    wait_text(page, "Май 2024")  # month headings in Russian (CLDR), not strftime's English
    wait_text(page, "Январь Февраль")  # the date range's calendar, given its Russian names once it is built
    wait_images(page, 3)
    leaks: dict[str, list[str]] = {}
    shot(page, "ru-timeline-desktop")
    leaks["Лента"] = english_words(page, live)

    box = page.locator("input[placeholder='закат над морем…']")
    box.fill("red")
    box.press("Enter")
    page.locator(".bk-tab.bk-active", has_text="Поиск").wait_for(timeout=30_000)
    page.wait_for_function(NO_SKELETONS, timeout=60_000)
    cells(page).first.wait_for(timeout=20_000)
    wait_text(page, "по запросу «red»")
    leaks["Поиск"] = english_words(page, live)
    shot(page, "ru-search-desktop")

    sydney = _by_path(live, "2023/sydney/red.jpg").id
    page.locator(f".grid .cell[data-id='{sydney}']").click()
    page.locator(".lightbox .frame img").wait_for(timeout=15_000)
    page.get_by_role("button", name="Сведения").click()
    page.locator(".info-panel dl").wait_for(timeout=10_000)
    wait_text(page, "Сидней, Австралия")  # the place in the interface language
    page.get_by_role("button", name="Лица", exact=True).click()
    page.wait_for_timeout(600)
    leaks["лайтбокс"] = english_words(page, live)
    shot(page, "ru-lightbox-desktop")
    page.keyboard.press("Escape")
    page.locator(".lightbox").wait_for(state="hidden", timeout=10_000)

    page.locator(".bk-tab", has_text="Ассистент").first.click()
    ask = page.locator(".ask input")
    ask.fill("красные фото в Австралии")
    ask.press("Enter")
    wait_text(page, "Офлайн-разбор понял так")
    wait_text(page, "ранжировано")
    visit(page, live, "Ассистент", leaks, "ru-assistant-desktop")

    visit(page, live, "Люди", leaks, "ru-persons-desktop")
    visit(page, live, "Карта", leaks, "ru-map-desktop")
    assert "фотографии с GPS" in text(page) or "фотографий с GPS" in text(page)

    page.locator(".bk-tab", has_text="Дубликаты").first.click()
    page.get_by_role("button", name="Найти дубликаты").click()
    wait_text(page, "Группа 1")
    wait_images(page, 2)
    visit(page, live, "Дубликаты", leaks, "ru-duplicates-desktop")

    visit(page, live, "Альбомы", leaks)
    page.get_by_placeholder("Название нового альбома").fill("Отпуск")
    page.get_by_role("button", name="Создать альбом").click()
    wait_text(page, "Создан альбом «Отпуск»")
    leaks["Альбомы"] += english_words(page, live)
    shot(page, "ru-albums-desktop")

    visit(page, live, "Корзина", leaks, "ru-trash-desktop")
    visit(page, live, "Админ", leaks, "ru-admin-desktop")
    wait_text(page, "Индексировать всё")
    assert_no_english(leaks)
    finish(page)


def test_the_switch_changes_the_language_for_the_session_and_a_reload_keeps_it(live: Live, browser) -> None:
    page = open_in(browser, live, "en-US", phone=True)
    wait_tabs(page, EN_TABS)
    assert page.evaluate("document.documentElement.lang") == "en"
    page.locator(".lang-switch button[data-lang='ru']").click()
    wait_tabs(page, RU_TABS)
    assert page.evaluate("document.documentElement.lang") == "ru" and "lang=ru" in page.url
    page.locator(".grid .cell").first.wait_for(timeout=30_000)
    wait_text(page, "Январь Февраль")
    wait_images(page, 3)
    leaks: dict[str, list[str]] = {"Лента": english_words(page, live)}
    shot(page, "ru-timeline-phone")
    page.locator("#sidebar-toggle").click()
    page.locator("#pi-backdrop.show").wait_for(timeout=10_000)
    leaks["фильтры"] = english_words(page, live)
    shot(page, "ru-filters-drawer-phone")
    page.locator("#pi-backdrop").click(position={"x": 375, "y": 300})  # beside the drawer
    page.locator("#pi-backdrop.show").wait_for(state="detached", timeout=10_000)
    for name in RU_TABS[1:]:
        visit(page, live, name, leaks, "ru-" + {"Поиск": "search", "Ассистент": "assistant", "Люди": "persons",
                                                "Карта": "map", "Дубликаты": "duplicates", "Альбомы": "albums",
                                                "Корзина": "trash", "Админ": "admin"}[name] + "-phone")
    assert_no_english(leaks)

    page.goto(live.url + "/", wait_until="domcontentloaded")  # a plain reload: the cookie keeps Russian
    wait_tabs(page, RU_TABS)
    page.locator(".lang-switch button[data-lang='en']").click()
    wait_tabs(page, EN_TABS)
    assert page.evaluate("document.documentElement.lang") == "en"
    finish(page)


CYRILLIC = re.compile(r"[А-Яа-яЁё]+")
RUSSIAN_ON_PURPOSE = ("закат в Париже", "кот на диване зимой", "Саша, Sasha")
"""Examples of Russian input in the English interface (the product understands Russian)."""


def test_english_browser_gets_the_english_dashboard(live: Live, browser) -> None:
    page = open_in(browser, live, "en-US")
    wait_tabs(page, EN_TABS)
    assert page.evaluate("document.documentElement.lang") == "en"
    page.locator(".grid .cell").first.wait_for(timeout=30_000)
    wait_text(page, "May 2024")
    russian: dict[str, list[str]] = {}
    for name in EN_TABS:
        page.locator(".bk-tab", has_text=name).first.click()
        page.wait_for_timeout(1000)
        pieces = page.evaluate(WORDS)
        words = [w for piece in pieces if not any(ok in piece for ok in RUSSIAN_ON_PURPOSE)
                 for w in CYRILLIC.findall(piece)]
        russian[name] = words
    assert not any(russian.values()), {k: v[:10] for k, v in russian.items() if v}
    page.locator(".bk-tab", has_text="Admin").first.click()
    wait_text(page, "Index all")
    assert "Photo search" in page.title()
    finish(page)
