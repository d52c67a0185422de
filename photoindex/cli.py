"""`photoindex` — index, search, serve and inspect from the command line."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from engine.config import get_settings
from engine.errors import PhotoIndexError


class ProgressBar:
    """A tqdm bar fed by the engine's progress callbacks (`stage`, `done`, `total`, `failed`); it
    appears with the first report and is closed on the way out, so a message never shares its line."""

    def __init__(self, desc: str) -> None:
        self.desc = desc
        self.bar: tqdm | None = None

    def __call__(self, p) -> None:
        if self.bar is None:
            self.bar = tqdm(total=p.total, unit="img", desc=self.desc, dynamic_ncols=True)
        if self.bar.total != p.total:
            self.bar.reset(total=p.total)
        if getattr(p, "stage", None):
            self.bar.set_description(p.stage)
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
        with ProgressBar("scanning") as progress:
            report = engine.index(args.model, scan=not args.no_scan, progress=progress)
    scan = report.scan
    if scan:
        print(f"scan: {scan.files} files, {scan.new} new, {scan.changed} changed, {scan.deleted} deleted"
              + (f", {scan.unsupported} not indexed (unsupported type: photoindex failed --unsupported)"
                 if scan.unsupported else ""))
    rate = report.indexed / report.seconds if report.seconds else 0
    what = ", ".join(report.models) or "metadata only"
    print(f"{what}: {report.indexed} indexed, {report.failed} failed in {report.seconds:.1f} s ({rate:.1f} img/s)")
    for warning in report.warnings:
        print(f"photoindex: {warning}", file=sys.stderr)
    return 2 if report.warnings else 0


def cmd_search(args: argparse.Namespace) -> int:
    from engine.app import PhotoIndex

    settings = get_settings()
    with PhotoIndex.open(settings) as engine:
        engine.db.require_vectors()
        model = args.model or settings.clip_model
        formats = args.formats.split(",") if args.formats else None
        if args.image:
            if not Path(args.image).expanduser().is_file():
                print(f"photoindex: {args.image} is not a readable file.", file=sys.stderr)
                return 2
            result = engine.search.image(model=model, image_path=Path(args.image), top_k=args.top_k,
                                         threshold=args.threshold, formats=formats)
        elif args.photo_id is not None:
            result = engine.search.image(model=model, photo_id=args.photo_id, top_k=args.top_k,
                                         threshold=args.threshold, formats=formats)
        else:
            result = engine.search.text(" ".join(args.query), model=model, top_k=args.top_k,
                                        threshold=args.threshold, formats=formats)
    for hit in result.hits:
        print(f"{hit.score:7.4f}  {hit.id:>7}  {hit.path}")
    if not result.hits:
        print("no results")
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
        print(f"{_dashboard_link(settings, None)}  (open: HOST is loopback and API_TOKEN is empty)")
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
        print(f"photoindex: port {port} on {host} is already in use (another photoindex serve?); "
              "choose another with --port or PORT.", file=sys.stderr)
        return 2
    from dashboard.api.access import access_mode

    if access_mode(settings) == "locked":
        settings.api_token, made = _network_token(settings)
        if made:
            print(f"photoindex: this server is reachable from the network, so it needs a token; open "
                  f"{_dashboard_link(settings, settings.api_token)} (kept in {settings.api_token_file}; "
                  "`photoindex token` prints the link again).", file=sys.stderr, flush=True)
        else:
            print(f"photoindex: access token in {settings.api_token_file}; `photoindex token` prints the link.",
                  file=sys.stderr, flush=True)
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
            print(f"database: {'embedded' if db.is_embedded else 'external'} {redacted(db.url)}")
            print(f"pgvector: {'works on this machine' if db.vector_check.ok else db.vector_check.message}")
            for r in rows:
                print(f"  migration {r.version:03d} {r.name} applied {r.applied_at:%Y-%m-%d %H:%M}")
    finally:
        db.close()
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from engine.models.manager import ModelManager

    if args.action == "download":
        return cmd_models_download(args)
    for m in ModelManager(get_settings()).status():
        where = m.path or m.reason or ""
        print(f"{m.name:<10} {m.dim:>5}  {'available' if m.available else 'missing':<9}  {where}")
    return 0


def cmd_models_download(args: argparse.Namespace) -> int:
    from engine.models.download import DownloadProgress, download, known_model_names

    if not args.name:
        print(f"photoindex models download: name a model: {', '.join(known_model_names())}", file=sys.stderr)
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
    print(f"{args.name}: ready in {folder}")
    return 0


def cmd_stats(_args: argparse.Namespace) -> int:
    from engine.app import PhotoIndex

    with PhotoIndex.open() as engine:
        print(json.dumps(asdict(engine.stats()), indent=2, default=str))
    return 0


def cmd_failed(args: argparse.Namespace) -> int:
    from engine.app import PhotoIndex

    with PhotoIndex.open() as engine:
        if args.reset:
            print(f"reset {engine.reset_failed()} files; the next index run retries them")
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
        print(f"not indexed, unsupported type: {sum(by_type.values())} files ({kinds}); --unsupported lists them")
    return 0


def cmd_faces(args: argparse.Namespace) -> int:
    from engine.app import PhotoIndex
    from engine.indexing.scan import scan_library

    with PhotoIndex.open() as engine:
        engine.db.require_vectors()
        engine.faces.pack_dir()  # a missing model is one clear sentence before any work
        if not args.no_scan:
            scan_library(engine.db, engine.settings.photos_dir)
        with ProgressBar("faces") as progress:
            report = engine.faces.index(skip_indexed=not args.all, batch_size=args.batch_size, progress=progress)
        print(f"{report.model}: {report.faces} faces in {report.photos} photos, {report.failed} failed"
              f" in {report.seconds:.1f} s")
        if not args.no_suggest:
            c = engine.faces.clusters.update()
            print(f"suggested people: {c.new_suggestions} new, {c.joined_existing} faces joined existing ones")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="photoindex", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="scan PHOTOS_DIR and index new or changed photos")
    p.add_argument("--model", help="registry name (default CLIP_MODEL)")
    p.add_argument("--no-scan", action="store_true", help="only finish photos already known")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="search by text, by a picture or by a photo id")
    p.add_argument("query", nargs="*")
    p.add_argument("--image", help="a picture file to search by")
    p.add_argument("--photo-id", type=int)
    p.add_argument("--model")
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--threshold", type=float, default=None, help="minimum cosine similarity")
    p.add_argument("--formats", help="comma-separated: JPG,HEIC,PNG,RAW")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("serve", help="serve the dashboard and the REST API")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--no-index", action="store_true", help="do not index at start")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("token", help="the dashboard's link with its access token")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("db", help="database location and schema version")
    p.add_argument("action", choices=["status", "url"], nargs="?", default="status")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("models", help="which models are available; `models download NAME` fetches one")
    p.add_argument("action", choices=["list", "download"], nargs="?", default="list")
    p.add_argument("name", nargs="?", help="with download: a registry name (SigLIP, ViT-B/32, ...) or a face pack (buffalo_l)")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("stats", help="index statistics")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("failed", help="files that could not be indexed, and why")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--reset", action="store_true", help="clear the flags so the next run retries them")
    p.add_argument("--unsupported", action="store_true", help="list the files of types the index does not take")
    p.set_defaults(func=cmd_failed)

    p = sub.add_parser("faces", help="find and recognise faces in photos not yet done (resumable)")
    p.add_argument("--all", action="store_true", help="detect again in every photo (persons are kept)")
    p.add_argument("--batch-size", type=int, help="photos per model batch (default FACE_BATCH_SIZE)")
    p.add_argument("--no-scan", action="store_true", help="only photos already known")
    p.add_argument("--no-suggest", action="store_true", help="do not group unassigned faces afterwards")
    p.set_defaults(func=cmd_faces)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    if args.verbose:
        for noisy in ("distributed", "asyncio", "tornado", "urllib3", "httpx", "PIL"):
            logging.getLogger(noisy).setLevel(logging.INFO)
    if args.command == "search" and not (args.query or args.image or args.photo_id is not None):
        print("photoindex search: give a query, --image or --photo-id", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except PhotoIndexError as exc:
        print(f"photoindex: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("photoindex: interrupted; finished work is kept and the next run resumes.", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback for a user; -v shows it
        logging.getLogger("photoindex").debug("unexpected error", exc_info=True)
        print(f"photoindex: unexpected error ({type(exc).__name__}: {exc}); run with -v for details.",
              file=sys.stderr)
        return 1
