"""`photoindex` — index, search, serve and inspect from the command line."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from tqdm import tqdm

from engine.config import get_settings
from engine.errors import Invalid, PhotoIndexError
from engine.i18n import N_
from photoindex.language import _, cli_language, use
from photoindex.sources import LocalSource, RemoteSource, SearchArgs

HEALTH_WORDS = (N_("ok"), N_("degraded"))

REMOTE_COMMANDS = ("search", "export", "persons", "albums", "trash", "duplicates", "auto-assign", "status", "stats")
"""What `--server` runs through the REST API; the others work on this machine's library only."""


class ProgressBar:
    """A tqdm bar fed by the engine's progress callbacks (`stage`, `done`, `total`, `failed`); it
    appears with the first report and is closed on the way out, so a message never shares its line."""

    def __init__(self, desc: str, unit: str = "img") -> None:
        self.desc = desc
        self.unit = unit
        self.bar: tqdm | None = None

    def __call__(self, p) -> None:
        if self.bar is None:
            self.bar = tqdm(total=p.total, unit=self.unit, desc=self.desc, dynamic_ncols=True)
        if self.bar.total != p.total:
            self.bar.reset(total=p.total)
        if getattr(p, "stage", None):
            self.bar.set_description(_(p.stage))
        self.bar.n = p.done
        self.bar.set_postfix(failed=p.failed, refresh=False)
        self.bar.refresh()

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_index(args: argparse.Namespace) -> int:
    from engine.app import PhotoIndex

    with PhotoIndex.open() as engine:
        engine.db.require_vectors()
        with ProgressBar(_("scanning")) as progress:
            report = engine.index(args.model, scan=not args.no_scan, progress=progress)
            hashes = engine.library.index_phash(progress=progress)  # what the duplicate finder needs
    scan = report.scan
    if scan:
        print(_("scan: {files} files, {new} new, {changed} changed, {moved} moved, {offline} went offline, "
                "{returned} came back", files=scan.files, new=scan.new, changed=scan.changed, moved=scan.moved,
                offline=scan.offline, returned=scan.returned)
              + (_(", {n} offline too long removed", n=scan.removed) if scan.removed else "")
              + (_(", {n} not indexed (unsupported type: photoindex failed --unsupported)", n=scan.unsupported)
                 if scan.unsupported else ""))
    rate = report.indexed / report.seconds if report.seconds else 0
    what = ", ".join(report.models) or _("metadata only")
    print(_("{what}: {indexed} indexed, {failed} failed in {seconds} s ({rate} img/s)", what=what,
            indexed=report.indexed, failed=report.failed, seconds=format(report.seconds, ".1f"), rate=format(rate, ".1f")))
    print(_("duplicates: {hashed} hashed, {failed} could not be read", hashed=hashes.hashed, failed=hashes.failed))
    for warning in report.warnings:
        print(f"photoindex: {warning}", file=sys.stderr)
    return 2 if report.warnings else 0


@contextmanager
def _source(args: argparse.Namespace) -> Iterator[LocalSource | RemoteSource]:
    """The server of --server (or PHOTOINDEX_SERVER) through REST, else this machine's library."""
    if args.server:
        with RemoteSource(args.server, args.token) as remote:
            yield remote
        return
    from engine.app import PhotoIndex

    with PhotoIndex.open(get_settings()) as engine:
        yield LocalSource(engine)


def _search_args(args: argparse.Namespace) -> SearchArgs:
    image = Path(args.image).expanduser() if args.image else None
    if image is not None and not image.is_file():
        raise Invalid(_("{path} is not a readable file.", path=args.image))
    return SearchArgs(query=" ".join(args.query), image=image, photo_id=args.photo_id, model=args.model,
                      multi_model=args.multi_model, translate=args.translate, top_k=args.top_k,
                      threshold=args.threshold, formats=args.formats.split(",") if args.formats else None,
                      date_from=args.date_from, date_to=args.date_to, persons=args.person or [], places=args.place,
                      cameras=args.camera, albums=args.album or [])


def _print_json(body) -> None:
    print(json.dumps(body, ensure_ascii=False, indent=2, default=str))


def _notes(body: dict) -> None:
    for note in body.get("notes", []):
        print(f"photoindex: {note}", file=sys.stderr)


