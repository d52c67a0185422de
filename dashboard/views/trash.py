"""Trash: what was deleted, from which folder and when; restore one, some or all; delete for good.

Trashed photos keep their faces, albums and vectors (see `engine.library.trash`), so a restore
needs no indexing. A photo whose old path is taken again stays in the trash, and the page says
which and why. Emptying the trash, or deleting some for good, is asked first with the count.
"""
from __future__ import annotations

from datetime import date
from pathlib import PurePosixPath
from typing import Any

import panel as pn
import param

from dashboard.components import PhotoGrid
from dashboard.icons import icon
from dashboard.views.common import USER_ERRORS, Context, day_text, error_text, grid_labels, human_bytes, markdown_pane
from dashboard.views.undo import restore
from engine.i18n import Translator, translator
from engine.library.trash import TrashedPhoto

PAGE = 500


def folder_of(path: str, _: Translator = translator("en")) -> str:
    parent = PurePosixPath(path).parent.as_posix()
    return _("library root") if parent in ("", ".") else parent


def trashed_day(item: TrashedPhoto, today: date | None = None, _: Translator = translator("en")) -> str:
    if item.deleted_at is None:
        return _("Trashed earlier")
    day, today = item.deleted_at.date(), today or date.today()
    if day == today:
        return _("Trashed today")
    return _("Trashed {day}", day=day_text(day, "d MMMM y", _.language))


