"""The lightbox: a full photo over the page, previous/next, rotation, face boxes and their actions,
and an info panel (date, camera, lens, exposure, size, file, place with a small map, people)."""
from __future__ import annotations

import html
from pathlib import PurePosixPath
from typing import Any

import panel as pn
import param

from dashboard.components import PhotoStage
from dashboard.icons import icon
from dashboard.views.common import Context, Tile, day_text, error_text, html_pane, human_bytes, literal, markdown_pane
from engine.db.photos import Photo
from engine.errors import PhotoIndexError
from engine.faces.records import Face
from engine.geo.names import place_label
from engine.geo.places import Place
from engine.geo.tiles import spot_tiles
from engine.i18n import N_, Translator, translator


def face_box(face: Face) -> dict[str, Any]:
    """A face as the stage draws it: fractions of the displayed (rotated) image."""
    w, h = face.image_width or 1, face.image_height or 1
    x1, y1, x2, y2 = face.bbox
    bits = [face.person_name or "?"]
    if face.age is not None:
        bits.append(str(face.age))
    return {"id": face.id, "x": max(0.0, x1 / w), "y": max(0.0, y1 / h), "w": min(1.0, (x2 - x1) / w),
            "h": min(1.0, (y2 - y1) / h), "assigned": face.person_id is not None, "label": " · ".join(bits)}


def _number(value: Any) -> float | None:
    if isinstance(value, (list, tuple)) and len(value) == 2 and value[1]:  # a rational as [num, den]
        value = value[0] / value[1]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def exposure(exif: dict[str, Any]) -> str:
    """ "1/250 s · ƒ/2.8 · ISO 100 · 35 mm", from what the camera wrote."""
    bits = []
    if (t := _number(exif.get("ExposureTime"))) is not None:
        bits.append(f"1/{round(1 / t)} s" if t < 1 else f"{t:g} s")
    if (f := _number(exif.get("FNumber"))) is not None:
        bits.append(f"ƒ/{f:.1f}".replace(".0", ""))
    iso = exif.get("ISOSpeedRatings", exif.get("PhotographicSensitivity"))
    if isinstance(iso, (list, tuple)):
        iso = iso[0] if iso else None
    if (i := _number(iso)) is not None:
        bits.append(f"ISO {i:.0f}")
    if (mm := _number(exif.get("FocalLength"))) is not None:
        bits.append(f"{mm:.0f} mm")
    return " · ".join(bits)


MAP_W, MAP_H = 280, 170
ASSIGNED_BY = (N_("user"), N_("suggestion"), N_("auto"))
"""Who gave a face its person (`faces.assigned_by`), marked for translation."""


def mini_map(photo: Photo, tiles_template: str, unavailable: str, attribution: str,
             _: Translator = translator("en")) -> str:
    """A small map of where the photo was taken: tiles around a marker, or a sentence offline."""
    if photo.latitude is None or photo.longitude is None:
        return ""
    where = f"{photo.latitude:.5f}, {photo.longitude:.5f}"
    if unavailable:
        no_tiles = _("Map tiles are unavailable ({reason})", reason=html.escape(_(unavailable)))
        return f'<div class="nomap">{no_tiles} · {where}</div>'
    tiles = "".join(f'<img src="{html.escape(t.url)}" style="left:{t.left}px;top:{t.top}px" alt="">'
                    for t in spot_tiles(tiles_template, photo.latitude, photo.longitude, MAP_W, MAP_H))
    return (f'<div class="minimap" style="width:{MAP_W}px;height:{MAP_H}px">{tiles}<span class="pin"></span></div>'
            f'<div class="credit">{html.escape(attribution)} · {where}</div>')


def info_html(photo: Photo, people: list[str], map_html: str, _: Translator = translator("en")) -> str:
    rows: list[tuple[str, str]] = []
    if photo.taken_at:
        rows.append((_("Taken"), day_text(photo.taken_at, "EEEE, d MMMM y", _.language)
                     + photo.taken_at.strftime(", %H:%M")))
    else:
        rows.append((_("Taken"), _("no date in the file")))
    if photo.camera:
        rows.append((_("Camera"), photo.camera))
    if photo.lens:
        rows.append((_("Lens"), photo.lens))
    if shot := exposure(photo.exif_data):
        rows.append((_("Exposure"), shot))
    size = f"{photo.width}×{photo.height} · {(photo.width * photo.height) / 1e6:.1f} MP · " if photo.width and photo.height else ""
    rows.append((_("Size"), f"{size}{human_bytes(photo.size)} · {photo.format.upper()}"))
    rows.append((_("File"), photo.path))
    if place := photo_place(photo, _.language):
        rows.append((_("Place"), place))
    if people:
        rows.append((_("People"), ", ".join(people)))
    body = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows)
    return f"<h4>{html.escape(PurePosixPath(photo.path).name)}</h4><dl>{body}</dl>{map_html}"


