"""Browser-side components: one element each, however many photos they show.

`PhotoGrid` draws thousands of thumbnails as plain `<img loading="lazy">` tags served over HTTP
(no Bokeh pane per photo), with loading skeletons, month/day headings, selection (ranges,
keyboard, long press) and infinite scroll both ways. `Scrubber` is the timeline's year/month bar.
`PhotoStage` draws the lightbox's picture with face boxes and forwards keys (Escape, arrows).
`DateRangeInput` is a date range one can type or pick, whose calendar the sidebar does not clip.
Both talk back to Python through params and `send_msg`; the Python side owns every decision.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import param
from panel.custom import JSComponent
from panel.widgets import DatetimeRangePicker

GRID_CSS = """
:host {display: block; width: 100%;}
.grid {display: grid; grid-template-columns: repeat(auto-fill, minmax(var(--cell, 170px), 1fr)); gap: 6px;}
.cell {position: relative; aspect-ratio: 1; border-radius: 6px; overflow: hidden; background: var(--pi-cell-bg, #e9ecef);
       cursor: pointer; outline: 3px solid transparent; outline-offset: -3px; transition: outline-color .1s;
       -webkit-touch-callout: none; user-select: none;}
.cell img {width: 100%; height: 100%; object-fit: cover; display: block; opacity: 0; transition: opacity .2s;}
.cell img.loaded {opacity: 1;}
.cell .badge {position: absolute; right: 4px; bottom: 4px; background: rgba(0,0,0,.62); color: #fff;
              font: 11px system-ui, sans-serif; padding: 1px 5px; border-radius: 4px; max-width: 90%;
              overflow: hidden; text-overflow: ellipsis; white-space: nowrap;}
.cell .tag {position: absolute; left: 4px; top: 4px; background: #198754; color: #fff; font: 11px system-ui;
            padding: 1px 5px; border-radius: 4px;}
.cell .tick {position: absolute; left: 6px; top: 6px; width: 24px; height: 24px; border-radius: 50%;
             border: 2px solid #fff; background: rgba(0,0,0,.25); display: none; color: #fff;
             font: bold 14px/20px system-ui; text-align: center; box-sizing: border-box;}
.selecting .cell .tick {display: block;}
@media (hover: hover) { .grid:not(.selecting) .cell:hover .tick {display: block; opacity: .8;} }
.cell.selected {outline-color: #0d6efd;}
.cell.selected .tick {background: #0d6efd;}
.cell.selected img {transform: scale(.92); border-radius: 4px;}
.cell.focus {outline-color: #fd7e14;}
.cell.selected.focus {outline-color: #0a58ca;}
.card .cap {position: absolute; left: 0; right: 0; bottom: 0; padding: 18px 6px 5px; color: #fff;
            font: 13px system-ui, sans-serif; background: linear-gradient(transparent, rgba(0,0,0,.7));}
.card .cap b {display: block; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;}
.month {grid-column: 1 / -1; font: 600 20px system-ui, sans-serif; margin: 18px 2px 0; color: var(--pi-text, #212529);}
.day {grid-column: 1 / -1; font: 13px system-ui, sans-serif; margin: 6px 2px 0; color: var(--pi-muted, #6c757d);}
.skeleton {aspect-ratio: 1; border-radius: 6px;
           background: linear-gradient(90deg, var(--pi-cell-bg, #e9ecef) 25%, var(--pi-cell-hi, #f8f9fa) 37%,
                                       var(--pi-cell-bg, #e9ecef) 63%);
           background-size: 400% 100%; animation: shimmer 1.2s ease infinite;}
@keyframes shimmer {0% {background-position: 100% 50%} 100% {background-position: 0 50%}}
.empty {color: var(--pi-muted, #6c757d); font: 14px system-ui, sans-serif; padding: 24px 4px;}
.sentinel {height: 1px; overflow-anchor: none;}
.grid {overflow-anchor: none;}
@media (max-width: 600px) { .grid {--cell: 105px; gap: 3px;} .month {font-size: 17px; margin-top: 12px;} }
"""

GRID_ESM = """
function signature(item) { return JSON.stringify(item); }

export function render({ model, el }) {
  const root = document.createElement('div');
  const top = document.createElement('div'); top.className = 'sentinel';
  const grid = document.createElement('div');
  const bottom = document.createElement('div'); bottom.className = 'sentinel';
  const empty = document.createElement('div'); empty.className = 'empty';
  root.append(empty, top, grid, bottom);
  el.appendChild(root);
  const nodes = new Map();   // key -> element: 'c:<id>' cells, 'm:<label>' months, 'd:<label>' days
  const sigs = new Map();    // cell key -> the item it was drawn from
  let skeletons = [];
  let anchor = null;         // the last clicked id: shift-click selects from here
  let focusId = null;        // the cell the keyboard is on
  let pressTimer = null;

  const ids = () => model.items.map(i => i.id);
  const cellOf = (id) => nodes.get('c:' + id);

  function makeCell(item) {
    const cell = document.createElement('div');
    cell.className = 'cell' + (model.variant !== 'photo' ? ' card' : '');
    cell.dataset.id = item.id;
    cell.title = item.title || '';
    const img = document.createElement('img');
    img.loading = 'lazy';
    img.decoding = 'async';
    img.alt = item.title || '';
    img.onload = () => img.classList.add('loaded');
    if (item.src) img.src = item.src;
    cell.appendChild(img);
    if (model.variant === 'photo') {
      const tick = document.createElement('span'); tick.className = 'tick'; tick.textContent = '✓';
      tick.title = model.labels.select || 'Select';
      tick.addEventListener('click', (e) => {
        if (model.select_mode) return;
        e.stopPropagation(); anchor = item.id; model.send_msg({type: 'select', ids: [item.id]});
      });
      cell.appendChild(tick);
      if (item.badge) { const b = document.createElement('span'); b.className = 'badge'; b.textContent = item.badge; cell.appendChild(b); }
      if (item.tag) { const t = document.createElement('span'); t.className = 'tag'; t.textContent = item.tag; cell.appendChild(t); }
    } else {
      const cap = document.createElement('div'); cap.className = 'cap';
      const b = document.createElement('b'); b.textContent = item.label || ''; cap.appendChild(b);
      if (item.badge) { const s = document.createElement('span'); s.textContent = item.badge; cap.appendChild(s); }
      cell.appendChild(cap);
    }
    cell.addEventListener('click', (e) => onClick(item.id, e));
    cell.addEventListener('contextmenu', (e) => { if (model.variant === 'photo' && e.pointerType !== 'mouse' && pressTimer === 'fired') e.preventDefault(); });
    cell.addEventListener('pointerdown', (e) => {
      if (e.pointerType === 'mouse' || model.variant !== 'photo') return;
      clearTimeout(pressTimer);
      pressTimer = setTimeout(() => {   // a long press starts selecting, as on a phone's gallery
        pressTimer = 'fired'; anchor = item.id;
        if (!model.select_mode) model.send_msg({type: 'select', ids: [item.id]});
      }, 550);
    });
    const cancel = () => { if (pressTimer !== 'fired') { clearTimeout(pressTimer); pressTimer = null; } };
    cell.addEventListener('pointerup', cancel); cell.addEventListener('pointercancel', cancel);
    cell.addEventListener('pointermove', (e) => { if (e.pointerType !== 'mouse' && Math.abs(e.movementY) > 4) cancel(); });
    return cell;
  }

  function range(a, b) {
    const all = ids(); const i = all.indexOf(a), j = all.indexOf(b);
    if (i < 0 || j < 0) return [b];
    return all.slice(Math.min(i, j), Math.max(i, j) + 1);
  }

  function onClick(id, e) {
    if (pressTimer === 'fired') { pressTimer = null; return; }  // the long press already selected it
    setFocus(id, false);
    if (model.variant !== 'photo') { model.send_msg({type: 'open', id}); return; }
    if (e.shiftKey) {
      const span = range(anchor ?? id, id);
      if (model.select_mode) model.selected = [...new Set([...model.selected, ...span])];
      else model.send_msg({type: 'select', ids: span});
      return;
    }
    if (model.select_mode) {
      const now = new Set(model.selected);
      if (now.has(id)) now.delete(id); else now.add(id);
      model.selected = [...now];
      anchor = id;
      return;
    }
    anchor = id;
    if (e.ctrlKey || e.metaKey) { model.send_msg({type: 'select', ids: [id]}); return; }
    model.send_msg({type: 'open', id});
  }

  function desired() {
    const out = [];
    let month = null, day = null;
    for (const item of model.items) {
      if (model.grouped && item.month && item.month !== month) {
        month = item.month; day = null; out.push(['m:' + month, 'month', month]);
      }
      if (model.grouped && item.day && item.day !== day) {
        day = item.day; out.push(['d:' + month + '|' + day, 'day', day]);
      }
      out.push(['c:' + item.id, 'cell', item]);
    }
    return out;
  }

  function scroller() {  // the nearest scrolling box above the grid, across shadow roots
    let e = el;
    while (e) {
      if (e instanceof Element) {
        const s = getComputedStyle(e);
        if (/(auto|scroll)/.test(s.overflowY) && e.scrollHeight > e.clientHeight) return e;
      }
      e = e.parentNode instanceof ShadowRoot ? e.parentNode.host : e.parentNode;
    }
    return document.scrollingElement;
  }

  function draw() {
    grid.className = 'grid' + (model.select_mode ? ' selecting' : '');
    if (model.cell_size) grid.style.setProperty('--cell', model.cell_size + 'px');
    else grid.style.removeProperty('--cell');
    const want = desired();
    const keep = new Set(want.map(w => w[0]));
    const before = grid.children.length;
    // what stays in place on screen when photos are added or dropped above it
    let pin = null, pinTop = 0;
    for (const child of grid.children) {
      if (child.dataset.key && keep.has(child.dataset.key)) { pin = child; pinTop = child.getBoundingClientRect().top; break; }
    }
    for (const [key, node] of nodes) {
      if (!keep.has(key)) { node.remove(); nodes.delete(key); sigs.delete(key); }
    }
    for (const s of skeletons) s.remove();
    skeletons = [];
    const replacedAll = before > 0 && grid.children.length === 0 && want.length > 0;
    let at = grid.firstChild;
    for (const [key, kind, value] of want) {
      let node = nodes.get(key);
      if (kind === 'cell' && node && sigs.get(key) !== signature(value)) {
        const fresh = makeCell(value); fresh.dataset.key = key; node.replaceWith(fresh); node = fresh; nodes.set(key, node);
        if (at === null || !at.isConnected) at = node;
      }
      if (!node) {
        if (kind === 'cell') node = makeCell(value);
        else { node = document.createElement('div'); node.className = kind; node.textContent = value; }
        node.dataset.key = key;
        nodes.set(key, node);
      }
      if (kind === 'cell') sigs.set(key, signature(value));
      if (node !== at) grid.insertBefore(node, at);
      else at = at.nextSibling;
    }
    if (model.loading) {
      for (let i = 0; i < model.skeletons; i++) {
        const s = document.createElement('div'); s.className = 'skeleton'; grid.appendChild(s); skeletons.push(s);
      }
    }
    empty.textContent = (!model.items.length && !model.loading) ? (model.empty_text || '') : '';
    empty.style.display = empty.textContent ? '' : 'none';
    if (pin && pin.isConnected) {
      const moved = pin.getBoundingClientRect().top - pinTop;
      if (Math.abs(moved) > 0.5) scroller().scrollTop += moved;
    }
    if (replacedAll && model.grouped) root.scrollIntoView({block: 'start'});
    markSelected();
    watchEdges();
  }

  function markSelected() {
    const chosen = new Set(model.selected);
    for (const [key, node] of nodes) {
      if (key[0] !== 'c') continue;
      node.classList.toggle('selected', chosen.has(Number(node.dataset.id)));
      node.classList.toggle('focus', Number(node.dataset.id) === focusId);
    }
  }

  let observer = null;
  function watchEdges() {
    if (observer) observer.disconnect();
    if (model.loading || !(model.has_more || model.has_newer)) return;
    observer = new IntersectionObserver((entries) => {
      for (const x of entries) {
        if (!x.isIntersecting || model.loading) continue;
        if (x.target === bottom && model.has_more) { observer.disconnect(); model.send_msg({type: 'more'}); return; }
        if (x.target === top && model.has_newer && scrolledUp) {
          scrolledUp = false; observer.disconnect(); model.send_msg({type: 'newer'}); return;
        }
      }
    }, {rootMargin: '600px'});
    if (model.has_more) observer.observe(bottom);
    if (model.has_newer) observer.observe(top);
  }

  function setFocus(id, scroll) {
    focusId = id;
    markSelected();
    const cell = cellOf(id);
    if (cell && scroll) cell.scrollIntoView({block: 'nearest'});
  }

  function neighbour(key) {
    const all = ids();
    if (!all.length) return null;
    let i = all.indexOf(focusId);
    if (i < 0) return all[0];
    if (key === 'ArrowLeft') return all[Math.max(0, i - 1)];
    if (key === 'ArrowRight') return all[Math.min(all.length - 1, i + 1)];
    const here = cellOf(all[i]).getBoundingClientRect();
    const step = key === 'ArrowDown' ? 1 : -1;
    let rowTop = null, best = null, bestDx = Infinity;
    for (let j = i + step; j >= 0 && j < all.length; j += step) {
      const r = cellOf(all[j]).getBoundingClientRect();
      if (Math.abs(r.top - here.top) < 2) continue;
      if (rowTop === null) rowTop = r.top;
      if (Math.abs(r.top - rowTop) >= 2) break;
      const dx = Math.abs(r.left - here.left);
      if (dx < bestDx) { bestDx = dx; best = all[j]; }
    }
    return best ?? all[i];
  }

  function shown() { return el.isConnected && el.getClientRects().length > 0; }

  function onKey(e) {
    if (!model.keyboard || !shown() || document.body.classList.contains('pi-lightbox-open')) return;
    const target = e.composedPath()[0] || {};
    if (['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName) || target.isContentEditable) return;
    const key = e.key;
    if (['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(key)) {
      const next = neighbour(key);
      if (next === null) return;
      e.preventDefault();
      if (e.shiftKey) {
        const span = range(anchor ?? focusId ?? next, next);
        if (model.select_mode) model.selected = [...new Set([...model.selected, ...span])];
        else model.send_msg({type: 'select', ids: span});
      }
      setFocus(next, true);
    } else if (key === 'Enter' && focusId !== null) {
      if (target.tagName === 'BUTTON') return;
      e.preventDefault(); model.send_msg({type: 'open', id: focusId});
    } else if (key === ' ' && focusId !== null && model.variant === 'photo') {
      e.preventDefault(); anchor = focusId;
      if (model.select_mode) onClick(focusId, {});
      else model.send_msg({type: 'select', ids: [focusId]});
    } else if ((key === 'Delete' || key === 'Backspace') && model.variant === 'photo') {
      const chosen = model.selected.length ? model.selected : (focusId !== null ? [focusId] : []);
      if (chosen.length) { e.preventDefault(); model.send_msg({type: 'delete', ids: chosen}); }
    } else if (key === 'Escape') {
      model.send_msg({type: 'escape'});
      if (!model.select_mode) setFocus(null, false);
    } else if ((key === 'a' || key === 'A') && (e.ctrlKey || e.metaKey) && model.variant === 'photo') {
      e.preventDefault(); model.send_msg({type: 'select', ids: ids()});
    }
  }

  let viewTimer = null, scrolledUp = false;
  const tops = new WeakMap();
  function onScroll(e) {
    if (!shown()) return;
    const box = e.target === document ? document.scrollingElement : e.target;
    const before = tops.get(box);
    tops.set(box, box.scrollTop);
    if (before !== undefined && box.scrollTop < before && model.has_newer && !scrolledUp) {
      scrolledUp = true; watchEdges();  // newer photos load on the way up, not the moment a jump lands
    }
    if (!model.report_view) return;
    clearTimeout(viewTimer);
    viewTimer = setTimeout(() => {
      const cells = [...grid.querySelectorAll('.cell')];
      let lo = 0, hi = cells.length - 1, found = null;
      while (lo <= hi) {   // the first cell whose bottom is below the top of the window
        const mid = (lo + hi) >> 1;
        if (cells[mid].getBoundingClientRect().bottom > 60) { found = cells[mid]; hi = mid - 1; } else lo = mid + 1;
      }
      if (found) model.send_msg({type: 'viewing', id: Number(found.dataset.id)});
    }, 200);
  }

  document.addEventListener('keydown', onKey);
  document.addEventListener('scroll', onScroll, true);
  model.on('remove', () => {
    document.removeEventListener('keydown', onKey);
    document.removeEventListener('scroll', onScroll, true);
    if (observer) observer.disconnect();
  });
  model.on(['items', 'select_mode', 'loading', 'has_more', 'has_newer', 'empty_text', 'cell_size', 'grouped'], draw);
  model.on('selected', markSelected);
  model.on('msg:custom', (msg) => { if (msg && msg.type === 'top') root.scrollIntoView({block: 'start'}); });
  draw();
}
"""


class PhotoGrid(JSComponent):
    """Thumbnails (or person / album cards) in a responsive grid, redrawn by difference: a page
    appended or dropped adds or removes only its own cells, so the browser keeps its images.

    `items` are dicts: id, src, title, and for photos `badge`/`tag`, for cards `label`/`badge`;
    with `grouped`, `month` and `day` labels start a heading whenever they change.
    The browser reports, by message: open, more (scrolled to the end), newer (scrolled to the
    start), select (ids to start selecting with: a long press, shift/ctrl-click, the tick,
    Space, Ctrl+A), delete (Delete/Backspace on the selection or the focused photo), escape and,
    with `report_view`, viewing (the first photo in sight). Arrow keys move a focus ring, Enter opens.
    """

    items = param.List(default=[], doc="What to show, in order.")
    selected = param.List(default=[], doc="Ids ticked in selection mode.")
    select_mode = param.Boolean(default=False)
    loading = param.Boolean(default=False, doc="Show skeleton cells after the items.")
    skeletons = param.Integer(default=12)
    has_more = param.Boolean(default=False, doc="Ask for more (a 'more' message) when scrolled to the end.")
    has_newer = param.Boolean(default=False, doc="Ask for newer (a 'newer' message) when scrolled to the start.")
    variant = param.Selector(default="photo", objects=["photo", "card"])
    empty_text = param.String(default="")
    cell_size = param.Integer(default=0, doc="Minimum cell width in px (0: the stylesheet's default).")
    grouped = param.Boolean(default=False, doc="Headings from the items' `month` and `day`.")
    keyboard = param.Boolean(default=False, doc="Answer the keyboard while visible (one grid per view).")
    report_view = param.Boolean(default=False, doc="Send 'viewing' messages while scrolled.")
    labels = param.Dict(default={}, doc="Words the browser shows, in the interface language: select (the tick's tooltip).")

    _esm = GRID_ESM
    _stylesheets = [GRID_CSS]

    def __init__(self, **params: Any) -> None:
        params.setdefault("sizing_mode", "stretch_width")
        super().__init__(**params)
        self._callbacks: dict[str, list[Callable[..., None]]] = {}

    def on(self, kind: str, callback: Callable[..., None]) -> None:
        """Call `callback` for each browser message of `kind` (open/select/delete/viewing get ids)."""
        self._callbacks.setdefault(kind, []).append(callback)

    def on_open(self, callback: Callable[[int], None]) -> None:
        self.on("open", callback)

    def on_more(self, callback: Callable[[], None]) -> None:
        self.on("more", callback)

    def on_escape(self, callback: Callable[[], None]) -> None:
        self.on("escape", callback)

    def scroll_to_top(self) -> None:
        self._send_msg({"type": "top"})

    def _handle_msg(self, msg: Any) -> None:
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind in ("open", "viewing"):
            args: tuple[Any, ...] = (int(msg["id"]),)
        elif kind in ("select", "delete"):
            args = ([int(i) for i in msg.get("ids") or []],)
        elif kind in ("more", "newer", "escape"):
            args = ()
        else:
            return
        for cb in self._callbacks.get(kind, []):
            cb(*args)


SCRUBBER_CSS = """
:host {position: fixed !important; right: 2px; top: 116px; bottom: 10px; width: 54px !important; z-index: 800;
       height: auto !important;}
.bar {position: absolute; inset: 0; cursor: pointer; touch-action: none; user-select: none;
      font: 11px system-ui, sans-serif; color: var(--pi-muted, #6c757d);}
.seg {position: absolute; left: 30px; right: 4px; border-top: 1px solid transparent;}
.seg.year {border-top-color: var(--pi-rule, #ced4da);}
.seg::after {content: ''; position: absolute; right: 0; top: 50%; width: 4px; height: 2px;
             background: var(--pi-rule, #ced4da); border-radius: 1px;}
.label {position: absolute; left: 0; width: 46px; text-align: right; transform: translateY(-50%);
        font-weight: 600; pointer-events: none;}
.now {position: absolute; left: 24px; right: 0; height: 2px; background: #0d6efd; pointer-events: none;}
.tip {position: absolute; right: 58px; transform: translateY(-50%); background: #1f2d3d; color: #fff;
      padding: 3px 8px; border-radius: 4px; white-space: nowrap; pointer-events: none; display: none;
      font-size: 13px;}
@media (max-width: 600px) { :host {width: 40px !important; top: 112px;} .seg {left: 20px;} .label {width: 34px; font-size: 10px;}
                            .now {left: 14px;} .tip {right: 44px;} }
"""

SCRUBBER_ESM = """
export function render({ model, el }) {
  const bar = document.createElement('div'); bar.className = 'bar';
  bar.setAttribute('role', 'navigation'); bar.setAttribute('aria-label', model.labels.jump || 'Jump to a month');
  const tip = document.createElement('div'); tip.className = 'tip';
  const now = document.createElement('div'); now.className = 'now';
  el.appendChild(bar);
  let spans = [];   // [top, bottom, month] in px
  function draw() {
    bar.innerHTML = ''; spans = [];
    const months = model.months, height = bar.clientHeight || el.clientHeight || 400;
    if (!months.length) return;
    const total = months.reduce((n, m) => n + m.count, 0);
    const floor = 3, spare = Math.max(0, height - floor * months.length);
    let y = 0, lastLabel = -100, year = null;
    for (const m of months) {
      const h = floor + spare * m.count / total;
      const seg = document.createElement('div'); seg.className = 'seg';
      seg.style.top = y + 'px'; seg.style.height = h + 'px'; seg.dataset.key = m.key;
      if (m.year !== year) {
        seg.classList.add('year'); year = m.year;
        if (y - lastLabel >= 16) {
          const label = document.createElement('div'); label.className = 'label'; label.textContent = m.year;
          label.style.top = (y + 7) + 'px'; bar.appendChild(label); lastLabel = y;
        }
      }
      bar.appendChild(seg); spans.push([y, y + h, m]); y += h;
    }
    bar.append(now, tip); mark();
  }
  function at(clientY) {
    const y = clientY - bar.getBoundingClientRect().top;
    for (const s of spans) if (y < s[1]) return s;
    return spans[spans.length - 1];
  }
  function mark() {
    const s = spans.find(s => s[2].key === model.current);
    now.style.display = s ? '' : 'none';
    if (s) now.style.top = ((s[0] + s[1]) / 2) + 'px';
  }
  function show(s) {
    if (!s) return;
    tip.textContent = s[2].label; tip.style.top = ((s[0] + s[1]) / 2) + 'px'; tip.style.display = 'block';
  }
  let dragging = false;
  bar.addEventListener('pointermove', (e) => { show(at(e.clientY)); });
  bar.addEventListener('pointerleave', () => { if (!dragging) tip.style.display = 'none'; });
  bar.addEventListener('pointerdown', (e) => { dragging = true; bar.setPointerCapture(e.pointerId); show(at(e.clientY)); });
  bar.addEventListener('pointerup', (e) => {
    dragging = false; tip.style.display = 'none';
    const s = at(e.clientY);
    if (s) { model.current = s[2].key; model.send_msg({type: 'jump', key: s[2].key}); }
  });
  const resizer = new ResizeObserver(draw); resizer.observe(bar);
  model.on('remove', () => resizer.disconnect());
  model.on('months', draw);
  model.on('current', mark);
  draw();
}
"""


class Scrubber(JSComponent):
    """The timeline's year/month bar on the right edge: each month as tall as its share of the
    photos, years labelled; hovering or dragging names the month, releasing jumps to it
    (a `jump` message with the month's key, "YYYY-MM").

    `months` are dicts: key, label ("July 2023"), year, count; `current` is the month in sight.
    """

    months = param.List(default=[])
    current = param.String(default="")
    labels = param.Dict(default={}, doc="In the interface language: jump (the bar's accessible name).")

    _esm = SCRUBBER_ESM
    _stylesheets = [SCRUBBER_CSS]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._jump_callbacks: list[Callable[[str], None]] = []

    def on_jump(self, callback: Callable[[str], None]) -> None:
        self._jump_callbacks.append(callback)

    def _handle_msg(self, msg: Any) -> None:
        if isinstance(msg, dict) and msg.get("type") == "jump":
            for cb in self._jump_callbacks:
                cb(str(msg["key"]))


STAGE_CSS = """
:host {display: block; position: relative; width: 100%; flex: 1 1 0 !important; min-height: 160px !important;
       height: auto !important;}
.stage {position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
        overflow: hidden; background: #111;}
.frame {position: relative; line-height: 0;}
.frame img {display: block;}
.box {position: absolute; box-sizing: border-box; border: 3px solid #2fd05b; border-radius: 4px; cursor: pointer;}
.box.unassigned {border: 3px dashed #ffd60a;}
.box.active {box-shadow: 0 0 0 3px rgba(255,255,255,.85);}
.box span {position: absolute; left: -3px; top: 100%; margin-top: 3px; background: rgba(0,0,0,.7); color: #fff;
           font: 12px/1.4 system-ui, sans-serif; padding: 1px 5px; border-radius: 3px; white-space: nowrap;}
.spinner {position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; color: #aaa;
          font: 14px system-ui;}
.nav {position: absolute; top: 50%; transform: translateY(-50%); width: 44px; height: 64px; border: 0;
      background: rgba(255,255,255,.12); color: #fff; font-size: 28px; cursor: pointer; border-radius: 6px;}
.nav:hover {background: rgba(255,255,255,.25);}
.prev {left: 6px;} .next {right: 6px;}
"""

STAGE_ESM = """
export function render({ model, el }) {
  const stage = document.createElement('div'); stage.className = 'stage';
  const frame = document.createElement('div'); frame.className = 'frame';
  const img = document.createElement('img'); img.alt = model.labels.photo || 'photo';
  const spinner = document.createElement('div'); spinner.className = 'spinner'; spinner.textContent = model.labels.loading || 'Loading…';
  const prev = document.createElement('button'); prev.className = 'nav prev'; prev.textContent = '‹'; prev.title = model.labels.previous || 'Previous (←)';
  const next = document.createElement('button'); next.className = 'nav next'; next.textContent = '›'; next.title = model.labels.next || 'Next (→)';
  prev.onclick = () => model.send_msg({key: 'ArrowLeft'});
  next.onclick = () => model.send_msg({key: 'ArrowRight'});
  frame.appendChild(img);
  stage.append(spinner, frame, prev, next);
  el.appendChild(stage);
  function fit() {
    if (!img.naturalWidth) return;
    const w = stage.clientWidth - 8, h = stage.clientHeight - 8;
    const scale = Math.min(1, w / img.naturalWidth, h / img.naturalHeight);  // a small photo at its own size
    img.style.width = Math.round(img.naturalWidth * scale) + 'px';
    img.style.height = Math.round(img.naturalHeight * scale) + 'px';
  }
  img.onload = () => { spinner.style.display = 'none'; fit(); drawBoxes(); };
  const resizer = new ResizeObserver(fit);
  resizer.observe(stage);

  function drawBoxes() {
    frame.querySelectorAll('.box').forEach(b => b.remove());
    if (!model.show_faces) return;
    for (const f of model.faces) {
      const box = document.createElement('div');
      box.className = 'box' + (f.assigned ? '' : ' unassigned') + (f.id === model.active_face ? ' active' : '');
      box.dataset.face = f.id;
      box.style.left = (100 * f.x) + '%'; box.style.top = (100 * f.y) + '%';
      box.style.width = (100 * f.w) + '%'; box.style.height = (100 * f.h) + '%';
      box.title = f.label || '';
      if (f.label) { const s = document.createElement('span'); s.textContent = f.label; box.appendChild(s); }
      box.addEventListener('click', (e) => { e.stopPropagation(); model.active_face = f.id; });
      frame.appendChild(box);
    }
  }
  function setSrc() {
    if (!model.src) { img.removeAttribute('src'); return; }
    if (img.getAttribute('src') !== model.src) { spinner.style.display = 'flex'; img.src = model.src; }
    prev.style.display = model.has_prev ? '' : 'none';
    next.style.display = model.has_next ? '' : 'none';
  }
  function onKey(e) {
    if (!model.active) return;
    const tag = (e.composedPath()[0] || {}).tagName || '';
    if (tag === 'INPUT' || tag === 'TEXTAREA') return;
    if (['Escape', 'ArrowLeft', 'ArrowRight', 'i'].includes(e.key)) { e.preventDefault(); model.send_msg({key: e.key}); }
  }
  function setActive() { document.body.classList.toggle('pi-lightbox-open', !!model.active); }
  document.addEventListener('keydown', onKey);
  model.on('remove', () => {
    document.removeEventListener('keydown', onKey); resizer.disconnect();
    document.body.classList.remove('pi-lightbox-open');
  });
  model.on('active', setActive);
  model.on(['src', 'has_prev', 'has_next'], setSrc);
  model.on(['faces', 'show_faces', 'active_face'], drawBoxes);
  setSrc(); drawBoxes(); setActive();
}
"""


class PhotoStage(JSComponent):
    """The lightbox's picture with face boxes at fractional positions (so any displayed size fits).

    `faces` are dicts: id, x, y, w, h (0–1 of the displayed image), assigned, label.
    Key presses (Escape, ArrowLeft, ArrowRight, i) and the ‹ › buttons arrive as `on_key` callbacks.
    """

    src = param.String(default="")
    faces = param.List(default=[])
    show_faces = param.Boolean(default=False)
    active_face = param.Integer(default=-1, doc="The face box clicked last; -1 for none.")
    active = param.Boolean(default=False, doc="Listen to the keyboard (the lightbox is open).")
    has_prev = param.Boolean(default=False)
    has_next = param.Boolean(default=False)
    labels = param.Dict(default={}, doc="In the interface language: photo, loading, previous, next.")

    _esm = STAGE_ESM
    _stylesheets = [STAGE_CSS]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._key_callbacks: list[Callable[[str], None]] = []

    def on_key(self, callback: Callable[[str], None]) -> None:
        self._key_callbacks.append(callback)

    def _handle_msg(self, msg: Any) -> None:
        if isinstance(msg, dict) and "key" in msg:
            for cb in self._key_callbacks:
                cb(str(msg["key"]))


CALENDAR_CSS = """
.flatpickr-calendar.open {position: fixed !important; z-index: 2200 !important;}
"""
"""The calendar floats over the page: in the sidebar (a scrolling box) it was cut off at its edge."""


def _day(text: str) -> datetime:
    text = text.strip()
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r} (type it as 2023-07-14)")


class DateRangeInput(DatetimeRangePicker):
    """Dates only, typed ("2023-07-01 to 2023-07-31", Enter) or picked on the calendar."""

    def __init__(self, **params: Any) -> None:
        params.update(enable_time=False, enable_seconds=False, allow_input=True)
        params["stylesheets"] = [*params.get("stylesheets", []), CALENDAR_CSS]
        super().__init__(**params)

    def _process_param_change(self, params: dict[str, Any]) -> dict[str, Any]:
        props = super()._process_param_change(params)
        props["date_format"] = "Y-m-d"
        return props

    def _serialize_value(self, value: Any) -> Any:
        if isinstance(value, str) and value:
            days = [_day(part) for part in value.split(" to ")]
            return (days[0], days[-1])
        return value

    def _deserialize_value(self, value: Any) -> Any:
        if isinstance(value, tuple):
            return " to ".join(v.strftime("%Y-%m-%d") for v in value)
        return "" if value is None else value
