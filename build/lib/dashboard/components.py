"""Browser-side components: one element each, however many photos they show.

`PhotoGrid` draws thousands of thumbnails as plain `<img loading="lazy">` tags served over HTTP
(no Bokeh pane per photo), with loading skeletons, a selection mode and infinite scroll.
`PhotoStage` draws the lightbox's picture with face boxes and forwards keys (Escape, arrows).
Both talk back to Python through params and `send_msg`; the Python side owns every decision.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import param
from panel.custom import JSComponent

GRID_CSS = """
:host {display: block; width: 100%;}
.grid {display: grid; grid-template-columns: repeat(auto-fill, minmax(var(--cell, 170px), 1fr)); gap: 6px;}
.cell {position: relative; aspect-ratio: 1; border-radius: 6px; overflow: hidden; background: #e9ecef;
       cursor: pointer; outline: 3px solid transparent; transition: outline-color .1s;}
.cell img {width: 100%; height: 100%; object-fit: cover; display: block; opacity: 0; transition: opacity .2s;}
.cell img.loaded {opacity: 1;}
.cell .badge {position: absolute; right: 4px; bottom: 4px; background: rgba(0,0,0,.62); color: #fff;
              font: 11px system-ui, sans-serif; padding: 1px 5px; border-radius: 4px; max-width: 90%;
              overflow: hidden; text-overflow: ellipsis; white-space: nowrap;}
.cell .tag {position: absolute; left: 4px; top: 4px; background: #198754; color: #fff; font: 11px system-ui;
            padding: 1px 5px; border-radius: 4px;}
.cell .tick {position: absolute; left: 6px; top: 6px; width: 22px; height: 22px; border-radius: 50%;
             border: 2px solid #fff; background: rgba(0,0,0,.25); display: none; color: #fff;
             font: bold 14px/20px system-ui; text-align: center;}
