"""Admin: the Index-All queue with live progress and ETA, GPU, models, failed files, cache, stats."""
from __future__ import annotations

import html
from dataclasses import asdict
from typing import Any

import panel as pn
import param

from dashboard.icons import icon
from dashboard.views.common import (Context, error_text, html_pane, human_bytes, human_seconds, literal,
                                    markdown_pane)
from engine.admin.gpu import gpu_stats
from engine.errors import PhotoIndexError
from engine.i18n import N_, Translator, translator
from engine.jobs.runner import JobStatus

STAGES = ["phash", "faces"]


JOB_NAMES = {"phash": N_("pHash (duplicates)"), "faces": N_("Faces"), "cache-warm": N_("Thumbnails")}
JOB_WORDS = (N_("queued"), N_("running"), N_("done"), N_("failed"), N_("cancelled"), N_("metadata only"),
             N_("scanning"), N_("indexing"), N_("faces"), N_("phash"), N_("comparing"),
             N_("grouping faces"))
"""A job's states and the engine's stage names, as Admin shows them (`_(word)`)."""


def job_title(kind: str, _: Translator = translator("en")) -> str:
    """What a job is, in words ("index:SigLIP" is "Image-text index · SigLIP")."""
    if kind.startswith("index:"):
        return _("Image-text index · {model}", model=kind.split(":", 1)[1])
    if kind.startswith("download:"):
        return _("Download · {model}", model=kind.split(":", 1)[1])
    return _(JOB_NAMES[kind]) if kind in JOB_NAMES else kind.replace("-", " ").capitalize()


def metadata_only(s: JobStatus) -> bool:
    """An image-text job that finished without its model: the files were scanned and their
    metadata read, but no vectors were written (search by description still cannot run)."""
    return s.kind.startswith("index:") and s.state == "done" and not (s.result or {}).get("models", ["?"])


def job_row(s: JobStatus, _: Translator = translator("en")) -> dict[str, Any]:
    """A job as Admin shows it: `state` and `stage` stay the engine's words (`jobs_html` translates them)."""
    fraction = (s.done / s.total) if s.total else (1.0 if s.state == "done" else 0.0)
    state = "metadata only" if metadata_only(s) else s.state
    warnings = (s.result or {}).get("warnings") or []
    return {"id": s.id, "kind": s.kind, "title": job_title(s.kind, _), "state": state, "stage": s.stage,
            "done": s.done, "total": s.total, "failed": s.failed, "percent": round(100 * fraction, 1), "rate": s.rate,
            "eta": s.eta_seconds, "current": s.current, "error": s.error,
            "note": _("no vectors written: the model is missing (see Models)") if state == "metadata only" and warnings
            else ""}


def bar(percent: float, color: str = "#0d6efd", label: str = "") -> str:
    pct = max(0.0, min(100.0, percent))
    return (f'<div class="bar"><div class="fill" style="width:{pct:.1f}%;background:{color}"></div>'
            f'<span>{html.escape(label)}</span></div>')


def fill_color(percent: float) -> str:
    return "#198754" if percent < 60 else "#fd7e14" if percent < 85 else "#dc3545"


def jobs_html(rows: list[dict[str, Any]], _: Translator = translator("en")) -> str:
    if not rows:
        return '<div class="muted">' + _("No jobs yet. Index-All queues image-text indexing, faces and pHash.") + "</div>"
    out = []
    for r in reversed(rows):
        color = {"done": "#198754", "failed": "#dc3545", "cancelled": "#6c757d",
                 "metadata only": "#adb5bd"}.get(r["state"], "#0d6efd")
        label = f"{r['done']}/{r['total']} · {r['percent']:.0f}%"
        detail = _(r["state"]) if r["stage"] in ("", r["state"], "done") else f"{_(r['state'])} · {_(r['stage'])}"
        if r.get("note"):
            detail += f" · {r['note']}"
        if r["state"] == "running":
            detail += f" · {r['rate']:.1f}/s · " + _("ETA {time}", time=human_seconds(r["eta"]))
        if r["failed"]:
            detail += " · " + _("{n} failed", n=r["failed"])
        if r["error"]:
            detail += f" · {_(r['error'])}"
        out.append(f'<div class="job" data-state="{html.escape(r["state"])}"><div class="head">'
                   f'<b>{html.escape(r.get("title") or job_title(r["kind"], _))}</b>'
                   f'<span>{html.escape(detail)}</span></div>{bar(r["percent"], color, label)}</div>')
    return "".join(out)


