"""Duplicates review: each group side by side (format, resolution, size, date, folder), why its
photos were grouped, the copy to keep marked and changeable, and "keep this, move the others to
the trash" per group. Moving more than one photo is asked first with the count; every move can be
undone at once (the notice at the bottom) or later from the Trash tab.
"""
from __future__ import annotations

import html
from pathlib import PurePosixPath
from typing import Any

import panel as pn
import param

from dashboard.icons import icon
from dashboard.views.common import (USER_ERRORS, Context, Tile, day_text, error_text, html_pane, human_bytes, literal,
                                    markdown_pane)
from dashboard.views.undo import UndoTrash
from engine.i18n import N_, Translator, translator
from engine.library.duplicates import DuplicateGroup
from engine.library.matching import PhotoFacts as DuplicatePhoto

PAGE = 20
METHOD_TITLES = {"all": N_("all"), "phash": N_("phash"), "clip": N_("clip")}
"""The method buttons' words (the values stay the engine's names)."""
RULE_WORDS = (N_("identical"), N_("phash+pixels"), N_("crop"), N_("flat"), N_("embedding"))
"""The engine's names of the rules that matched a group (`DuplicatePair.rule`), shown translated."""


def needs_review(group: DuplicateGroup) -> bool:
    """A group the engine flags for a person to look at (large, or doubtful): it is never offered
    for deletion in one click."""
    return group.needs_review


def megapixels(p: DuplicatePhoto, _: Translator = translator("en")) -> str:
    return f"{p.pixels / 1e6:.1f} MP" if p.pixels else _("size unknown")


def keep_reason(group: DuplicateGroup, keep: DuplicatePhoto, _: Translator = translator("en")) -> str:
    """Why this copy is the one kept: the engine's reasons, or the user's choice."""
    if keep.id != group.keep_id:
        return _("your choice")
    return "; ".join(_(r) for r in group.keeper_reasons) or _("the best copy")


def copy_reason(group: DuplicateGroup, photo_id: int, _: Translator = translator("en")) -> str | None:
    """What a copy is relative to the group's anchor ("rotated 90°, re-saved as PNG") and what matched."""
    pair = next((p for p in group.pairs if p.a == group.anchor_id and p.b == photo_id), None)
    if pair is None:
        return None
    signals = ", ".join(f"{_(s.name)} {_(str(s.value))} {_(s.unit)}".strip() for s in pair.signals if s.matched)
    return _(pair.transform) + (f" · {signals}" if signals else "")