def photo_place(photo: Photo, language: str) -> str | None:
    """Where the photo was taken, in the interface language (the stored English name when no other is known)."""
    label = place_label(Place.of(photo), language) if photo.latitude is not None else None
    return label or photo.place


class Lightbox(pn.viewable.Viewer):
    photo_ids = param.List(default=[], doc="The sequence previous/next walks through.")
    index = param.Integer(default=0)
    is_open = param.Boolean(default=False)
    show_faces = param.Boolean(default=False)
    faces = param.List(default=[], item_type=Face)
    active_face_id = param.Integer(default=None, allow_None=True)
    rotation = param.Integer(default=0)
    info = param.String(default="", doc="One line under the photo: file, date, position in the sequence.")
    show_info = param.Boolean(default=False, doc="The info panel is open (kept from photo to photo).")
    details = param.String(default="", doc="The info panel's HTML.")
    message = param.String(default="")
    det_threshold = param.Number(default=0.5, bounds=(0.05, 0.95), step=0.05)
    hd = param.Boolean(default=False, doc=N_("Re-detect with the 1280 px detector input."))
    new_person_name = param.String(default="")
    assign_to = param.String(default="", doc="A person's name, from the autocomplete.")

    def __init__(self, ctx: Context, **params: Any) -> None:
        super().__init__(**params)
        self.ctx = ctx
        self.engine = ctx.engine
        _ = ctx._
        self.stage = PhotoStage(sizing_mode="stretch_width", css_classes=["photo-stage"], labels={
            "photo": _("photo"), "loading": _("Loading…"), "previous": _("Previous (←)"), "next": _("Next (→)")})
        self._photo: Photo | None = None
        self.stage.on_key(self.key)
        self.stage.param.watch(lambda e: self.select_face(e.new if e.new >= 0 else None), "active_face")

    @property
    def photo_id(self) -> int | None:
        return self.photo_ids[self.index] if self.is_open and self.photo_ids else None

    # --- opening and walking ---------------------------------------------------------------
    def show(self, ids: list[int], index: int = 0) -> None:
        self.param.update(photo_ids=list(ids), index=max(0, min(index, len(ids) - 1)), is_open=bool(ids))
        self._load()

    def close(self) -> None:
        self.param.update(is_open=False, active_face_id=None)
        self.stage.param.update(active=False, src="")

    def next(self) -> None:
        if self.index + 1 < len(self.photo_ids):
            self.index += 1
            self._load()

    def prev(self) -> None:
        if self.index > 0:
            self.index -= 1
            self._load()

    def key(self, key: str) -> None:
        if key == "Escape":
            if self.active_face_id is not None:
                self.select_face(None)
            else:
                self.close()
        elif key == "ArrowRight":
            self.next()
        elif key == "ArrowLeft":
            self.prev()
        elif key == "i":
            self.toggle_info()

    def _load(self) -> None:
        pid = self.photo_id
        if pid is None:
            return
        photo, _ = self.ctx.photo(pid), self.ctx._
        if photo is None:
            self.message = _("This photo is no longer in the library")
            return
        self.rotation = photo.rotation
        bits = [f"**{literal(PurePosixPath(photo.path).name)}**"]
        if photo.taken_at:
            bits.append(day_text(photo.taken_at, "d MMM y", _.language) + photo.taken_at.strftime(" %H:%M"))
        if place := photo_place(photo, _.language):
            bits.append(literal(place))
        if photo.offline_since is not None:
            bits.append(_("offline: the file is gone since {day}", day=photo.offline_since.strftime("%Y-%m-%d")))
        self.info = " · ".join(bits) + f" · {self.index + 1}/{len(self.photo_ids)}"
        self.message = ""
        self.active_face_id = None
        self._photo = photo
        self._load_faces()
        self.stage.param.update(src=self.ctx.full_url(pid), active=True, has_prev=self.index > 0,
                                has_next=self.index + 1 < len(self.photo_ids), active_face=-1)

    def _load_faces(self) -> None:
        pid = self.photo_id
        try:
            self.faces = self.engine.faces.of_photo(pid) if pid is not None else []
        except PhotoIndexError as exc:
            self.faces, self.message = [], f"⚠ {error_text(exc, self.ctx._)}"
        self.stage.param.update(faces=[face_box(f) for f in self.faces], show_faces=self.show_faces)
        self._describe()

    # --- info panel ---------------------------------------------------------------------------
    def toggle_info(self) -> None:
        self.show_info = not self.show_info
        self._describe()

    def _describe(self) -> None:
        photo = self._photo
        if not self.show_info or photo is None:
            return
        people = list(dict.fromkeys(f.person_name for f in self.faces if f.person_name))
        settings = self.engine.settings
        where = "" if photo.latitude is None else mini_map(photo, settings.map_tiles_url, self.ctx.tiles_unavailable(),
                                                           settings.map_tiles_attribution, self.ctx._)
        self.details = info_html(photo, people, where, self.ctx._)

    # --- rotation ---------------------------------------------------------------------------
    def rotate(self, degrees: int) -> int:
        pid = self.photo_id
        if pid is None:
            return 0
        self.rotation = self.engine.library.rotate(pid, degrees)
        self.ctx.bump(pid)
        self.ctx.emit("photo-changed", pid)
        self._load_faces()
        self.stage.src = self.ctx.full_url(pid)
        return self.rotation

    # --- faces ------------------------------------------------------------------------------
    def toggle_faces(self) -> None:
        self.show_faces = not self.show_faces
        if not self.show_faces:
            self.select_face(None)
        self.stage.show_faces = self.show_faces

    @property
    def active_face(self) -> Face | None:
        return next((f for f in self.faces if f.id == self.active_face_id), None)

    def select_face(self, face_id: int | None) -> None:
        self.active_face_id = face_id
        self.stage.active_face = -1 if face_id is None else face_id
        self.param.update(new_person_name="", assign_to="")

    def face_summary(self) -> str:
        f, _ = self.active_face, self.ctx._
        if f is None:
            return ""
        gender = {"M": _("male"), "F": _("female")}.get(f.gender or "", f.gender or "—")
        if f.person_name:
            person = f"**{literal(f.person_name)}**" + (f" ({_(f.assigned_by)})" if f.assigned_by else "")
        else:
            person = "*{}*".format(_("unassigned"))
        score = format(f.det_score, ".2f")
        return _("Age {age} · {gender} · {person} · detection score {score}", age=f.age if f.age is not None else "—",
                 gender=gender, person=person, score=score)

    def person_names(self) -> dict[str, int]:
        people, _ = self.engine.faces.persons.list(None, 500, 0)
        return {p.name: p.id for p in people}

    def assign(self, person_id: int | None = None, *, name: str | None = None) -> Face | None:
        """Give the active face to `person_id`, to the person called `name`, or to a new person `name`."""
        face = self.active_face
        if face is None:
            return None
        try:
            if person_id is None and name:
                known = self.person_names()
                if name in known:
                    person_id = known[name]
            if person_id is not None:
                updated = self.engine.faces.persons.assign(face.id, person_id)
            elif name and name.strip():
                updated = self.engine.faces.persons.assign(face.id, None, new_name=name.strip())
            else:
                self.message = self.ctx._("Type a name")
                return None
        except PhotoIndexError as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return None
        self.message = self.ctx._("This face is now {name}", name=literal(updated.person_name))
        self._load_faces()
        self.select_face(face.id)
        self.ctx.emit("persons-changed")
        return updated

    def create_person(self, name: str | None = None) -> Face | None:
        name = (name if name is not None else self.new_person_name).strip()
        if not name:
            self.message = self.ctx._("Type the new person's name")
            return None
        face = self.active_face
        if face is None:
            return None
        try:
            updated = self.engine.faces.persons.assign(face.id, None, new_name=name)
        except PhotoIndexError as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return None
        self.message = self.ctx._("Created {name}", name=literal(updated.person_name))
        self._load_faces()
        self.select_face(face.id)
        self.ctx.emit("persons-changed")
        return updated

    def unassign(self) -> None:
        face = self.active_face
        if face is None:
            return
        self.engine.faces.persons.unassign(face.id)
        self.message = self.ctx._("This face belongs to nobody now")
        self._load_faces()
        self.select_face(face.id)
        self.ctx.emit("persons-changed")

    def find_face(self) -> list[Tile]:
        face = self.active_face
        if face is None:
            return []
        try:
            result = self.engine.faces.search.by_face(face.id, top_k=50)
        except PhotoIndexError as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return []
        tiles = [Tile(id=h.face.photo_id, path=h.face.path, score=h.score) for h in result.hits]
        self.close()
        self.ctx.emit("show-results", (self.ctx._("with {name}", name=face.person_name or self.ctx._("this unnamed face")),
                                       tiles))
        return tiles

    def redetect(self) -> list[Face]:
        pid = self.photo_id
        if pid is None:
            return []
        try:
            self.engine.faces.reindex_photo(pid, threshold=self.det_threshold, hd=self.hd)
        except PhotoIndexError as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return []
        self.param.update(show_faces=True)
        self._load_faces()
        self.stage.show_faces = True
        threshold = format(self.det_threshold, ".2f") + (", HD" if self.hd else "")
        self.message = self.ctx._.ngettext("Found {n} face (threshold {threshold})",
                                           "Found {n} faces (threshold {threshold})", len(self.faces), threshold=threshold)
        return self.faces

    # --- widgets ------------------------------------------------------------------------------
    def _face_panel(self) -> pn.viewable.Viewable:
        _ = self.ctx._
        names = pn.widgets.AutocompleteInput(label=_("Assign to"), placeholder=_("Start typing a name…"),
                                             min_characters=1, search_strategy="includes", case_sensitive=False,
                                             sizing_mode="stretch_width", restrict=False)
        assign = pn.widgets.Button(label=_("Assign"), color="primary", icon=icon("user-check"))
        new_name = pn.widgets.TextInput.from_param(self.param.new_person_name, label=_("New person"),
                                                   placeholder=_("Name"), sizing_mode="stretch_width")
        create = pn.widgets.Button(label=_("Create person"), color="success", icon=icon("user-plus"))
        unassign = pn.widgets.Button(label=_("Unassign"), icon=icon("user-minus"), color="light")
        elsewhere = pn.widgets.Button(label=_("Find this face elsewhere"), icon=icon("search"), color="light")

        def refresh_names(*_args: Any) -> None:
            names.options = list(self.person_names())

        self.param.watch(refresh_names, "active_face_id")
        assign.on_click(lambda e: self.assign(name=names.value_input or names.value))
        create.on_click(lambda e: self.create_person())
        unassign.on_click(lambda e: self.unassign())
        elsewhere.on_click(lambda e: self.find_face())
        summary = markdown_pane(pn.bind(lambda _f, _faces: self.face_summary(), self.param.active_face_id,
                                           self.param.faces), sizing_mode="stretch_width")
        return pn.Column(summary, pn.Row(names, assign), pn.Row(new_name, create), pn.Row(unassign, elsewhere),
                         visible=self.param.active_face_id.rx.is_not(None), css_classes=["face-popup"],
                         stylesheets=[POPUP_CSS])

    def __panel__(self) -> pn.viewable.Viewable:
        def button(label: str, title: str, action: Any, **kw: Any) -> pn.widgets.Button:
            b = pn.widgets.Button(label=label, description=title, color="light", width=42, margin=(5, 3), **kw)
            b.on_click(lambda e: action())
            return b

        _ = self.ctx._
        faces = pn.widgets.Toggle(label=_("Faces"), value=self.show_faces, color="light", width=72, margin=(5, 3))
        faces.param.watch(lambda e: self.toggle_faces() if e.new != self.show_faces else None, "value")
        self.param.watch(lambda e: setattr(faces, "value", e.new), "show_faces")
        threshold = pn.widgets.FloatInput.from_param(self.param.det_threshold, label="", width=70, step=0.05,
                                                     description=_("Detection threshold"), margin=(5, 3))
        hd = pn.widgets.Checkbox.from_param(self.param.hd, label="HD", width=45, margin=(12, 4))
        redetect = pn.widgets.Button(label=_("Re-detect"), icon=icon("refresh"), color="light", width=110, margin=(5, 3))
        redetect.on_click(lambda e: self.redetect())
        detect = pn.Row(markdown_pane(_("Threshold"), margin=(12, 2, 0, 12)), threshold, hd, redetect,
                        visible=self.param.show_faces, stylesheets=[DETECT_CSS])
        close = button("✕", _("Close (Esc)"), self.close, stylesheets=[CLOSE_CSS])
        info_toggle = pn.widgets.Toggle(label=_("Info"), icon=icon("info-circle"), value=self.show_info, color="light",
                                        width=82, margin=(5, 3), css_classes=["info-toggle"])
        info_toggle.param.watch(lambda e: self.toggle_info() if e.new != self.show_info else None, "value")
        self.param.watch(lambda e: setattr(info_toggle, "value", e.new), "show_info")
        toolbar = pn.FlexBox(
            button("‹", _("Previous (←)"), self.prev), button("›", _("Next (→)"), self.next),
            button("↺", _("Rotate left"), lambda: self.rotate(-90)),
            button("↻", _("Rotate right"), lambda: self.rotate(90)),
            faces, info_toggle, detect, close, sizing_mode="stretch_width",
            align_items="center", styles={"background": "#f8f9fa"}, stylesheets=[":host {min-width: 0 !important;}"],
        )
        info = markdown_pane(self.param.info, styles={"color": "#eee"}, sizing_mode="stretch_width", margin=(2, 10))
        message = markdown_pane(self.param.message, styles={"color": "#ffd60a"}, margin=(0, 10))
        panel = html_pane(self.param.details, visible=self.param.show_info, css_classes=["info-panel"],
                             stylesheets=[INFO_CSS], margin=0)
        classes = pn.bind(lambda on: ["lightbox"] + (["info-open"] if on else []), self.param.show_info)
        return pn.Column(toolbar, self.stage, info, message, panel, self._face_panel(), visible=self.param.is_open,
                         css_classes=classes, stylesheets=[LIGHTBOX_CSS], sizing_mode="stretch_width")