def gpu_html(stats: dict[str, Any], models: list[dict[str, Any]], _: Translator = translator("en")) -> str:
    loaded = [m for m in models if m.get("loaded")]
    per_model = "".join(f"<li>{html.escape(m['name'])} · {human_bytes(m.get('memory_bytes'))} · {m.get('device')}</li>"
                        for m in loaded) or "<li class='muted'>" + _("no model loaded") + "</li>"
    in_memory = "<div>" + _("Models in memory:") + "</div>"
    if not stats.get("available"):
        return (f'<div class="muted">{html.escape(_(stats.get("reason") or "no GPU"))}</div>'
                f"{in_memory}<ul>{per_model}</ul>")
    parts = []
    for d in stats["devices"]:
        used, total = d["memory_used_bytes"], d["memory_total_bytes"] or 1
        pct = 100 * used / total
        util = d.get("utilization_percent")
        utilisation = _("utilisation {percent}%", percent=util if util is not None else "—")
        parts.append(
            f"<div><b>GPU {d['index']}: {html.escape(d['name'])}</b> · {d.get('temperature_c') or '—'} °C · "
            f"{utilisation}</div>"
            + bar(pct, fill_color(pct), f"VRAM {human_bytes(used)} / {human_bytes(total)} ({pct:.0f}%)")
            + (bar(util, "#6f42c1", f"GPU {util}%") if util is not None else ""))
    return "".join(parts) + f"{in_memory}<ul>{per_model}</ul>"


ADMIN_CSS = """
.bar {position: relative; height: 22px; background: #e9ecef; border-radius: 5px; overflow: hidden; margin: 4px 0 10px;}
.bar .fill {position: absolute; left: 0; top: 0; bottom: 0; transition: width .4s;}
.bar span {position: relative; font: 12px/22px system-ui, sans-serif; padding-left: 8px; color: #111;}
.job .head {display: flex; justify-content: space-between; gap: 8px; font: 13px system-ui, sans-serif; flex-wrap: wrap;}
.muted {color: #6c757d;}
.scroll {overflow-x: auto; max-width: 100%;}
table {border-collapse: collapse; font: 13px system-ui, sans-serif; width: 100%;}
td, th {border-bottom: 1px solid var(--pi-rule, #dee2e6); padding: 3px 6px; text-align: left; vertical-align: top;
        overflow-wrap: normal; word-break: normal; white-space: nowrap;}
td.path, td.why {white-space: normal; overflow-wrap: anywhere; min-width: 9em;}
.metadata-only {color: #b35c00;}
"""
"""Table cells never break inside a word; only file paths and reasons wrap, at their separators if
they must; a table wider than a phone scrolls sideways."""