def cmd_search(args: argparse.Namespace) -> int:
    with _source(args) as source:
        result = source.search(_search_args(args))
        root = source.root if args.paths else None
    _notes(result)
    if args.json:
        _print_json(result)
    elif args.paths:
        for hit in result["results"]:
            print(root / hit["path"] if root else hit["path"])
    else:
        for hit in result["results"]:
            print(f"{hit['score']:7.4f}  {hit['id']:>7}  {hit['path']}")
        if not result["results"]:
            print(_("no results"))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Copy (or link) the hits of a search into a folder, best first, names prefixed by rank."""
    import shutil

    target = Path(args.dir).expanduser()
    written: list[Path] = []
    with _source(args) as source:
        result = source.search(_search_args(args))
        target.mkdir(parents=True, exist_ok=True)
        for rank, hit in enumerate(result["results"], 1):
            name = f"{rank:03d}_{Path(hit['path']).name}"
            if args.thumbnails:
                dest = target / (Path(name).stem + ".jpg")
                dest.write_bytes(source.picture(hit["id"]))
            elif args.link:
                dest = target / name
                dest.unlink(missing_ok=True)
                dest.symlink_to(source.original(hit["id"]))
            else:
                dest = target / name
                shutil.copy2(source.original(hit["id"]), dest)
            written.append(dest)
    _notes(result)
    n = len(written)
    if args.thumbnails:
        print(_.ngettext("{n} thumbnail written to {dir}", "{n} thumbnails written to {dir}", n, dir=target))
    elif args.link:
        print(_.ngettext("{n} link made in {dir}", "{n} links made in {dir}", n, dir=target))
    else:
        print(_.ngettext("{n} file copied to {dir}", "{n} files copied to {dir}", n, dir=target))
    return 0


def _print_page(page: dict, as_json: bool, line, empty: str | None = None) -> None:
    if as_json:
        _print_json(page)
        return
    for row in page["items"]:
        print(line(row))
    if not page["items"] and empty:
        print(empty)
    elif page["total"] > page["offset"] + len(page["items"]):
        print(_("... {n} more (--limit)", n=page["total"] - page["offset"] - len(page["items"])))


def cmd_persons(args: argparse.Namespace) -> int:
    with _source(args) as source:
        page = source.persons(args.search, args.limit)
    _print_page(page, args.json, lambda p: f"{p['id']:>6}  {p['name']}  ("
                + _.ngettext("{n} face", "{n} faces", p["face_count"]) + ", "
                + _.ngettext("{n} photo", "{n} photos", p["photo_count"]) + ")")
    return 0


def cmd_albums(args: argparse.Namespace) -> int:
    with _source(args) as source:
        page = source.albums(args.search, args.limit)
    _print_page(page, args.json, lambda a: f"{a['id']:>6}  {a['name']}  ("
                + _.ngettext("{n} photo", "{n} photos", a["photo_count"]) + ")")
    return 0


def cmd_trash(args: argparse.Namespace) -> int:
    """`list`, `restore ID...` (trash ids) or `empty` (deletes the files for good; asks first)."""
    with _source(args) as source:
        if args.action == "restore":
            if not args.ids:
                raise Invalid(_("photoindex trash restore needs the trash ids that `photoindex trash` lists."))
            report = source.restore(args.ids)
            if args.json:
                _print_json(report)
            for t in [] if args.json else report["restored"]:
                print(_("restored {path}", path=t["original_path"]))
            return 0
        if args.action == "empty":
            total = len(args.ids) if args.ids else source.trash(limit=1)["total"]
            question = _.ngettext("Delete the {n} file in the trash for good? [y/N] ",
                                  "Delete the {n} files in the trash for good? [y/N] ", total)
            if not args.yes and input(question).strip().lower() not in ("y", _("y")):
                print(_("nothing deleted"))
                return 1
            removed = source.purge(args.ids or None)["removed"]
            print(_.ngettext("deleted {n} file for good", "deleted {n} files for good", removed))
            return 0
        page = source.trash(limit=args.limit)
    deleted = _("deleted")
    _print_page(page, args.json, lambda t: f"{t['trash_id']:>6}  {t['original_path']}  "
                f"({t['reason'] or deleted}, {(t['deleted_at'] or '')[:10]})", empty=_("the trash is empty"))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    with _source(args) as source:
        _print_json(source.stats())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """The server's health and its jobs (a local library has no jobs: they run in `photoindex serve`)."""
    with _source(args) as source:
        status = source.status()
    if args.json:
        _print_json(status)
        return 0
    health = status["health"]
    print(_("status: {status}", status=_(health["status"])))
    for key, label in (("database", _("database")), ("library", _("library")), ("default_model", _("default model")),
                       ("search_model", _("search model"))):
        if health.get(key) is not None:
            print(f"  {label}: {health[key]}")
    for part, problem in (health.get("detail") or {}).items():
        print(f"  {part}: {problem}")
    jobs = status["jobs"]
    if jobs is None:
        print(_("jobs: they run in the server (photoindex serve); photoindex --server URL status shows them"))
        return 0
    for job in jobs["items"]:
        done = f"{job['done']}/{job['total']}" if job["total"] else str(job["done"])
        print("  " + _("job {id}", id=format(job["id"], ">4")) + f"  {job['kind']:<20} {job['state']:<9} {done:>11}  "
              f"{job['stage']}" + ("  " + _("started {at}", at=job["started_at"]) if job["started_at"] else ""))
    if not jobs["items"]:
        print(_("jobs: none since the server started"))
    return 0


