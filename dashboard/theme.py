"""The page around the views: light or dark (following the system, with a toggle), the phone
layout (viewport, a drawer with a backdrop that closes after a search, touch-sized controls),
the favicon and the colours every view's CSS takes from variables.

The theme is chosen on the server (Panel styles each component for it), from a cookie: the
user's own choice (`photoindex_theme`), else what the browser reported its system to prefer
(`photoindex_theme_auto`). `PageChrome` sets the second on the first visit, or when the system
setting changes, and reloads once; its toggle sets the first. Beside it, the RU/EN switch of the
interface language (see `dashboard.language`), and the page's `<html lang>` follows that language.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import param
from panel.custom import JSComponent
from panel.theme import Bootstrap
from panel.viewable import Viewable

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/ui/static"
FAVICON = f"{STATIC_URL}/favicon.svg"
PHONE_CSS = f"{STATIC_URL}/phone.css"
VIEWPORT = "width=device-width, initial-scale=1, viewport-fit=cover"

CHOICE_COOKIE = "photoindex_theme"
AUTO_COOKIE = "photoindex_theme_auto"


def theme_from(cookies: dict[str, str]) -> str:
    """ "dark" or "default" (Panel's names), from the page request's cookies."""
    chosen = cookies.get(CHOICE_COOKIE) or cookies.get(AUTO_COOKIE) or ""
    return "dark" if chosen == "dark" else "default"


class PhotoDesign(Bootstrap):
    """Bootstrap, plus one shared stylesheet in every component: controls at least 40 px tall on
    a phone, tab headers that scroll instead of wrapping."""

    modifiers = {
        **Bootstrap.modifiers,
        Viewable: {"stylesheets": [*Bootstrap.modifiers[Viewable]["stylesheets"], PHONE_CSS]},
    }


COLORS = {
    "default": {"--pi-cell-bg": "#e9ecef", "--pi-cell-hi": "#f8f9fa", "--pi-text": "#212529", "--pi-muted": "#6c757d",
                "--pi-rule": "#ced4da", "--pi-surface": "#ffffff"},
    "dark": {"--pi-cell-bg": "#2b3035", "--pi-cell-hi": "#343a40", "--pi-text": "#e9ecef", "--pi-muted": "#adb5bd",
             "--pi-rule": "#495057", "--pi-surface": "#212529"},
}


def page_css(theme: str) -> str:
    """The page's own CSS (light DOM): colour variables (they reach into every shadow root) and the
    phone layout of the template's sidebar."""
    colors = "".join(f"{k}: {v};" for k, v in COLORS[theme].items())
    return f""":root {{{colors}}}
@media (max-width: 700px) {{
  .title {{font-size: 1.1em !important;}}
  #sidebar {{position: fixed !important; top: 54px; left: 0; bottom: 0; z-index: 1500; width: 86vw !important;
            max-width: 320px; background: var(--pi-surface); box-shadow: 4px 0 18px rgba(0,0,0,.3); overflow-y: auto;}}
  #main {{width: 100% !important; max-width: 100% !important; flex: 1 1 100% !important; padding: 4px !important;}}
  #sidebar-toggle {{min-width: 44px; min-height: 40px;}}
}}
#pi-backdrop {{position: fixed; inset: 54px 0 0 0; z-index: 1400; background: rgba(0,0,0,.45); display: none;}}
#pi-backdrop.show {{display: block;}}
"""


CHROME_ESM = """
const CHOICE = 'photoindex_theme', AUTO = 'photoindex_theme_auto';
function cookie(name) {
  const hit = document.cookie.split('; ').find(c => c.startsWith(name + '='));
  return hit ? decodeURIComponent(hit.split('=')[1]) : '';
}
function setCookie(name, value) {
  document.cookie = name + '=' + value + '; path=/; max-age=31536000; samesite=strict';
}
const phone = () => window.innerWidth <= 700;
const LANG = 'photoindex_lang';

// flatpickr (the date range's calendar) speaks English unless given a locale; its calendars are
// built when the sidebar renders, inside shadow roots: look for them for a while after the load
function localizeCalendars(locale) {
  if (!locale || !locale.months) return;
  const apply = (fp) => {
    fp._piLocalized = true;
    fp.set('locale', locale);
    fp.redraw();
    const cal = fp.calendarContainer;
    cal.querySelectorAll('.flatpickr-monthDropdown-month').forEach(o => {
      o.textContent = locale.months.longhand[Number(o.value)] || o.textContent; });
    cal.querySelectorAll('.flatpickr-monthDropdown-months').forEach(e => e.setAttribute('aria-label', locale.monthAriaLabel));
    cal.querySelectorAll('.cur-year').forEach(e => e.setAttribute('aria-label', locale.yearAriaLabel));
  };
  const sweep = () => {
    const walk = r => r.querySelectorAll('*').forEach(e => {
      if (e.shadowRoot) walk(e.shadowRoot);
      if (e._flatpickr && !e._flatpickr._piLocalized) apply(e._flatpickr); });
    walk(document);
  };
  let tries = 0;
  const timer = setInterval(() => { sweep(); if (++tries >= 30) clearInterval(timer); }, 500);
}

export function render({ model, el }) {
  // dark or light: the user's choice, else the system's; the server drew the page for model.theme
  const system = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  const wanted = () => cookie(CHOICE) || ((system && system.matches) ? 'dark' : 'default');
  function follow() {
    if (!cookie(CHOICE) && system) setCookie(AUTO, system.matches ? 'dark' : 'default');
    if (wanted() !== model.theme) location.reload();
  }
  if (system) system.addEventListener('change', follow);
  follow();

  const toggle = document.createElement('button');
  toggle.className = 'theme-toggle';
  toggle.type = 'button';
  toggle.textContent = model.theme === 'dark' ? '☀' : '☾';
  toggle.title = model.theme === 'dark' ? model.labels.light : model.labels.dark;
  toggle.setAttribute('aria-label', toggle.title);
  toggle.onclick = () => { setCookie(CHOICE, model.theme === 'dark' ? 'default' : 'dark'); location.reload(); };

  // the interface language: the page is drawn in model.language; the switch keeps the choice in a
  // cookie and in the address (?lang=), then reloads
  document.documentElement.lang = model.language;
  const langs = document.createElement('div');
  langs.className = 'lang-switch'; langs.setAttribute('role', 'group'); langs.title = model.labels.language;
  langs.setAttribute('aria-label', model.labels.language);
  for (const code of ['ru', 'en']) {
    const b = document.createElement('button');
    b.type = 'button'; b.textContent = code.toUpperCase(); b.lang = code; b.dataset.lang = code;
    b.setAttribute('aria-pressed', String(code === model.language));
    if (code === model.language) b.className = 'on';
    b.onclick = () => {
      if (code === model.language) return;
      setCookie(LANG, code);
      const url = new URL(location.href); url.searchParams.set('lang', code); location.href = url.toString();
    };
    langs.appendChild(b);
  }
  el.style.display = 'flex'; el.style.alignItems = 'center';
  el.append(langs, toggle);
  localizeCalendars(model.calendar);

  // the phone's drawer: starts closed, has a backdrop, closes on request (after a search)
  const bar = document.getElementById('sidebar');
  const opener = document.getElementById('sidebar-toggle');
  if (opener && model.labels.sidebar) opener.setAttribute('aria-label', model.labels.sidebar);
  const modalClose = document.getElementById('pn-closeModal');  // the template's (unused) modal
  if (modalClose && model.labels.close) modalClose.setAttribute('aria-label', model.labels.close);
  let backdrop = document.getElementById('pi-backdrop');
  if (!backdrop) {  // beside the drawer, so that it stacks between the drawer and the page
    backdrop = document.createElement('div'); backdrop.id = 'pi-backdrop';
    (bar ? bar.parentNode : document.body).insertBefore(backdrop, bar);
  }
  const isOpen = () => bar && bar.classList.contains('show');
  function close() { if (bar && isOpen() && opener) opener.click(); }
  backdrop.onclick = close;
  function mark() { backdrop.classList.toggle('show', phone() && isOpen()); }
  let watcher = null;
  if (bar) {
    if (phone() && isOpen()) bar.classList.remove('show');
    watcher = new MutationObserver(mark); watcher.observe(bar, {attributes: true, attributeFilter: ['class']});
  }
  mark();
  model.on('msg:custom', (msg) => { if (msg && msg.type === 'close-drawer' && phone()) close(); });
  model.on('remove', () => { if (watcher) watcher.disconnect(); if (system) system.removeEventListener('change', follow); });
}
"""

CHROME_CSS = """
:host {display: flex; align-items: center;}
.theme-toggle {background: transparent; border: 1px solid rgba(255,255,255,.4); color: #fff; border-radius: 8px;
               min-width: 40px; min-height: 40px; font-size: 18px; cursor: pointer; margin: 0 6px;}
.theme-toggle:hover {background: rgba(255,255,255,.12);}
.lang-switch {display: flex; border: 1px solid rgba(255,255,255,.4); border-radius: 8px; overflow: hidden; margin: 0 2px;}
.lang-switch button {background: transparent; border: 0; color: rgba(255,255,255,.75); min-width: 40px; min-height: 40px;
                     font: 600 13px system-ui, sans-serif; cursor: pointer; padding: 0 6px;}
.lang-switch button.on {background: rgba(255,255,255,.9); color: #1f2d3d;}
.lang-switch button:not(.on):hover {background: rgba(255,255,255,.12); color: #fff;}
"""


def calendar_locale(language: str, month_label: str, year_label: str) -> dict[str, Any]:
    """A flatpickr locale from CLDR (Babel): names of days and months, Monday first; {} for English."""
    if language == "en":
        return {}
    from babel.dates import get_day_names, get_month_names

    def days(width: str) -> list[str]:
        names = get_day_names(width, context="stand-alone", locale=language)
        return [names[i].capitalize() for i in (6, 0, 1, 2, 3, 4, 5)]  # flatpickr counts from Sunday

    def months(width: str) -> list[str]:
        names = get_month_names(width, context="stand-alone", locale=language)
        return [names[i].capitalize() for i in range(1, 13)]

    return {"weekdays": {"shorthand": days("short"), "longhand": days("wide")},
            "months": {"shorthand": months("abbreviated"), "longhand": months("wide")},
            "firstDayOfWeek": 1, "rangeSeparator": " to ", "monthAriaLabel": month_label,
            "yearAriaLabel": year_label, "time_24hr": True}
    # rangeSeparator stays " to ": it is how the picker reports a range to the server (`DateRangeInput`)


class PageChrome(JSComponent):
    """In the header: the language switch and the dark-mode toggle; around the page: the theme
    follow-up, `<html lang>` and the phone drawer."""

    theme = param.String(default="default", doc="The theme this page was drawn in.")
    language = param.String(default="en", doc="The interface language this page was drawn in.")
    labels = param.Dict(default={"dark": "Dark mode", "light": "Light mode", "language": "Interface language",
                                 "sidebar": "Toggle sidebar", "close": "Close"},
                        doc="The tooltips, in the interface language.")
    calendar = param.Dict(default={}, doc="The date picker's flatpickr locale (see `calendar_locale`); empty: English.")

    _esm = CHROME_ESM
    _stylesheets = [CHROME_CSS]

    def __init__(self, **params: Any) -> None:
        params.setdefault("margin", 0)
        super().__init__(**params)

    def close_drawer(self) -> None:
        """On a phone, close the filters drawer (e.g. once a search runs)."""
        self._send_msg({"type": "close-drawer"})
