"""Duplicates: groups side by side with sizes and formats, the copy to keep marked, extras to the trash."""
from __future__ import annotations

from typing import Any

import panel as pn
import param

from dashboard.components import PhotoGrid
from dashboard.icons import icon
from dashboard.views.common import Context, Tile, count, error_text, human_bytes, literal
from engine.library.duplicates import DuplicateGroup

PAGE = 20


class DuplicatesView(pn.viewable.Viewer):
    method = param.Selector(default="phash", objects=["phash", "clip"], doc="Perceptual hash or image embedding.")
    max_distance = param.Integer(default=24, bounds=(0, 128), doc="pHash: most differing bits of 256.")
    threshold = param.Number(default=0.95, bounds=(0.5, 1.0), step=0.01, doc="clip: least cosine similarity.")
    groups = param.List(default=[], item_type=DuplicateGroup)
    total_groups = param.Integer(default=0)
    confirm = param.Boolean(default=False)
    message = param.String(default="")

    def __init__(self, ctx: Context, **params: Any) -> None:
        super().__init__(**params)
        self.ctx = ctx
        self.engine = ctx.engine
        self.opener = None
        self._body = pn.Column(sizing_mode="stretch_width")

    def _params(self) -> dict[str, Any]:
        return {"max_distance": self.max_distance, "threshold": self.threshold}

    def find(self) -> None:
        try:
            report = self.engine.library.duplicates(self.method, limit=PAGE, **self._params())
        except Exception as exc:
            self.param.update(groups=[], total_groups=0, message=f"⚠ {error_text(exc)}")
        else:
            extras = sum(len(g.extras) for g in report.groups)
            self.param.update(groups=report.groups, total_groups=report.total_groups, confirm=False,
                              message=f"{count(report.total_groups, 'group')}" + (f" · showing {len(report.groups)}"
                                                                         if report.total_groups > len(report.groups)
                                                                         else "") + f" · {count(extras, 'extra copy')} shown"
                              if report.total_groups else "No duplicates found" + (
                                  " — has the pHash stage run? (Admin → pHash)" if self.method == "phash" else ""))
        self._render()

    def delete_group(self, index: int) -> int:
        group = self.groups[index]
        ids = [p.id for p in group.extras]
        report = self.engine.library.trash.move_to_trash(ids, reason=f"duplicate ({self.method})")
        self.message = f"Moved {count(len(report.trashed) + len(report.missing_files), 'extra copy')} to the trash"
        self.ctx.emit("photos-deleted", ids)
        self.find()
        return len(ids)

    def delete_all(self) -> int:
        _report, trash = self.engine.library.delete_duplicates(self.method, dry_run=False, **self._params())
        moved = len(trash.trashed) + len(trash.missing_files) if trash else 0
        self.ctx.emit("photos-deleted", [t.photo_id for t in trash.trashed] if trash else [])
        self.find()
        self.message = f"Moved {count(moved, 'extra copy')} to the trash · " + self.message
        return moved

    def _render(self) -> None:
        rows = []
        for i, g in enumerate(self.groups):
            grid = PhotoGrid(cell_size=140, items=[{
                "id": p.id, "src": self.ctx.thumb_url(p.id), "title": p.path,
                "badge": f"{p.format.upper()} · {p.width or '?'}×{p.height or '?'} · {human_bytes(p.size)}",
                "tag": "keep" if p.id == g.keep.id else ""} for p in g.photos])
            ids = [p.id for p in g.photos]
            grid.on_open(lambda pid, ids=ids: self.opener(ids, ids.index(pid)) if self.opener else None)
            button = pn.widgets.Button(label=f"Delete {count(len(g.extras), 'extra')}", icon=icon("trash"),
                                       color="danger", variant="outline")
            button.on_click(lambda e, i=i: self.delete_group(i))
            closeness = (f"at most {count(int(g.closeness), 'bit')} apart" if self.method == "phash"
                         else f"similarity ≥ {g.closeness:.3f}")
            head = pn.Row(pn.pane.Markdown(f"**Group {i + 1}** · {closeness} · keep "
                                           f"**{literal(g.keep.path)}**", sizing_mode="stretch_width"), button,
                          sizing_mode="stretch_width")
            rows.append(pn.Column(head, grid, sizing_mode="stretch_width", styles={"border-bottom": "1px solid #ddd"}))
        self._body.objects = rows

    def __panel__(self) -> pn.viewable.Viewable:
        method = pn.widgets.RadioButtonGroup.from_param(self.param.method, color="light")
        distance = pn.widgets.IntInput.from_param(self.param.max_distance, label="max bits", width=90)
        threshold = pn.widgets.FloatInput.from_param(self.param.threshold, label="min similarity", width=110)
        find = pn.widgets.Button(label="Find duplicates", icon=icon("copy"), color="primary")
        find.on_click(lambda e: self.find())
        ask = pn.widgets.Button(label="Delete all extras", icon=icon("trash"), color="danger")
        ask.on_click(lambda e: setattr(self, "confirm", True))
        sure = pn.widgets.Button(label="Yes, move every extra copy to the trash", color="danger")
        sure.on_click(lambda e: self.delete_all())
        cancel = pn.widgets.Button(label="Cancel", color="light")
        cancel.on_click(lambda e: setattr(self, "confirm", False))
        return pn.Column(
            pn.Row(method, distance, threshold, find, ask, styles={"flex-wrap": "wrap"}, sizing_mode="stretch_width"),
            pn.Row(sure, cancel, visible=self.param.confirm),
            pn.pane.Markdown(self.param.message, margin=(0, 10)), self._body, sizing_mode="stretch_width")

    def tiles(self) -> list[Tile]:
        return [Tile(id=p.id, path=p.path, format=p.format) for g in self.groups for p in g.photos]