def _port_taken(host: str, port: int) -> bool:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def _network_token(settings) -> tuple[str, bool]:
    """The token of a server reachable from the network without API_TOKEN: made once, kept in
    DATA_DIR/api_token (readable by its owner only; docker compose hands it to the bot)."""
    import secrets

    path = settings.api_token_file
    if path.is_file() and path.read_text(encoding="utf-8").strip():
        return path.read_text(encoding="utf-8").strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token, True


def _dashboard_link(settings, token: str | None) -> str:
    import socket

    host = settings.host
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    return f"http://{host}:{settings.port}/" + (f"?token={token}" if token else "")


def cmd_token(_args: argparse.Namespace) -> int:
    from dashboard.api.access import access_mode

    settings = get_settings()
    if settings.api_token:
        print(_dashboard_link(settings, settings.api_token.strip()))
    elif access_mode(settings) == "open":
        print(_dashboard_link(settings, None) + "  " + _("(open: HOST is loopback and API_TOKEN is empty)"))
    else:
        print(_dashboard_link(settings, _network_token(settings)[0]))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """The engine (and the embedded database) opens before the server and closes after it, so a
    database that cannot start is one sentence, and Ctrl+C stops the embedded PostgreSQL too."""
    import uvicorn

    from dashboard.server import create_app
    from engine.app import PhotoIndex

    settings = get_settings()
    if args.no_index:
        settings.index_on_start = False
    host = settings.host = args.host or settings.host  # the access rule depends on where it listens
    port = settings.port = args.port or settings.port
    if _port_taken(host, port):
        print("photoindex: " + _("port {port} on {host} is already in use (another photoindex serve?); "
                                 "choose another with --port or PORT.", port=port, host=host), file=sys.stderr)
        return 2
    from dashboard.api.access import access_mode

    if access_mode(settings) == "locked":
        settings.api_token, made = _network_token(settings)
        if made:
            print("photoindex: " + _("this server is reachable from the network, so it needs a token; open {link} "
                                     "(kept in {file}; `photoindex token` prints the link again).",
                                     link=_dashboard_link(settings, settings.api_token), file=settings.api_token_file),
                  file=sys.stderr, flush=True)
        else:
            print("photoindex: " + _("access token in {file}; `photoindex token` prints the link.",
                                     file=settings.api_token_file), file=sys.stderr, flush=True)
    with PhotoIndex.open(settings) as engine:
        uvicorn.run(create_app(settings, engine=engine), host=host, port=port, log_level="info")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from engine.db import migrations
    from engine.db.database import open_database, redacted

    db = open_database(get_settings())
    try:
        if args.action == "url":
            print(db.url)
        else:
            with db.connection() as conn:
                rows = migrations.applied(conn)
            kind = _("embedded") if db.is_embedded else _("external")
            print(_("database: {kind} {url}", kind=kind, url=redacted(db.url)))
            print("pgvector: " + (_("works on this machine") if db.vector_check.ok else db.vector_check.message))
            for r in rows:
                print("  " + _("migration {version} {name} applied {at}", version=format(r.version, "03d"), name=r.name,
                               at=format(r.applied_at, "%Y-%m-%d %H:%M")))
    finally:
        db.close()
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from engine.models.manager import ModelManager

    if args.action == "download":
        return cmd_models_download(args)
    for m in ModelManager(get_settings()).status():
        where = m.path or m.reason or ""
        state = _("available") if m.available else _("missing")
        print(f"{m.name:<10} {m.dim:>5}  {state:<9}  {where}")
    return 0