class TrashView(pn.viewable.Viewer):
    items = param.List(default=[], item_type=TrashedPhoto, doc="Newest trashed first.")
    total = param.Integer(default=0)
    selected = param.List(default=[], doc="Trash ids ticked.")
    confirm = param.Selector(default=None, objects=[None, "empty", "purge"], allow_None=True,
                             doc="The question showing: empty the whole trash, or delete the ticked for good.")
    message = param.String(default="")

    def __init__(self, ctx: Context, **params: Any) -> None:
        super().__init__(**params)
        self.ctx = ctx
        self.engine = ctx.engine
        self.grid = PhotoGrid(grouped=True, select_mode=True, keyboard=True, cell_size=150, labels=grid_labels(ctx._),
                              empty_text=ctx._("The trash is empty. Photos deleted anywhere in Photo search wait here "
                                               "until you restore them or empty the trash."))
        self.grid.param.watch(lambda e: setattr(self, "selected", list(e.new)), "selected")
        self.grid.on("select", lambda ids: self.select(ids))
        self.grid.on("escape", self.escape)
        self.grid.on("delete", lambda ids: self.ask("purge") if ids or self.selected else None)

    # --- reading ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        try:
            items, total = self.engine.library.trash.list(PAGE, 0)
        except USER_ERRORS as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return
        ids = {t.trash_id for t in items}
        self.param.update(items=items, total=total, selected=[i for i in self.selected if i in ids])
        self._sync()

    def _sync(self) -> None:
        today, _ = date.today(), self.ctx._
        self.grid.param.update(items=[{
            "id": t.trash_id, "src": f"/ui/trash/{t.trash_id}/thumb", "badge": folder_of(t.original_path, _),
            "title": f"{t.original_path} · {trashed_day(t, today, _).lower()}" + (f" · {_(t.reason)}" if t.reason else ""),
            "month": trashed_day(t, today, _)} for t in self.items], selected=list(self.selected))

    def summary(self) -> str:
        _ = self.ctx._
        if not self.total:
            return _("Nothing in the trash")
        size = sum(t.size for t in self.items)
        more = " " + _("(the newest {n} shown)", n=len(self.items)) if self.total > len(self.items) else ""
        return _.ngettext("**{n} photo** in the trash", "**{n} photos** in the trash", self.total) + \
            f" · {human_bytes(size)}{more}"

    # --- choosing ---------------------------------------------------------------------------------
    def select(self, ids: list[int]) -> None:
        self.selected = list(dict.fromkeys([*self.selected, *ids]))
        self.grid.selected = list(self.selected)

    def select_all(self) -> None:
        self.select([t.trash_id for t in self.items])

    def select_none(self) -> None:
        self.param.update(selected=[], confirm=None)
        self.grid.selected = []

    def escape(self) -> None:
        if self.confirm is not None:
            self.confirm = None
        else:
            self.select_none()

    def ask(self, what: str) -> None:
        if what == "purge" and not self.selected:
            self.message = self.ctx._("Tick the photos to delete for good first")
            return
        self.confirm = what if self.total else None

    # --- doing ------------------------------------------------------------------------------------
    def _chosen(self, ids: list[int] | None) -> list[TrashedPhoto]:
        wanted = set(self.selected if ids is None else ids)
        return [t for t in self.items if t.trash_id in wanted]

    def restore(self, ids: list[int] | None = None) -> int:
        """Put the ticked (or `ids`) back where they were; what could not go back is named."""
        items = self._chosen(ids)
        if not items:
            self.message = self.ctx._("Tick the photos to restore first")
            return 0
        report, self.message = restore(self.ctx, items)
        self.refresh()
        return len(report.restored) if report else 0

    def restore_all(self) -> int:
        try:
            everything, _ = self.engine.library.trash.list(max(self.total, 1), 0)
        except USER_ERRORS as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return 0
        report, self.message = restore(self.ctx, everything)
        self.refresh()
        return len(report.restored) if report else 0

    def purge(self) -> int:
        """Delete for good: the whole trash after "empty", the ticked after "purge" (asked first)."""
        what, self.confirm = self.confirm, None
        if what is None:
            return 0
        try:
            removed = self.engine.library.trash.purge(None if what == "empty" else list(self.selected))
        except USER_ERRORS as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return 0
        self.message = self.ctx._.ngettext("Deleted {n} photo for good", "Deleted {n} photos for good", removed)
        self.selected = []
        self.refresh()
        return removed

    # --- widgets ----------------------------------------------------------------------------------
    def __panel__(self) -> pn.viewable.Viewable:
        self.refresh()
        _ = self.ctx._

        def button(label: str, name: str, action: Any, **kw: Any) -> pn.widgets.Button:
            b = pn.widgets.Button(label=label, icon=icon(name), margin=(5, 4), **kw)
            b.on_click(lambda e: action())
            return b

        has_items = self.param.total.rx() > 0
        picked = self.param.selected.rx.bool()
        restore_some = button(_("Restore selected"), "restore", self.restore, color="primary",
                              disabled=picked.rx.not_())
        restore_all = button(_("Restore all"), "restore", self.restore_all, color="light", disabled=has_items.rx.not_())
        purge = button(_("Delete selected for good"), "trash", lambda: self.ask("purge"), color="danger",
                       variant="outline", disabled=picked.rx.not_())
        empty = button(_("Empty trash"), "trash", lambda: self.ask("empty"), color="danger",
                       disabled=has_items.rx.not_())
        tools = pn.Row(button(_("All"), "checkbox", self.select_all, color="light"),
                       button(_("None"), "minus", self.select_none, color="light"),
                       restore_some, restore_all, purge, empty, styles={"flex-wrap": "wrap"},
                       sizing_mode="stretch_width")
        sure = button(_("Delete for good"), "check", self.purge, color="danger")
        cancel = button(_("Cancel"), "x", lambda: setattr(self, "confirm", None), color="light")

        def question(what: str | None, selected: list[int], total: int) -> str:
            n = total if what == "empty" else len(selected)
            return _.ngettext("Delete **{n} photo** for good? This cannot be undone.",
                              "Delete **{n} photos** for good? This cannot be undone.", n) if what else ""

        asking = pn.Row(markdown_pane(pn.bind(question, self.param.confirm, self.param.selected, self.param.total),
                                         margin=(8, 10)), sure, cancel, visible=self.param.confirm.rx.is_not(None),
                        styles={"flex-wrap": "wrap"}, css_classes=["confirm"])
        summary = markdown_pane(pn.bind(lambda _i, _t: self.summary(), self.param.items, self.param.total),
                                   margin=(8, 10))
        return pn.Column(summary, tools, asking, markdown_pane(self.param.message, margin=(0, 10)), self.grid,
                         sizing_mode="stretch_width")
