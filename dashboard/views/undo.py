"""The undo of a move to the trash: a notice at the bottom of the page, "Moved 12 photos to the
trash · Undo", as photo apps show it; Undo puts them back where they were (same ids, albums,
faces and vectors). Later, the Trash tab restores them too."""
from __future__ import annotations

from typing import Any

import panel as pn
import param

from dashboard.icons import icon
from dashboard.views.common import USER_ERRORS, Context, error_text, literal, markdown_pane
from engine.i18n import Translator, translator
from engine.library.trash import RestoreReport, TrashedPhoto


def restore_sentence(report: RestoreReport, _: Translator = translator("en")) -> str:
    """What a restore did, in one sentence, naming what stayed in the trash and why."""
    text = _.ngettext("Restored {n} photo", "Restored {n} photos", len(report.restored))
    if report.conflicts:
        names = ", ".join(literal(item.original_path) for item, _reason in report.conflicts[:5])
        if len(report.conflicts) > 5:
            names = _("{names} and {n} more", names=names, n=len(report.conflicts) - 5)
        reasons = "; ".join(literal(_(r)) for r in sorted({reason for _item, reason in report.conflicts}))
        text += "; " + _.ngettext("{n} photo stayed in the trash ({names}): {reasons}",
                                  "{n} photos stayed in the trash ({names}): {reasons}", len(report.conflicts),
                                  names=names, reasons=reasons)
    return text


def restore(ctx: Context, items: list[TrashedPhoto]) -> tuple[RestoreReport | None, str]:
    """Restore what can go back; the report (None on failure) and the sentence to show."""
    try:
        report = ctx.engine.library.trash.restore_what_can(items)
    except USER_ERRORS as exc:
        return None, f"⚠ {error_text(exc, ctx._)}"
    if report.restored:
        ctx.emit("photos-restored", [t.photo_id for t in report.restored])
    return report, restore_sentence(report, ctx._)


class UndoTrash(pn.viewable.Viewer):
    items = param.List(default=[], item_type=TrashedPhoto, doc="What the last move sent to the trash.")
    text = param.String(default="", doc="What happened, shown with the Undo button.")

    def __init__(self, ctx: Context, **params: Any) -> None:
        super().__init__(**params)
        self.ctx = ctx

    def remember(self, items: list[TrashedPhoto], text: str) -> None:
        self.param.update(items=list(items), text=text)

    def dismiss(self) -> None:
        self.param.update(items=[], text="")

    def undo(self) -> RestoreReport | None:
        if not self.items:
            return None
        report, sentence = restore(self.ctx, list(self.items))
        self.param.update(items=[], text=sentence)
        return report

    def __panel__(self) -> pn.viewable.Viewable:
        _ = self.ctx._
        undo = pn.widgets.Button(label=_("Undo"), icon=icon("restore"), color="light", visible=self.param.items.rx.bool(),
                                 margin=(4, 6))
        undo.on_click(lambda e: self.undo())
        close = pn.widgets.Button(label="✕", description=_("Dismiss"), color="light", width=44, margin=(4, 6))
        close.on_click(lambda e: self.dismiss())
        return pn.Row(markdown_pane(self.param.text, margin=(8, 10)), undo, close,
                      visible=self.param.text.rx.bool(), css_classes=["snackbar"], stylesheets=[SNACKBAR_CSS])


SNACKBAR_CSS = """
:host {position: fixed !important; left: 50%; transform: translateX(-50%); bottom: 16px; z-index: 950;
       background: #323232; color: #fff; border-radius: 8px; box-shadow: 0 4px 16px rgba(0,0,0,.35);
       max-width: calc(100vw - 24px); flex-wrap: wrap; align-items: center;}
:host .bk-btn {min-height: 40px;}
"""