def cmd_models_download(args: argparse.Namespace) -> int:
    from engine.models.download import DownloadProgress, download, known_model_names

    if not args.name:
        print("photoindex models download: " + _("name a model: {names}", names=", ".join(known_model_names())),
              file=sys.stderr)
        return 2
    bars: dict[str, tqdm] = {}

    def progress(p: DownloadProgress) -> None:  # huggingface_hub draws its own byte bars per file
        bar = bars.get(p.unit) or bars.setdefault(p.unit, tqdm(total=p.total, desc=p.name, unit="B" if p.unit == "bytes" else " files",
                                                              unit_scale=p.unit == "bytes", dynamic_ncols=True))
        bar.total = p.total
        bar.n = p.done
        bar.refresh()

    try:
        folder = download(args.name, get_settings(), progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
    print(_("{name}: ready in {folder}", name=args.name, folder=folder))
    return 0


def cmd_failed(args: argparse.Namespace) -> int:
    from engine.app import PhotoIndex

    with PhotoIndex.open() as engine:
        if args.reset:
            print(_("reset {n} files; the next index run retries them", n=engine.reset_failed()))
            return 0
        if args.unsupported:
            for f in engine.unsupported_files(limit=args.limit):
                print(f"{f.path}: {f.reason}")
            return 0
        for p in engine.failed_files(limit=args.limit):
            print(f"{p.id:>7}  {p.path}: {p.fail_reason}")
        by_type = engine.stats().unsupported_by_type
    if by_type:
        kinds = ", ".join(f"{ext} {n}" for ext, n in by_type.items())
        print(_("not indexed, unsupported type: {n} files ({kinds}); --unsupported lists them",
                n=sum(by_type.values()), kinds=kinds))
    return 0


def cmd_faces(args: argparse.Namespace) -> int:
    from engine.app import PhotoIndex
    from engine.indexing.scan import scan

    with PhotoIndex.open() as engine:
        engine.db.require_vectors()
        engine.faces.pack_dir()  # a missing model is one clear sentence before any work
        if not args.no_scan:
            scan(engine.db, engine.settings)
        with ProgressBar(_("faces")) as progress:
            report = engine.faces.index(skip_indexed=not args.all, batch_size=args.batch_size, progress=progress)
        print(_("{model}: {faces} faces in {photos} photos, {failed} failed in {seconds} s", model=report.model,
                faces=report.faces, photos=report.photos, failed=report.failed, seconds=format(report.seconds, ".1f")))
        if not args.no_suggest:
            with ProgressBar(_("grouping faces"), unit="face") as progress:
                c = engine.faces.clusters.update(progress=progress)
            print(_("suggested people: {new} new, {joined} faces joined existing ones", new=c.new_suggestions,
                    joined=c.joined_existing))
    return 0


def cmd_offline(args: argparse.Namespace) -> int:
    from engine.app import PhotoIndex

    with PhotoIndex.open() as engine:
        offline = engine.library.offline
        if args.remove:
            removed = offline.remove(args.ids or None)
            print(_("removed {n} offline photos from the index", n=len(removed)))
            return 0
        items, total = offline.list(limit=args.limit)
    for p in items:
        print(f"{p.id:>7}  " + _("offline since {at}", at=format(p.offline_since, "%Y-%m-%d %H:%M")) + f"  {p.path}")
    print(_("{n} photos are offline (their files are gone); they come back when the files do.", n=total)
          + (" " + _("Remove them from the index with: photoindex offline --remove") if total else ""))
    return 0


def _search_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", nargs="*" if p.prog.endswith("search") else "?", help=_("what the photos show, in any language"))
    _complete_files(p.add_argument("--image", help=_("a picture file to search by")))
    p.add_argument("--photo-id", type=int, help=_("an indexed photo to search by"))
    p.add_argument("--model", help=_("registry name (default CLIP_MODEL)"))
    p.add_argument("--multi-model", action="store_true", help=_("fuse every indexed model (RRF)"))
    p.add_argument("--translate", action="store_true", help=_("translate the query to English first (TRANSLATE_API_KEY)"))
    p.add_argument("--top-k", type=int, default=10, help=_("how many photos (default 10)"))
    p.add_argument("--threshold", type=float, default=None, help=_("minimum cosine similarity"))
    p.add_argument("--formats", help=_("comma-separated: JPG,HEIC,PNG,RAW"))
    p.add_argument("--from", dest="date_from", type=date.fromisoformat, help=_("taken on or after YYYY-MM-DD"))
    p.add_argument("--to", dest="date_to", type=date.fromisoformat, help=_("taken on or before YYYY-MM-DD"))
    p.add_argument("--person", action="append", help=_("a person's name; repeat for photos with all of them"))
    p.add_argument("--place", action="append", help=_("a country, region or city (Russian or English)"))
    p.add_argument("--camera", action="append", help=_("part of the camera's name"))
    p.add_argument("--album", action="append", help=_("an album's name"))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("photoindex")
    except PackageNotFoundError:
        return _("unknown (not installed)")


def _duplicate_params(args: argparse.Namespace) -> dict:
    return {"method": args.method, "max_distance": args.max_distance, "threshold": args.threshold, "model": args.model,
            "limit": args.limit}


def cmd_duplicates(args: argparse.Namespace) -> int:
    """The groups with each copy's reasons; `--delete` shows what would go to the trash, `--delete
    --yes` moves the copies not kept of every group not flagged for review there (restorable)."""
    with _source(args) as source:
        if args.delete:
            report = source.delete_duplicates(_duplicate_params(args), dry_run=not args.yes)
        else:
            report = source.duplicates(_duplicate_params(args))
    if args.json:
        _print_json(report)
        return 0
    _notes(report)
    for n, g in enumerate(report["groups"], 1):
        keep = next(p for p in g["photos"] if p["id"] == g["keep_id"])
        flag = "  " + _("REVIEW: {why}", why="; ".join(g["review"])) if g["needs_review"] else ""
        print(_("group {n}: {count} photos, keep {path} ({why})", n=n, count=len(g["photos"]), path=keep["path"],
                why="; ".join(g["keeper_reasons"])) + flag)
        reasons = {pair["b"]: pair for pair in g["pairs"] if pair["a"] == g["anchor_id"]}
        for p in g["photos"]:
            pair = reasons.get(p["id"])
            why = f"{pair['transform']} [{pair['rule']}: {_signal_text(pair['signals'])}]" if pair else _("the best copy")
            role = _("keep") if p["id"] == g["keep_id"] else _("extra")
            print(f"  {role:<5}  {p['id']:>7}  {p['path']}  {why}")
    shown = len(report["groups"])
    print(_("{groups} groups ({review} to review)", groups=report["total_groups"], review=report["review_groups"])
          + (_(", {n} shown", n=shown) if shown < report["total_groups"] else "")
          + _(", {n} extra copies outside review groups", n=report["total_extras"]))
    if args.delete and args.yes:
        print(_("moved {n} copies to the trash (photoindex trash restore puts them back)", n=report["deleted"]))
    elif args.delete:
        print(_("nothing moved yet: add --yes to move the {n} extra copies to the trash", n=report["total_extras"]))
    return 0


def _signal_text(signals: list[dict]) -> str:
    return ", ".join(f"{s['name']} {s['value']}" + (f" {s['unit'].split(',')[0]}" if s["name"] == "pHash" else "")
                     for s in signals if s["matched"])


def cmd_auto_assign(args: argparse.Namespace) -> int:
    """Give a person the unassigned faces like theirs: shown first, assigned with --yes."""
    with _source(args) as source:
        person_id = source.person_id(args.person)
        name = source.person_name(person_id)
        report = source.auto_assign(person_id, args.threshold, dry_run=not args.yes)
    if args.json:
        _print_json(report)
        return 0
    for c in report["candidates"]:
        print("  " + _("face {face}  photo {photo}  similarity {similarity}", face=format(c["face_id"], ">7"),
                       photo=format(c["photo_id"], ">7"), similarity=format(c["similarity"], ".3f")))
    if report["dry_run"]:
        print(_("{name}: {n} faces would be assigned (threshold {threshold}); add --yes to assign them", name=name,
                n=report["count"], threshold=report["threshold"]))
    else:
        print(_("{name}: {n} faces assigned (threshold {threshold})", name=name, n=report["assigned"],
                threshold=report["threshold"]))
    return 0


def cmd_completion(args: argparse.Namespace) -> int:
    """The shell's completion script for photoindex (subcommands, options, choices, files)."""
    import shtab

    print(shtab.complete(build_parser(), shell=args.shell))
    return 0


def _complete_files(action: argparse.Action, kind: str = "file") -> None:
    import shtab

    action.complete = shtab.FILE if kind == "file" else shtab.DIRECTORY  # type: ignore[attr-defined]


def _json_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help=_("the answer as JSON, as the REST API gives it"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="photoindex",
                                     description=_("`photoindex` — index, search, serve and inspect from the command line."))
    parser.add_argument("-v", "--verbose", action="store_true", help=_("say what happens, tracebacks included"))
    parser.add_argument("--version", action="version", version=f"photoindex {_version()}",
                        help=_("show program's version number and exit"))
    parser.add_argument("--server", default=os.environ.get("PHOTOINDEX_SERVER") or None, metavar="URL",
                        help=_("a photoindex server to work through (REST) instead of the local library: "
                               "{commands} (default PHOTOINDEX_SERVER)", commands=", ".join(REMOTE_COMMANDS)))
    parser.add_argument("--token", default=None, help=_("the server's API token (default API_TOKEN)"))
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help=_("scan PHOTOS_DIR and index new or changed photos"))
    p.add_argument("--model", help=_("registry name (default CLIP_MODEL)"))
    p.add_argument("--no-scan", action="store_true", help=_("only finish photos already known"))
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help=_("search by text, by a picture or by a photo id"))
    _search_arguments(p)
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help=_("the whole result as JSON"))
    output.add_argument("--paths", action="store_true", help=_("only the files' full paths, one per line (for xargs)"))
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("export", help=_("copy the hits of a search into a folder (or link them, or their pictures)"))
    _search_arguments(p)
    _complete_files(p.add_argument("dir", help=_("the folder to write into (made when missing)")), "dir")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--link", action="store_true", help=_("symbolic links to the originals instead of copies"))
    kind.add_argument("--thumbnails", action="store_true", help=_("viewable JPEGs (max 2000 px) instead of originals"))
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("serve", help=_("serve the dashboard and the REST API"))
    p.add_argument("--host", help=_("the address to listen on (default HOST)"))
    p.add_argument("--port", type=int, help=_("the port (default PORT)"))
    p.add_argument("--no-index", action="store_true", help=_("do not index at start"))
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("token", help=_("the dashboard's link with its access token"))
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("db", help=_("database location and schema version"))
    p.add_argument("action", choices=["status", "url"], nargs="?", default="status")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("models", help=_("which models are available; `models download NAME` fetches one"))
    p.add_argument("action", choices=["list", "download"], nargs="?", default="list")
    p.add_argument("name", nargs="?", help=_("with download: a registry name (SigLIP, ViT-B/32, ...) or a face pack (buffalo_l)"))
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("persons", help=_("the people named so far"))
    p.add_argument("search", nargs="?", help=_("part of a name"))
    p.add_argument("--limit", type=int, default=100, help=_("show at most this many"))
    _json_option(p)
    p.set_defaults(func=cmd_persons)

    p = sub.add_parser("albums", help=_("the albums"))
    p.add_argument("search", nargs="?", help=_("part of a name"))
    p.add_argument("--limit", type=int, default=100, help=_("show at most this many"))
    _json_option(p)
    p.set_defaults(func=cmd_albums)

    p = sub.add_parser("trash", help=_("photos moved to the trash: list, restore IDs, empty"))
    p.add_argument("action", choices=["list", "restore", "empty"], nargs="?", default="list")
    p.add_argument("ids", nargs="*", type=int, help=_("trash ids (from the list)"))
    p.add_argument("--limit", type=int, default=100, help=_("show at most this many"))
    p.add_argument("--yes", action="store_true", help=_("empty without asking"))
    _json_option(p)
    p.set_defaults(func=cmd_trash)

    p = sub.add_parser("stats", help=_("index statistics (JSON)"))
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("status", help=_("the server's health and its jobs"))
    _json_option(p)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("auto-assign", help=_("give a person the unassigned faces like theirs (shown first; --yes assigns)"))
    p.add_argument("person", help=_("the person's name"))
    p.add_argument("--threshold", type=float, help=_("cosine similarity (default FACE_ASSIGN_THRESHOLD)"))
    p.add_argument("--yes", action="store_true", help=_("assign them (default: only show them)"))
    _json_option(p)
    p.set_defaults(func=cmd_auto_assign)

    p = sub.add_parser("failed", help=_("files that could not be indexed, and why"))
    p.add_argument("--limit", type=int, default=100, help=_("show at most this many"))
    p.add_argument("--reset", action="store_true", help=_("clear the flags so the next run retries them"))
    p.add_argument("--unsupported", action="store_true", help=_("list the files of types the index does not take"))
    p.set_defaults(func=cmd_failed)

    p = sub.add_parser("offline", help=_("photos whose files are gone, and removing them from the index"))
    p.add_argument("--remove", action="store_true", help=_("remove them (with their albums links and faces)"))
    p.add_argument("ids", nargs="*", type=int, help=_("only these photo ids (default: every offline photo)"))
    p.add_argument("--limit", type=int, default=100, help=_("show at most this many"))
    p.set_defaults(func=cmd_offline)

    p = sub.add_parser("duplicates", help=_("groups of duplicate photos, each copy with the reason it matched"))
    p.add_argument("--method", choices=["all", "phash", "clip"], default="all",
                   help=_("all: pictures + image embeddings where indexed (default); phash: pictures; clip: embeddings"))
    p.add_argument("--max-distance", type=int, help=_("pHash limit in bits of 256 (default: calibrated 56)"))
    p.add_argument("--threshold", type=float, help=_("embedding cosine similarity (default 0.95)"))
    p.add_argument("--model", help=_("image-text model for the embedding signal (default CLIP_MODEL)"))
    p.add_argument("--limit", type=int, default=None, help=_("show at most this many groups"))
    p.add_argument("--delete", action="store_true",
                   help=_("with --yes: move the copies not kept of the groups not flagged for review to the trash"))
    p.add_argument("--yes", action="store_true", help=_("with --delete: move them (default: only show what would go)"))
    p.add_argument("--json", action="store_true", help=_("the whole report as JSON"))
    p.set_defaults(func=cmd_duplicates)

    p = sub.add_parser("completion", help=_("print the shell completion script: eval \"$(photoindex completion bash)\""))
    p.add_argument("shell", choices=["bash", "zsh", "fish"])
    p.set_defaults(func=cmd_completion)

    p = sub.add_parser("faces", help=_("find and recognise faces in photos not yet done (resumable)"))
    p.add_argument("--all", action="store_true", help=_("detect again in every photo (persons are kept)"))
    p.add_argument("--batch-size", type=int, help=_("photos per model batch (default FACE_BATCH_SIZE)"))
    p.add_argument("--no-scan", action="store_true", help=_("only photos already known"))
    p.add_argument("--no-suggest", action="store_true", help=_("do not group unassigned faces afterwards"))
    p.set_defaults(func=cmd_faces)
    return parser