class DuplicatesView(pn.viewable.Viewer):
    method = param.Selector(default="all", objects=["all", "phash", "clip"],
                            doc=N_("The pictures and image embeddings, the pictures only, or embeddings only."))
    max_distance = param.Integer(default=56, bounds=(0, 80), doc=N_("pHash: most differing bits of 256 (calibrated 56)."))
    threshold = param.Number(default=0.95, bounds=(0.5, 1.0), step=0.01, doc=N_("Embedding: least cosine similarity."))
    groups = param.List(default=[], item_type=DuplicateGroup)
    total_groups = param.Integer(default=0)
    keepers = param.Dict(default={}, doc="Group index -> the photo the user chose to keep instead.")
    confirm_group = param.Integer(default=None, allow_None=True, doc="The group whose deletion is being asked.")
    confirm_all = param.Boolean(default=False)
    message = param.String(default="")

    def __init__(self, ctx: Context, **params: Any) -> None:
        super().__init__(**params)
        self.ctx = ctx
        self.engine = ctx.engine
        self.opener = None
        self.undo = UndoTrash(ctx)
        self._body = pn.Column(sizing_mode="stretch_width")
        self._all_plan: list[int] = []
        self._all_text = ""

    def _params(self) -> dict[str, Any]:
        return {"max_distance": self.max_distance, "threshold": self.threshold}

    # --- reading ---------------------------------------------------------------------------------
    def find(self) -> None:
        try:
            report = self.engine.library.duplicates(self.method, limit=PAGE, **self._params())
        except USER_ERRORS as exc:
            self.param.update(groups=[], total_groups=0, keepers={}, message=f"⚠ {error_text(exc, self.ctx._)}")
        else:
            self.param.update(groups=report.groups, total_groups=report.total_groups, keepers={}, confirm_all=False,
                              confirm_group=None)
            self.message = self._summary(report.total_groups, len(report.groups)) + "".join(
                f"\n\n{literal(self.ctx._(n))}" for n in report.notes)
        self._render()

    def _summary(self, total: int, shown: int) -> str:
        _ = self.ctx._
        if not total:
            return (_("No duplicates found — has the pHash stage run? (Admin → pHash)") if self.method == "phash"
                    else _("No duplicates found"))
        extras = sum(len(self.others(i)) for i in range(len(self.groups)) if self.deletable(i))
        reviews = sum(needs_review(g) for g in self.groups)
        text = (_.ngettext("{n} group", "{n} groups", total) + (" · " + _("{n} to review", n=reviews) if reviews else "")
                + (" · " + _("showing {n}", n=shown) if total > shown else ""))
        return text + " · " + _.ngettext("{n} extra copy shown", "{n} extra copies shown", extras)

    def keep(self, index: int) -> DuplicatePhoto:
        group = self.groups[index]
        chosen = self.keepers.get(index)
        return next((p for p in group.photos if p.id == chosen), group.keep)

    def others(self, index: int) -> list[DuplicatePhoto]:
        keep = self.keep(index)
        return [p for p in self.groups[index].photos if p.id != keep.id]

    def deletable(self, index: int) -> bool:
        return bool(self.others(index)) and not needs_review(self.groups[index])

    def reason(self, index: int) -> str:
        """Why the group's photos belong together."""
        rules = sorted({p.rule for p in self.groups[index].pairs})
        _ = self.ctx._
        return _("matched by {rules}", rules=", ".join(_(r) for r in rules)) if rules else _("matched")

    # --- choosing and deleting ------------------------------------------------------------------------
    def choose_keeper(self, index: int, photo_id: int) -> None:
        self.keepers = {**self.keepers, index: photo_id}
        self.confirm_group = None
        self._render()

    def ask_delete_group(self, index: int) -> None:
        """One extra goes at once (undoable); more are asked first."""
        if not self.deletable(index):
            return
        if len(self.others(index)) == 1:
            self.delete_group(index)
        else:
            self.param.update(confirm_group=index, confirm_all=False)
            self._render()

    def delete_group(self, index: int) -> int:
        if not self.deletable(index):
            if needs_review(self.groups[index]):
                self.message = self.ctx._("This group is flagged for review: open the photos and move them by hand")
            return 0
        ids = [p.id for p in self.others(index)]
        moved = self._trash(ids, self.ctx._("Kept {name}", name=literal(PurePosixPath(self.keep(index).path).name)))
        if moved:
            groups = [g for i, g in enumerate(self.groups) if i != index]
            keepers = {(i if i < index else i - 1): v for i, v in self.keepers.items() if i != index}
            self.param.update(groups=groups, keepers=keepers, total_groups=max(0, self.total_groups - 1),
                              confirm_group=None)
            self.message = self._summary(self.total_groups, len(self.groups))
            self._render()
        return moved

    def plan_all(self) -> tuple[list[int], int, int]:
        """Every group's extras (shown groups keep the copy chosen here); groups flagged for
        review are left alone. (ids, groups, groups left for review)."""
        report = self.engine.library.duplicates(self.method, **self._params())
        chosen = {self.groups[i].keep.id: pid for i, pid in self.keepers.items() if i < len(self.groups)}
        ids, groups, review = [], 0, 0
        for g in report.groups:
            if needs_review(g):
                review += 1
                continue
            keep = chosen.get(g.keep.id, g.keep.id)
            extras = [p.id for p in g.photos if p.id != keep]
            if extras:
                ids += extras
                groups += 1
        return ids, groups, review

    def ask_delete_all(self) -> None:
        try:
            ids, groups, review = self.plan_all()
        except USER_ERRORS as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return
        _ = self.ctx._
        self._all_plan = ids
        self._all_text = (_.ngettext("Move **{n} extra copy** from {groups} to the trash?",
                                     "Move **{n} extra copies** from {groups} to the trash?", len(ids),
                                     groups=_.ngettext("{n} group", "{n} groups", groups))
                          + (" " + _.ngettext("{n} group flagged for review stays as it is.",
                                              "{n} groups flagged for review stay as they are.", review)
                             if review else "")
                          + " " + _("You can undo this, or restore them from the Trash tab."))
        self.param.update(confirm_all=bool(ids), confirm_group=None)
        if not ids:
            self.message = _("Nothing to delete")

    def delete_all(self) -> int:
        ids, self._all_plan = self._all_plan, []
        self.confirm_all = False
        moved = self._trash(ids, self.ctx._("Deleted every extra copy"))
        if moved:
            self.find()
        return moved

    def _trash(self, ids: list[int], what: str) -> int:
        if not ids:
            return 0
        try:
            report = self.engine.library.trash.move_to_trash(ids, reason=f"duplicate ({self.method})")
        except USER_ERRORS as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return 0
        moved = len(report.trashed) + len(report.missing_files)
        self.undo.remember(report.trashed, self.ctx._.ngettext("{what}: moved {n} extra copy to the trash",
                                                               "{what}: moved {n} extra copies to the trash", moved,
                                                               what=what))
        self.ctx.emit("photos-deleted", ids)
        return moved

    # --- widgets ---------------------------------------------------------------------------------------
    def _photo_card(self, index: int, p: DuplicatePhoto, keep: DuplicatePhoto, ids: list[int]) -> pn.viewable.Viewable:
        is_keep, _ = p.id == keep.id, self.ctx._
        badge = "<span>" + html.escape(_("Keep")) + "</span>" if is_keep else ""
        path = PurePosixPath(p.path)
        taken = (day_text(p.taken_at, "d MMM y", _.language) + p.taken_at.strftime(", %H:%M") if p.taken_at
                 else _("no date"))
        folder = path.parent.as_posix() if path.parent.as_posix() != "." else _("library root")
        lines = [f"{p.format.upper()} · {p.width or '?'}×{p.height or '?'} · {megapixels(p, _)}",
                 f"{human_bytes(p.size)} · {taken}", folder]
        why = copy_reason(self.groups[index], p.id, _)
        if why:
            lines.append(why)
        facts = "".join(f"<div>{html.escape(line)}</div>" for line in lines)
        picture = html_pane(
            f'<div class="pic{" keep" if is_keep else ""}"><img loading="lazy" src="{self.ctx.thumb_url(p.id)}" '
            f'alt="{html.escape(path.name)}" title="{html.escape(p.path)}">'
            f'{badge}</div><div class="name">{html.escape(path.name)}</div>'
            f'<div class="facts">{facts}</div>', stylesheets=[CARD_CSS], margin=0, sizing_mode="stretch_width")
        view = pn.widgets.Button(label=_("View"), icon=icon("photo"), color="light", margin=(2, 2))
        view.on_click(lambda e: self.opener(ids, ids.index(p.id)) if self.opener else None)
        choose = pn.widgets.Button(label=_("Kept") if is_keep else _("Keep this"), icon=icon("check"),
                                   color="success" if is_keep else "light", disabled=is_keep, margin=(2, 2))
        choose.on_click(lambda e: self.choose_keeper(index, p.id))
        return pn.Column(picture, pn.Row(choose, view, styles={"flex-wrap": "wrap"}), width=200, margin=(4, 6),
                         css_classes=["dup-photo"] + (["keeper"] if is_keep else []))

    def _group(self, index: int) -> pn.viewable.Viewable:
        group, keep, others = self.groups[index], self.keep(index), self.others(index)
        ids, _ = [p.id for p in group.photos], self.ctx._
        review = needs_review(group)
        head = _("**Group {number}** · {photos}, {reason} · keep **{name}** ({why})", number=index + 1,
                 photos=_.ngettext("{n} photo", "{n} photos", len(group.photos)), reason=self.reason(index),
                 name=literal(PurePosixPath(keep.path).name), why=literal(keep_reason(group, keep, _)))
        if review:
            head += " · " + _("⚑ flagged for review ({reasons}): check them one by one",
                              reasons=literal("; ".join(_(r) for r in group.review)))
        delete = pn.widgets.Button(label=_.ngettext("Keep {name}, move {n} other to the trash",
                                                    "Keep {name}, move {n} others to the trash", len(others),
                                                    name=PurePosixPath(keep.path).name),
                                   icon=icon("trash"), color="danger", variant="outline",
                                   disabled=not self.deletable(index), visible=not review)
        delete.on_click(lambda e: self.ask_delete_group(index))
        parts: list[Any] = [markdown_pane(head, sizing_mode="stretch_width", margin=(4, 10)),
                            pn.Row(*(self._photo_card(index, p, keep, ids) for p in group.photos),
                                   styles={"overflow-x": "auto", "flex-wrap": "nowrap"}, sizing_mode="stretch_width",
                                   css_classes=["side-by-side"]),
                            delete]
        if self.confirm_group == index:
            sure = pn.widgets.Button(label=_.ngettext("Move {n} photo to the trash", "Move {n} photos to the trash",
                                                      len(others)), color="danger")
            sure.on_click(lambda e: self.delete_group(index))
            cancel = pn.widgets.Button(label=_("Cancel"), color="light")
            cancel.on_click(lambda e: (setattr(self, "confirm_group", None), self._render()))
            ask = _.ngettext("Move **{n} photo** to the trash and keep **{name}**?",
                             "Move **{n} photos** to the trash and keep **{name}**?", len(others),
                             name=literal(PurePosixPath(keep.path).name))
            parts.append(pn.Row(markdown_pane(ask, margin=(8, 10)),
                                sure, cancel, styles={"flex-wrap": "wrap"}, css_classes=["confirm"]))
        return pn.Column(*parts, sizing_mode="stretch_width", css_classes=["dup-group"],
                         styles={"border-bottom": "1px solid var(--pi-rule, #ddd)", "padding-bottom": "8px"})

    def _render(self) -> None:
        self._body.objects = [self._group(i) for i in range(len(self.groups))]

    def __panel__(self) -> pn.viewable.Viewable:
        _ = self.ctx._
        method = pn.widgets.RadioButtonGroup.from_param(self.param.method, description=_(self.param.method.doc),
                                                        color="light",
                                                        options={_(METHOD_TITLES[k]): k for k in METHOD_TITLES})
        distance = pn.widgets.IntInput.from_param(self.param.max_distance, description=_(self.param.max_distance.doc),
                                                  label=_("max bits"), width=90)
        threshold = pn.widgets.FloatInput.from_param(self.param.threshold, description=_(self.param.threshold.doc),
                                                     label=_("min similarity"), width=110)
        find = pn.widgets.Button(label=_("Find duplicates"), icon=icon("copy"), color="primary")
        find.on_click(lambda e: self.find())
        ask = pn.widgets.Button(label=_("Delete all extras"), icon=icon("trash"), color="danger",
                                disabled=self.param.groups.rx.bool().rx.not_())
        ask.on_click(lambda e: self.ask_delete_all())
        sure = pn.widgets.Button(label=_("Move them to the trash"), color="danger")
        sure.on_click(lambda e: self.delete_all())
        cancel = pn.widgets.Button(label=_("Cancel"), color="light")
        cancel.on_click(lambda e: setattr(self, "confirm_all", False))
        question = markdown_pane(pn.bind(lambda on: self._all_text if on else "", self.param.confirm_all),
                                    margin=(8, 10))
        return pn.Column(
            pn.Row(method, distance, threshold, find, ask, styles={"flex-wrap": "wrap"}, sizing_mode="stretch_width"),
            pn.Row(question, sure, cancel, visible=self.param.confirm_all, styles={"flex-wrap": "wrap"},
                   css_classes=["confirm"]),
            markdown_pane(self.param.message, margin=(0, 10)), self._body, self.undo, sizing_mode="stretch_width")

    def tiles(self) -> list[Tile]:
        return [Tile(id=p.id, path=p.path, format=p.format) for g in self.groups for p in g.photos]


CARD_CSS = """
.pic {position: relative; width: 100%; aspect-ratio: 1; border-radius: 6px; overflow: hidden;
      background: var(--pi-cell-bg, #e9ecef); outline: 3px solid transparent; outline-offset: -3px;}
.pic.keep {outline-color: #198754;}
.pic img {width: 100%; height: 100%; object-fit: cover; display: block;}
.pic span {position: absolute; left: 6px; top: 6px; background: #198754; color: #fff; font: 600 12px system-ui;
           padding: 2px 7px; border-radius: 4px;}
.name {font: 600 13px system-ui, sans-serif; margin-top: 4px; overflow-wrap: anywhere;}
.facts {font: 12px/1.5 system-ui, sans-serif; color: var(--pi-muted, #6c757d); overflow-wrap: anywhere;}
"""