LIGHTBOX_CSS = """
:host {position: fixed !important; inset: 0; z-index: 2000; background: #111;
       width: 100vw !important; height: 100vh !important; overflow: hidden;}
:host(.info-open) .photo-stage {margin-right: 340px !important; width: calc(100% - 340px) !important;}
@media (max-width: 700px) { :host(.info-open) .photo-stage {margin-right: 0 !important; width: 100% !important;} }
"""

INFO_CSS = """
:host {position: fixed !important; right: 0; top: 52px; bottom: 0; width: 340px !important; z-index: 2050;
       height: auto !important;
       background: #1c1f23; color: #e9ecef; overflow-y: auto; box-sizing: border-box; padding: 6px 14px 14px;
       font: 14px system-ui, sans-serif;}
@media (max-width: 700px) { :host {top: auto; left: 0; width: 100vw !important; max-height: 55vh;
                                   border-radius: 12px 12px 0 0; box-shadow: 0 -6px 20px rgba(0,0,0,.5);} }
h4 {margin: 6px 0 10px; font: 600 16px system-ui, sans-serif; overflow-wrap: anywhere;}
dl {display: grid; grid-template-columns: 76px 1fr; gap: 6px 10px; margin: 0 0 10px;}
dt {color: #adb5bd;} dd {margin: 0; overflow-wrap: anywhere;}
.minimap {position: relative; overflow: hidden; border-radius: 8px; background: #343a40; max-width: 100%;}
.minimap img {position: absolute; width: 256px; height: 256px;}
.pin {position: absolute; left: 50%; top: 50%; width: 14px; height: 14px; margin: -7px 0 0 -7px;
      background: #e4572e; border: 2px solid #fff; border-radius: 50%; box-shadow: 0 1px 4px rgba(0,0,0,.5);}
.credit, .nomap {font-size: 12px; color: #adb5bd; margin-top: 4px; overflow-wrap: anywhere;}
"""

CLOSE_CSS = """
:host {margin-left: auto !important;}
@media (max-width: 600px) { :host {order: 1;} }
"""

DETECT_CSS = """
:host {min-width: 0 !important;}
@media (max-width: 600px) { :host {order: 2;} }
"""
"""On a phone the toolbar wraps: the close button stays on the first line, re-detection goes below."""

POPUP_CSS = """
:host {position: fixed !important; right: 12px; bottom: 12px; width: min(400px, calc(100vw - 24px)) !important;
       z-index: 2100; background: #fff; border-radius: 10px; padding: 6px; box-shadow: 0 6px 24px rgba(0,0,0,.45);}
"""
