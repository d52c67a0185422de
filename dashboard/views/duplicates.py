"""Duplicates: groups with sizes and formats, the copy kept marked with the reasons, each copy with
what it is ("rotated 90°", "cropped to 86 % × 90 %") and the signals that matched; extras to the
trash, except for groups flagged for review (never offered for deletion)."""
from __future__ import annotations

from typing import Any

import panel as pn
import param

from dashboard.components import PhotoGrid
from dashboard.icons import icon
from dashboard.views.common import Context, Tile, count, error_text, human_bytes, literal, markdown_pane
from engine.errors import PhotoIndexError
from engine.library.duplicates import DuplicateGroup

PAGE = 20


class DuplicatesView(pn.viewable.Viewer):
    method = param.Selector(default="all", objects=["all", "phash", "clip"],
                            doc="The pictures and image embeddings, the pictures only, or embeddings only.")
    max_distance = param.Integer(default=56, bounds=(0, 80), doc="pHash: most differing bits of 256 (calibrated 56).")
    threshold = param.Number(default=0.95, bounds=(0.5, 1.0), step=0.01, doc="Embedding: least cosine similarity.")
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
        except PhotoIndexError as exc:
            self.param.update(groups=[], total_groups=0, message=f"⚠ {error_text(exc)}")
        else:
            extras = sum(len(g.extras) for g in report.groups if not g.needs_review)
            review = f" · {report.review_groups} to review" if report.review_groups else ""
            notes = "".join(f"\n\n{literal(n)}" for n in report.notes)
            self.param.update(groups=report.groups, total_groups=report.total_groups, confirm=False,
                              message=(f"{count(report.total_groups, 'group')}{review}" + (
                                  f" · showing {len(report.groups)}" if report.total_groups > len(report.groups) else "")
                                  + f" · {count(extras, 'extra copy')} shown" if report.total_groups
                                  else "No duplicates found") + notes)
        self._render()

    def delete_group(self, index: int) -> int:
        group = self.groups[index]
        if group.needs_review:
            self.message = "This group is flagged for review: open the photos and delete by hand"
            return 0
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
            why = {pair.b: pair for pair in g.pairs if pair.a == g.anchor_id}
            grid = PhotoGrid(cell_size=140, items=[{
                "id": p.id, "src": self.ctx.thumb_url(p.id),
                "title": p.path + (f" — {why[p.id].transform}" if p.id in why else ""),
                "badge": f"{p.format.upper()} · {p.width or '?'}×{p.height or '?'} · {human_bytes(p.size)}",
                "tag": "keep" if p.id == g.keep_id else ""} for p in g.photos])
            ids = [p.id for p in g.photos]
            grid.on_open(lambda pid, ids=ids: self.opener(ids, ids.index(pid)) if self.opener else None)
            head = [markdown_pane(f"**Group {i + 1}** · keep **{literal(g.keep.path)}** "
                                     f"({literal('; '.join(g.keeper_reasons))})", sizing_mode="stretch_width")]
            if g.needs_review:
                head.append(markdown_pane(f"⚠ Review: {literal('; '.join(g.review))}", margin=(0, 10)))
            else:
                button = pn.widgets.Button(label=f"Delete {count(len(g.extras), 'extra')}", icon=icon("trash"),
                                           color="danger", variant="outline")
                button.on_click(lambda e, i=i: self.delete_group(i))
                head.append(button)
            names = {p.id: p.path for p in g.photos}
            reasons = "\n".join(f"- {literal(names[pair.b])}: {literal(pair.transform)} · "
                                 + literal(", ".join(f"{s.name} {s.value} {s.unit}".strip() for s in pair.signals if s.matched))
                                 for pair in g.pairs if pair.a == g.anchor_id)
            rows.append(pn.Column(pn.Row(*head, sizing_mode="stretch_width"), grid,
                                  markdown_pane(reasons, margin=(0, 10), styles={"font-size": "0.85em"}),
                                  sizing_mode="stretch_width", styles={"border-bottom": "1px solid #ddd"}))
        self._body.objects = rows

    def __panel__(self) -> pn.viewable.Viewable:
        method = pn.widgets.RadioButtonGroup.from_param(self.param.method, color="light")
        distance = pn.widgets.IntInput.from_param(self.param.max_distance, label="max pHash bits", width=110)
        threshold = pn.widgets.FloatInput.from_param(self.param.threshold, label="min similarity", width=110)
        find = pn.widgets.Button(label="Find duplicates", icon=icon("copy"), color="primary")
        find.on_click(lambda e: self.find())
        ask = pn.widgets.Button(label="Delete all extras", icon=icon("trash"), color="danger",
                                description="Groups flagged for review are left alone")
        ask.on_click(lambda e: setattr(self, "confirm", True))
        sure = pn.widgets.Button(label="Yes, move every extra copy to the trash", color="danger")
        sure.on_click(lambda e: self.delete_all())
        cancel = pn.widgets.Button(label="Cancel", color="light")
        cancel.on_click(lambda e: setattr(self, "confirm", False))
        return pn.Column(
            pn.Row(method, distance, threshold, find, ask, styles={"flex-wrap": "wrap"}, sizing_mode="stretch_width"),
            pn.Row(sure, cancel, visible=self.param.confirm),
            markdown_pane(self.param.message, margin=(0, 10)), self._body, sizing_mode="stretch_width")

    def tiles(self) -> list[Tile]:
        return [Tile(id=p.id, path=p.path, format=p.format) for g in self.groups for p in g.photos]
