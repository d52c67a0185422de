"""The first-run card: search by description needs the image-text model; here is the command.

Everything else (timeline, map, faces, duplicates by hash, albums) works without it, and the card
says so. Its button starts the engine's download job (`PhotoIndex.start_model_download_job`, the
same as `photoindex models download NAME`) and the card follows its progress; offline, the job
fails within seconds and the card says so in one sentence, the command still shown for later.
"""
from __future__ import annotations

import html
import re
from typing import Any

import panel as pn
import param

from dashboard.icons import icon
from dashboard.views.common import USER_ERRORS, Context, error_text, html_pane
from engine.jobs.runner import JobStatus
from engine.models.errors import ModelNotAvailable

_COMMAND = re.compile(r"`([^`]+)`")


def setup_command(problem: str) -> str:
    """The command the engine's sentence names (between backticks), or "" when it names none."""
    found = _COMMAND.findall(problem)
    return found[-1] if found else ""


class ModelCard(pn.viewable.Viewer):
    model = param.String(default="", doc="The image-text model search uses.")
    problem = param.String(default="", doc="Why it cannot be used, as the engine says it; empty when it can.")
    job = param.ClassSelector(class_=JobStatus, default=None, allow_None=True, doc="Its download, when started here.")

    def __init__(self, ctx: Context, **params: Any) -> None:
        super().__init__(**params)
        self.ctx = ctx
        self.engine = ctx.engine

    def check(self) -> bool:
        """Is the model usable? Updates the card either way."""
        name = self.engine.settings.clip_model
        try:
            self.engine.models.get(name)
        except ModelNotAvailable as exc:
            self.param.update(model=name, problem=exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc))
            return False
        self.param.update(model=name, problem="")
        return True

    def download(self) -> JobStatus | None:
        """Start the engine's model download job (then the engine indexes with the model)."""
        try:
            self.job = self.engine.start_model_download_job(self.model)
        except USER_ERRORS as exc:
            self.problem = f"{self.ctx._(self.problem)} ⚠ {error_text(exc, self.ctx._)}"
            return None
        return self.job

    def progress(self) -> None:
        """Called by the page's tick while a download runs."""
        if self.job is not None:
            self.param.trigger("job")
            if not self.job.active:
                self.check()

    def _html(self, problem: str, job: JobStatus | None) -> str:
        if not problem:
            return ""
        _ = self.ctx._
        command = setup_command(problem)
        title = _("Search by description needs the image-text model {model}", model=html.escape(self.model))
        parts = [f"<h4>{title}</h4>",
                 "<p>" + _("The timeline, the map, people, duplicates by hash and albums work without it; "
                           "searching by words or by a picture starts working once it is there.") + "</p>"]
        if command:
            run_this = _("Run this on the machine that runs Photo search:")
            parts.append(f"<p>{run_this}</p><pre><code>{html.escape(command)}</code></pre>")
        details = _("Details")
        parts.append(f'<details><summary>{details}</summary><p class="why">{html.escape(_(problem))}</p></details>')
        if job is not None and job.state == "failed":
            failed = _("The download did not work: {error}", error=html.escape(_(job.error or "")))
            parts.append(f'<p class="failed">{failed}</p>')
        elif job is not None:
            pct = 100 * job.done / job.total if job.total else 0
            state = _("downloaded; indexing starts") if job.state == "done" else _(job.stage or job.state)
            parts.append(f'<div class="bar"><div class="fill" style="width:{pct:.0f}%"></div>'
                         f"<span>{html.escape(state)} · {pct:.0f}%</span></div>")
        return "".join(parts)

    def __panel__(self) -> pn.viewable.Viewable:
        body = html_pane(pn.bind(self._html, self.param.problem, self.param.job), sizing_mode="stretch_width",
                            stylesheets=[CARD_CSS])
        download = pn.widgets.Button(label=self.ctx._("Download the model now"), icon=icon("database"), color="primary",
                                     disabled=pn.bind(lambda job: job is not None and job.active, self.param.job))
        download.on_click(lambda e: self.download())
        return pn.Column(body, download, visible=self.param.problem.rx.bool(), css_classes=["model-card"],
                         sizing_mode="stretch_width", styles={"border": "1px solid var(--pi-rule, #ced4da)",
                                                              "border-radius": "8px", "padding": "4px 10px"},
                         margin=(6, 10))


CARD_CSS = """
h4 {margin: 6px 0; font: 600 17px system-ui, sans-serif;}
p {margin: 4px 0; font: 14px system-ui, sans-serif;}
pre {background: var(--pi-cell-bg, #f1f3f5); padding: 8px 10px; border-radius: 6px; white-space: pre-wrap;
     overflow-wrap: anywhere; font-size: 13px; user-select: all;}
details {font: 13px system-ui, sans-serif; color: var(--pi-muted, #6c757d);}
.why {overflow-wrap: anywhere;}
.bar {position: relative; height: 22px; background: #e9ecef; border-radius: 5px; overflow: hidden; margin: 6px 0;}
.bar .fill {position: absolute; left: 0; top: 0; bottom: 0; background: #0d6efd;}
.bar span {position: relative; font: 12px/22px system-ui; padding-left: 8px; color: #111;}
.failed {color: #dc3545; overflow-wrap: anywhere;}
"""