class AdminView(pn.viewable.Viewer):
    jobs = param.List(default=[], doc="Every job the runner remembers, as dicts.")
    running = param.Boolean(default=False)
    gpu = param.Dict(default={})
    models = param.List(default=[])
    failed = param.List(default=[])
    failed_total = param.Integer(default=0)
    offline = param.List(default=[], doc="Photos whose file is gone (the first 50).")
    offline_total = param.Integer(default=0)
    confirm_remove_offline = param.Boolean(default=False, doc="The removal question is showing.")
    cache = param.Dict(default={})
    stats = param.Dict(default={})
    message = param.String(default="")
    all_models = param.Boolean(default=False, doc=N_("Index-All with every available model."))

    def __init__(self, ctx: Context, **params: Any) -> None:
        super().__init__(**params)
        self.ctx = ctx
        self.engine = ctx.engine

    # --- reading ------------------------------------------------------------------------------
    def refresh_jobs(self) -> None:
        self.param.update(jobs=[job_row(s, self.ctx._) for s in self.engine.jobs.all()],
                          running=self.engine.queue.status().running)

    def refresh(self) -> None:
        """Everything, once (the page refreshes jobs every second and the rest on demand)."""
        self.refresh_jobs()
        self.models = self._model_rows()
        self.gpu = gpu_stats()
        self.failed = [{"id": p.id, "path": p.path, "reason": p.fail_reason or ""}
                       for p in self.engine.failed_files(limit=200)]
        self.offline, self.offline_total = self.engine.library.offline.list(limit=50)
        stats = asdict(self.engine.stats())
        self.failed_total = max(stats["failed_count"], len(self.failed))
        stats["faces"] = asdict(self.engine.faces.stats())
        self.stats = stats
        self.cache = self.engine.thumbnails.stats()

    # --- actions ------------------------------------------------------------------------------
    def index_all(self, stages: list[str] | None = None) -> list[dict[str, Any]]:
        if self.all_models:
            names = [m.name for m in self.engine.models.status() if m.available]
        else:
            names = [self.engine.settings.clip_model]
        try:
            for name in names:
                self.engine.models.get(name)
            queued, skipped = self.engine.queue.index_all(names, stages)
        except PhotoIndexError as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
            return []
        _ = self.ctx._
        self.message = _.ngettext("Queued {n} job", "Queued {n} jobs", len(queued)) + "".join(
            " · " + _("{stage} skipped: {why}", stage=_(k), why=_(v)) for k, v in skipped.items())
        self.refresh_jobs()
        return [job_row(s, _) for s in queued]

    def index_model(self, name: str) -> None:
        try:
            self.engine.models.get(name)
            self.engine.start_index_job(name)
            self.message = self.ctx._("Indexing with {model} queued", model=name)
        except PhotoIndexError as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
        self.refresh_jobs()

    def index_faces(self) -> None:
        try:
            self.engine.faces.start_index_job(self.engine.jobs)
            self.message = self.ctx._("Face indexing queued")
        except PhotoIndexError as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
        self.refresh_jobs()

    def index_phash(self) -> None:
        self.engine.library.start_phash_job(self.engine.jobs)
        self.message = self.ctx._("pHash indexing queued")
        self.refresh_jobs()

    def cancel_all(self) -> None:
        ids = self.engine.queue.cancel()
        self.message = (self.ctx._.ngettext("Cancelled {n} job", "Cancelled {n} jobs", len(ids)) if ids
                        else self.ctx._("Nothing to cancel"))
        self.refresh_jobs()

    def warm(self, name: str) -> None:
        try:
            self.engine.models.warm(name)
            self.message = self.ctx._("{model} loaded", model=name)
        except PhotoIndexError as exc:
            self.message = f"⚠ {error_text(exc, self.ctx._)}"
        self.models = self._model_rows()

    def unload(self, name: str) -> None:
        self.engine.models.unload(name)
        self.message = self.ctx._("{model} unloaded", model=name)
        self.models = self._model_rows()

    def _model_rows(self) -> list[dict[str, Any]]:
        return [asdict(m) for m in self.engine.models.status()]

    def reset_failed(self) -> int:
        n = self.engine.reset_failed()
        self.message = self.ctx._.ngettext("{n} file will be retried by the next indexing run",
                                           "{n} files will be retried by the next indexing run", n)
        self.refresh()
        return n

    def remove_offline(self) -> int:
        """Remove every offline photo from the index (after `confirm_remove_offline`)."""
        removed = self.engine.library.offline.remove()
        self.message = self.ctx._.ngettext("Removed {n} offline photo from the index",
                                           "Removed {n} offline photos from the index", len(removed))
        self.confirm_remove_offline = False
        self.refresh()
        return len(removed)

    def warm_cache(self) -> None:
        self.engine.library.start_warm_job(self.engine.jobs)
        self.message = self.ctx._("Thumbnail warming queued")
        self.refresh_jobs()

    def clear_cache(self) -> None:
        removed = self.engine.thumbnails.clear()
        self.message = self.ctx._.ngettext("Removed {n} cached file", "Removed {n} cached files", removed)
        self.cache = self.engine.thumbnails.stats()

    # --- widgets ------------------------------------------------------------------------------
    def index_state(self, name: str) -> str:
        """ "indexed · 290 photos", or "metadata only" while a model has written no vectors."""
        vectors = int(self.stats.get("embeddings", {}).get(name, 0) or 0)
        photos, _ = int(self.stats.get("total_photos", 0) or 0), self.ctx._
        if vectors:
            return _.ngettext("indexed · {vectors} of {n} photo", "indexed · {vectors} of {n} photos", photos,
                              vectors=vectors)
        in_use = self.engine.models.spec(self.engine.settings.clip_model).name == name
        return _("metadata only") if in_use and photos else "—"

    def _models_html(self) -> str:
        _ = self.ctx._

        def row(m: dict[str, Any]) -> str:
            state = self.index_state(m["name"])
            mark = ' class="metadata-only"' if state == _("metadata only") else ""
            weights = "✔" if m["available"] else "✘ " + _("missing")
            loaded = _("loaded") if m["loaded"] else "—"
            return (f"<tr><td>{html.escape(m['name'])}</td><td>{m['dim']}</td><td>{weights}</td><td>{loaded}</td>"
                    f"<td>{human_bytes(m.get('memory_bytes'))}</td><td{mark}>{html.escape(state)}</td></tr>")

        rows = "".join(row(m) for m in self.models)
        serving = self.engine.search.serving()
        serves = ('<div class="serving">' + _("Search uses <b>{model}</b>", model=html.escape(serving.name))
                  + (f" — {html.escape(_(serving.note))}" if serving.note else "") + "</div>")
        heads = "".join(f"<th>{h}</th>" for h in (_("Model"), _("dim"), _("weights"), _("state"), _("memory"),
                                                     _("search index")))
        return f'<div class="scroll"><table><tr>{heads}</tr>{rows}</table></div>{serves}'

    def _failed_html(self) -> str:
        by_type, _ = self.stats.get("unsupported_by_type") or {}, self.ctx._
        unsupported = ""
        if by_type:
            kinds = ", ".join(f"{html.escape(ext.upper())} {n}" for ext, n in by_type.items())
            unsupported = ('<div class="unsupported">' + _.ngettext(
                "{n} file is not indexed because its type is not supported: {kinds} ({command} lists them)",
                "{n} files are not indexed because their type is not supported: {kinds} ({command} lists them)",
                sum(by_type.values()), kinds=kinds, command="<code>photoindex failed --unsupported</code>") + "</div>")
        if not self.failed:
            return '<div class="muted">' + _("No failed files.") + "</div>" + unsupported
        rows = "".join(f"<tr><td class='path'>{html.escape(f['path'])}</td><td class='why'>{html.escape(f['reason'])}</td></tr>"
                       for f in self.failed[:50])
        shown = " " + _("(the first {n} below)", n=min(50, len(self.failed))) if self.failed_total > 50 else ""
        could_not = _.ngettext("{n} file could not be read", "{n} files could not be read", self.failed_total)
        heads = "".join(f"<th>{h}</th>" for h in (_("file"), _("reason")))
        return (f"<div>{could_not}{shown}</div>"
                f"<div class='scroll'><table><tr>{heads}</tr>{rows}</table></div>" + unsupported)

    def _offline_html(self) -> str:
        _ = self.ctx._
        if not self.offline_total:
            return '<div class="muted">' + _("Every indexed photo's file is there.") + "</div>"
        rows = "".join(f"<tr><td>{p.id}</td><td>{html.escape(p.path)}</td><td>{p.offline_since:%Y-%m-%d %H:%M}</td></tr>"
                       for p in self.offline)
        offline = _.ngettext("{n} photo offline: its file is gone (an unplugged disk?). It keeps its albums and faces "
                             "and comes back when the file does.",
                             "{n} photos offline: their files are gone (an unplugged disk?). They keep their albums "
                             "and faces and come back when the files do.", self.offline_total)
        heads = "".join(f"<th>{h}</th>" for h in ("id", _("file"), _("offline since")))
        return f"<div>{offline}</div><table><tr>{heads}</tr>{rows}</table>"

    def _stats_html(self) -> str:
        s = self.stats
        if not s:
            return ""
        faces, _ = s.get("faces", {}), self.ctx._
        disk, mem = self.cache.get("disk", {}), self.cache.get("memory", {})
        database = s.get("database")
        items = [(_("Library"), s.get("library")), (_("Database"), _(database) if isinstance(database, str) else database),
                 (_("Photos"), s.get("total_photos")), (_("With GPS"), s.get("with_gps")),
                 (_("Failed"), s.get("failed_count")), (_("Faces"), faces.get("total_faces", faces.get("error"))),
                 (_("Face model"), faces.get("model")),
                 (_("Thumbnail cache (disk)"), _("{files} files", files=disk.get("files", "—")) + " · "
                  + human_bytes(disk.get("bytes"))),
                 (_("Thumbnail cache (memory)"),
                  _("{items} items", items=mem.get("entries", mem.get("items", "—"))) + f" · {human_bytes(mem.get('bytes'))}"
                  + " · " + _("hits {hits} / misses {misses}", hits=mem.get("hits", "—"), misses=mem.get("misses", "—")))]
        return ('<div class="scroll"><table>' + "".join(f"<tr><th>{k}</th><td class='path'>{html.escape(str(v))}</td></tr>"
                                                       for k, v in items) + "</table></div>")

    def __panel__(self) -> pn.viewable.Viewable:
        self.refresh()
        _ = self.ctx._
        index_all = pn.widgets.Button(label=_("Index all"), color="primary", icon=icon("player-play"))
        index_all.on_click(lambda e: self.index_all())
        all_models = pn.widgets.Checkbox.from_param(self.param.all_models, label=_("every available model"))
        faces = pn.widgets.Button(label=_("Faces"), icon=icon("user-scan"), color="light")
        faces.on_click(lambda e: self.index_faces())
        phash = pn.widgets.Button(label="pHash", icon=icon("fingerprint"), color="light")
        phash.on_click(lambda e: self.index_phash())
        cancel = pn.widgets.Button(label=_("Cancel all"), icon=icon("player-stop"), color="warning")
        cancel.on_click(lambda e: self.cancel_all())
        model_names = [m["name"] for m in self.models]
        model_pick = pn.widgets.Select(options=model_names, value=self.engine.settings.clip_model
                                       if self.engine.settings.clip_model in model_names else None, width=160)
        index_one = pn.widgets.Button(label=_("Index model"), icon=icon("database"), color="light")
        index_one.on_click(lambda e: self.index_model(model_pick.value))
        warm = pn.widgets.Button(label=_("Warm"), icon=icon("flame"), color="light")
        warm.on_click(lambda e: self.warm(model_pick.value))
        unload = pn.widgets.Button(label=_("Unload"), icon=icon("player-eject"), color="light")
        unload.on_click(lambda e: self.unload(model_pick.value))
        reset = pn.widgets.Button(label=_("Reset failed"), icon=icon("restore"), color="light")
        reset.on_click(lambda e: self.reset_failed())
        warm_cache = pn.widgets.Button(label=_("Warm thumbnails"), icon=icon("photo"), color="light")
        warm_cache.on_click(lambda e: self.warm_cache())
        clear_cache = pn.widgets.Button(label=_("Clear cache"), icon=icon("trash"), color="light")
        clear_cache.on_click(lambda e: self.clear_cache())
        refresh = pn.widgets.Button(label=_("Refresh"), icon=icon("refresh"), color="light")
        refresh.on_click(lambda e: self.refresh())

        ask_offline = pn.widgets.Button(label=_("Remove offline photos…"), icon=icon("trash"), color="light",
                                        disabled=self.param.offline_total.rx() == 0)
        ask_offline.on_click(lambda e: setattr(self, "confirm_remove_offline", True))
        sure_offline = pn.widgets.Button(label=self.param.offline_total.rx().rx.pipe(
            lambda n: _.ngettext("Yes, remove {n} photo from the index", "Yes, remove {n} photos from the index", n)),
            color="danger")
        sure_offline.on_click(lambda e: self.remove_offline())
        keep_offline = pn.widgets.Button(label=_("Cancel"), color="light")
        keep_offline.on_click(lambda e: setattr(self, "confirm_remove_offline", False))

        css = [ADMIN_CSS]
        jobs = html_pane(pn.bind(lambda rows: jobs_html(rows, _), self.param.jobs), sizing_mode="stretch_width", stylesheets=css,
                            css_classes=["jobs"])
        gpu = html_pane(pn.bind(lambda g, m: gpu_html(g, m, _), self.param.gpu, self.param.models),
                           sizing_mode="stretch_width", stylesheets=css)
        models = html_pane(pn.bind(lambda m, s: self._models_html(), self.param.models, self.param.stats),
                              sizing_mode="stretch_width", stylesheets=css)
        failed = html_pane(pn.bind(lambda f, s: self._failed_html(), self.param.failed, self.param.stats),
                           sizing_mode="stretch_width",
                              stylesheets=css)
        offline = html_pane(pn.bind(lambda o: self._offline_html(), self.param.offline), sizing_mode="stretch_width",
                               stylesheets=css)
        stats = html_pane(pn.bind(lambda s, c: self._stats_html(), self.param.stats, self.param.cache),
                             sizing_mode="stretch_width", stylesheets=css)

        def card(title: str, *objs: Any) -> pn.Card:
            return pn.Card(*objs, title=title, sizing_mode="stretch_width", collapsible=False, margin=(6, 4))

        problem = markdown_pane(pn.bind(lambda s: literal(_(s["database_problem"]) if s.get("database_problem") else ""),
                                        self.param.stats),
                                alert_type="danger", visible=pn.bind(lambda s: bool(s.get("database_problem")),
                                                                     self.param.stats), sizing_mode="stretch_width")
        return pn.Column(
            problem,
            markdown_pane(self.param.message, margin=(4, 10)),
            card(_("Indexing"), pn.Row(index_all, all_models, faces, phash, cancel, styles={"flex-wrap": "wrap"}),
                 jobs),
            card(_("GPU"), gpu),
            card(_("Models"), pn.Row(model_pick, index_one, warm, unload, styles={"flex-wrap": "wrap"}), models),
            card(_("Failed files"), reset, failed),
            card(_("Offline photos"), pn.Row(ask_offline, pn.Row(sure_offline, keep_offline,
                                                                 visible=self.param.confirm_remove_offline)), offline),
            card(_("Cache and database"), pn.Row(warm_cache, clear_cache, refresh, styles={"flex-wrap": "wrap"}), stats),
            sizing_mode="stretch_width",
        )