def _interface_language() -> str | None:
    try:
        return get_settings().interface_language
    except Exception:  # a setting that does not validate is reported by the command that needs it
        return os.environ.get("INTERFACE_LANGUAGE")


def main(argv: list[str] | None = None) -> int:
    use(cli_language(_interface_language()))
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    if args.verbose:
        for noisy in ("distributed", "asyncio", "tornado", "urllib3", "httpx", "PIL"):
            logging.getLogger(noisy).setLevel(logging.INFO)
    if args.command == "export":
        args.query = [args.query] if args.query else []
    if args.command in ("search", "export") and not (args.query or args.image or args.photo_id is not None):
        print(f"photoindex {args.command}: " + _("give a query, --image or --photo-id"), file=sys.stderr)
        return 2
    if args.server and args.command not in REMOTE_COMMANDS:
        print(f"photoindex {args.command}: " + _("works on this machine's library only; --server runs {commands}",
                                                 commands=", ".join(REMOTE_COMMANDS)), file=sys.stderr)
        return 2
    if args.server and args.token is None:
        args.token = os.environ.get("API_TOKEN") or None
    try:
        return args.func(args)
    except PhotoIndexError as exc:
        print(f"photoindex: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("photoindex: " + _("interrupted; finished work is kept and the next run resumes."), file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback for a user; -v shows it
        logging.getLogger("photoindex").debug("unexpected error", exc_info=True)
        print("photoindex: " + _("unexpected error ({error}); run with -v for details.",
                                 error=type(exc).__name__ + ": " + str(exc)), file=sys.stderr)
        return 1