.selecting .cell .tick {display: block;}
.cell.selected {outline-color: #0d6efd;}
.cell.selected .tick {background: #0d6efd;}
.cell.selected img {transform: scale(.92); border-radius: 4px;}
.card .cap {position: absolute; left: 0; right: 0; bottom: 0; padding: 18px 6px 5px; color: #fff;
            font: 13px system-ui, sans-serif; background: linear-gradient(transparent, rgba(0,0,0,.7));}
.card .cap b {display: block; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;}
.skeleton {aspect-ratio: 1; border-radius: 6px;
           background: linear-gradient(90deg, #e9ecef 25%, #f8f9fa 37%, #e9ecef 63%);
           background-size: 400% 100%; animation: shimmer 1.2s ease infinite;}
@keyframes shimmer {0% {background-position: 100% 50%} 100% {background-position: 0 50%}}
.empty {color: #6c757d; font: 14px system-ui, sans-serif; padding: 24px 4px;}
.sentinel {height: 1px;}
@media (max-width: 600px) { .grid {--cell: 105px; gap: 3px;} }
"""

GRID_ESM = """
export function render({ model, el }) {
  const root = document.createElement('div');
  el.appendChild(root);
  let observer = null;

  function draw() {
    root.innerHTML = '';
    const grid = document.createElement('div');
    grid.className = 'grid' + (model.select_mode ? ' selecting' : '');
    if (model.cell_size) grid.style.setProperty('--cell', model.cell_size + 'px');
    const selected = new Set(model.selected);
    for (const item of model.items) {
      const cell = document.createElement('div');
      cell.className = 'cell' + (model.variant !== 'photo' ? ' card' : '') + (selected.has(item.id) ? ' selected' : '');
      cell.dataset.id = item.id;
      cell.title = item.title || '';
      const img = document.createElement('img');
      img.loading = 'lazy';
      img.decoding = 'async';
      img.alt = item.title || '';
      img.onload = () => img.classList.add('loaded');
      img.src = item.src;
      cell.appendChild(img);
      if (model.variant === 'photo') {
        const tick = document.createElement('span'); tick.className = 'tick'; tick.textContent = '✓';
        cell.appendChild(tick);
        if (item.badge) { const b = document.createElement('span'); b.className = 'badge'; b.textContent = item.badge; cell.appendChild(b); }
        if (item.tag) { const t = document.createElement('span'); t.className = 'tag'; t.textContent = item.tag; cell.appendChild(t); }
      } else {
        const cap = document.createElement('div'); cap.className = 'cap';
        const b = document.createElement('b'); b.textContent = item.label || ''; cap.appendChild(b);
        if (item.badge) { const s = document.createElement('span'); s.textContent = item.badge; cap.appendChild(s); }
        cell.appendChild(cap);
      }
      cell.addEventListener('click', (e) => {
        if (model.select_mode) {
          const now = new Set(model.selected);
          if (now.has(item.id)) now.delete(item.id); else now.add(item.id);
          model.selected = [...now];
        } else {
          model.send_msg({type: 'open', id: item.id});
        }
      });
      grid.appendChild(cell);
    }
    if (model.loading) {
      for (let i = 0; i < model.skeletons; i++) {
        const s = document.createElement('div'); s.className = 'skeleton'; grid.appendChild(s);
      }
    }
    if (!model.items.length && !model.loading && model.empty_text) {
      const e = document.createElement('div'); e.className = 'empty'; e.textContent = model.empty_text;
      root.appendChild(e);
    }
    root.appendChild(grid);
    if (observer) observer.disconnect();
    if (model.has_more && !model.loading) {
      const sentinel = document.createElement('div'); sentinel.className = 'sentinel';
      root.appendChild(sentinel);
      observer = new IntersectionObserver((entries) => {
        if (entries.some(x => x.isIntersecting) && model.has_more && !model.loading) {
          observer.disconnect();
          model.send_msg({type: 'more'});
        }
      }, {rootMargin: '400px'});
      observer.observe(sentinel);
    }
  }
  function onKey(e) {
    if (e.key === 'Escape' && model.select_mode) model.send_msg({type: 'escape'});
  }
  document.addEventListener('keydown', onKey);
  model.on('remove', () => { document.removeEventListener('keydown', onKey); if (observer) observer.disconnect(); });
  model.on(['items', 'selected', 'select_mode', 'loading', 'has_more', 'empty_text', 'cell_size'], draw);
  draw();
}
"""


class PhotoGrid(JSComponent):
    """Thumbnails (or person / album cards) in a responsive grid.

    `items` are dicts: id, src, title, and for photos `badge`/`tag`, for cards `label`/`badge`.
    """

    items = param.List(default=[], doc="What to show, in order.")
    selected = param.List(default=[], doc="Ids ticked in selection mode.")
    select_mode = param.Boolean(default=False)
    loading = param.Boolean(default=False, doc="Show skeleton cells after the items.")
    skeletons = param.Integer(default=12)
    has_more = param.Boolean(default=False, doc="Ask for more (a 'more' message) when scrolled to the end.")
    variant = param.Selector(default="photo", objects=["photo", "card"])
    empty_text = param.String(default="")
    cell_size = param.Integer(default=0, doc="Minimum cell width in px (0: the stylesheet's default).")

    _esm = GRID_ESM
    _stylesheets = [GRID_CSS]

    def __init__(self, **params: Any) -> None:
        params.setdefault("sizing_mode", "stretch_width")
        super().__init__(**params)
        self._open_callbacks: list[Callable[[int], None]] = []
        self._more_callbacks: list[Callable[[], None]] = []
        self._escape_callbacks: list[Callable[[], None]] = []

    def on_open(self, callback: Callable[[int], None]) -> None:
        self._open_callbacks.append(callback)

    def on_more(self, callback: Callable[[], None]) -> None:
        self._more_callbacks.append(callback)

    def on_escape(self, callback: Callable[[], None]) -> None:
        self._escape_callbacks.append(callback)

    def _handle_msg(self, msg: Any) -> None:
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "open":
            for cb in self._open_callbacks:
                cb(int(msg["id"]))
        elif kind == "more":
            for cb in self._more_callbacks:
                cb()
        elif kind == "escape":
            for cb in self._escape_callbacks:
                cb()


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
  const img = document.createElement('img'); img.alt = 'photo';
  const spinner = document.createElement('div'); spinner.className = 'spinner'; spinner.textContent = 'Loading…';
  const prev = document.createElement('button'); prev.className = 'nav prev'; prev.textContent = '‹'; prev.title = 'Previous (←)';
  const next = document.createElement('button'); next.className = 'nav next'; next.textContent = '›'; next.title = 'Next (→)';
  prev.onclick = () => model.send_msg({key: 'ArrowLeft'});
  next.onclick = () => model.send_msg({key: 'ArrowRight'});
  frame.appendChild(img);
  stage.append(spinner, frame, prev, next);
  el.appendChild(stage);
  function fit() {
    if (!img.naturalWidth) return;
    const w = stage.clientWidth - 8, h = stage.clientHeight - 8;
    const scale = Math.min(w / img.naturalWidth, h / img.naturalHeight);
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
    if (['Escape', 'ArrowLeft', 'ArrowRight'].includes(e.key)) { e.preventDefault(); model.send_msg({key: e.key}); }
  }
  document.addEventListener('keydown', onKey);
  model.on('remove', () => { document.removeEventListener('keydown', onKey); resizer.disconnect(); });
  model.on(['src', 'has_prev', 'has_next'], setSrc);
  model.on(['faces', 'show_faces', 'active_face'], drawBoxes);
  setSrc(); drawBoxes();
}
"""


class PhotoStage(JSComponent):
    """The lightbox's picture with face boxes at fractional positions (so any displayed size fits).

    `faces` are dicts: id, x, y, w, h (0–1 of the displayed image), assigned, label.
    Key presses (Escape, ArrowLeft, ArrowRight) and the ‹ › buttons arrive as `on_key` callbacks.
    """

    src = param.String(default="")
    faces = param.List(default=[])
    show_faces = param.Boolean(default=False)
    active_face = param.Integer(default=-1, doc="The face box clicked last; -1 for none.")
    active = param.Boolean(default=False, doc="Listen to the keyboard (the lightbox is open).")
    has_prev = param.Boolean(default=False)
    has_next = param.Boolean(default=False)

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
