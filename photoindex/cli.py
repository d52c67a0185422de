"""`photoindex` — index, search, serve and inspect from the command line."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path

from tqdm import tqdm

from engine.config import get_settings
from engine.errors import Invalid, PhotoIndexError


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
        print(f"scan: {scan.files} files, {scan.new} new, {scan.changed} changed, {scan.moved} moved,"
              f" {scan.offline} went offline, {scan.returned} came back"
              + (f", {scan.removed} offline too long removed" if scan.removed else "")
              + (f", {scan.unsupported} not indexed (unsupported type: photoindex failed --unsupported)"
                 if scan.unsupported else ""))
    rate = report.indexed / report.seconds if report.seconds else 0
    what = ", ".join(report.models) or "metadata only"
    print(f"{what}: {report.indexed} indexed, {report.failed} failed in {report.seconds:.1f} s ({rate:.1f} img/s)")
    for warning in report.warnings:
        print(f"photoindex: {warning}", file=sys.stderr)
    return 2 if report.warnings else 0


def _search(engine, args: argparse.Namespace):
    """The search the arguments ask for: text (names become person filters), a picture or a photo id."""
    from engine.search.filters import SearchFilters

    settings = engine.settings
    model = args.model or settings.clip_model
    filters = SearchFilters.of(date_from=args.date_from, date_to=args.date_to, places=args.place, cameras=args.camera,
                               formats=args.formats.split(",") if args.formats else None,
                               person_ids=[_person_id(engine, name) for name in args.person or []] or None,
                               album_ids=[_album_id(engine, name) for name in args.album or []] or None)
    if args.image:
        if not Path(args.image).expanduser().is_file():
            raise Invalid(f"{args.image} is not a readable file.")
        search = engine.search.multi_image if args.multi_model else engine.search.image
        kwargs = {} if args.multi_model else {"model": model}
        return search(image_path=Path(args.image).expanduser(), top_k=args.top_k, threshold=args.threshold,
                      filters=filters, **kwargs)
    if args.photo_id is not None:
        return engine.search.image(model=model, photo_id=args.photo_id, top_k=args.top_k, threshold=args.threshold,
                                   filters=filters)
    return engine.search.query(" ".join(args.query), model=model, multi_model=args.multi_model,
                               translate=args.translate, top_k=args.top_k, threshold=args.threshold, filters=filters)


def _person_id(engine, name: str) -> int:
    persons, _ = engine.faces.persons.list(search=name, limit=2)
    exact = [p for p in persons if p.name.casefold() == name.casefold()]
    if len(exact) == 1 or len(persons) == 1:
        return (exact or persons)[0].id
    raise Invalid(f"no single person is called {name!r}" + (f" (did you mean {', '.join(p.name for p in persons)}?)"
                                                           if persons else "; photoindex persons lists them"))


def _album_id(engine, name: str) -> int:
    albums = engine.library.albums.list(search=name, limit=2)
    exact = [a for a in albums if a.name.casefold() == name.casefold()]
    if len(exact) == 1 or len(albums) == 1:
        return (exact or albums)[0].id
    raise Invalid(f"no single album is called {name!r}")


def cmd_search(args: argparse.Namespace) -> int:
    from engine.app import PhotoIndex

    with PhotoIndex.open(get_settings()) as engine:
        engine.db.require_vectors()
        result = _search(engine, args)
        root = engine.settings.photos_dir
    for note in result.notes:
        print(f"photoindex: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(asdict(result), ensure_ascii=False, indent=2, default=str))
    elif args.paths:
        for hit in result.hits:
            print(root / hit.path)
    else:
        for hit in result.hits:
            print(f"{hit.score:7.4f}  {hit.id:>7}  {hit.path}")
        if not result.hits:
            print("no results")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Copy (or link) the hits of a search into a folder, best first, names prefixed by rank."""
    import shutil

    from engine.app import PhotoIndex
    from engine.db import photos as photo_rows

    target = Path(args.dir).expanduser()
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with PhotoIndex.open(get_settings()) as engine:
        engine.db.require_vectors()
        result = _search(engine, args)
        for rank, hit in enumerate(result.hits, 1):
            with engine.db.connection() as conn:
                photo = photo_rows.get(conn, hit.id)
            source = engine.file_of(photo)
            name = f"{rank:03d}_{Path(hit.path).name}"
            if args.thumbnails:
                dest = target / (Path(name).stem + ".jpg")
                dest.write_bytes(engine.thumbnails.get_bytes(photo.id, source, photo.format, "full", photo.rotation,
                                                             photo.version))
            elif args.link:
                dest = target / name
                dest.unlink(missing_ok=True)
                dest.symlink_to(source)
            else:
                dest = target / name
                shutil.copy2(source, dest)
            written.append(dest)
    for note in result.notes:
        print(f"photoindex: {note}", file=sys.stderr)
    how = "thumbnails written" if args.thumbnails else "links made" if args.link else "files copied"
    print(f"{len(written)} {how} to {target}")
    return 0


def _print_rows(rows: list, as_json: bool, line) -> None:
    if as_json:
        print(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2, default=str))
    else:
        for row in rows:
            print(line(row))


def cmd_persons(args: argparse.Namespace) -> int:
    from engine.app import PhotoIndex

    with PhotoIndex.open() as engine:
        persons, total = engine.faces.persons.list(search=args.search, limit=args.limit)
    _print_rows(persons, args.json, lambda p: f"{p.id:>6}  {p.name}  ({p.face_count} faces, {p.photo_count} photos)")
    if not args.json and total > len(persons):
        print(f"... {total - len(persons)} more (--limit)")
    return 0


def cmd_albums(args: argparse.Namespace) -> int:
    from engine.app import PhotoIndex

    with PhotoIndex.open() as engine:
        albums = engine.library.albums.list(search=args.search, limit=args.limit)
    _print_rows(albums, args.json, lambda a: f"{a.id:>6}  {a.name}  ({a.photo_count} photos)")
    return 0


def cmd_trash(args: argparse.Namespace) -> int:
    """`list`, `restore ID...` (trash ids) or `empty` (deletes the files for good; asks first)."""
    from engine.app import PhotoIndex

    with PhotoIndex.open() as engine:
        trash = engine.library.trash
        if args.action == "restore":
            if not args.ids:
                raise Invalid("photoindex trash restore needs the trash ids that `photoindex trash` lists.")
            report = trash.restore(args.ids)
            _print_rows(report.restored, args.json, lambda t: f"restored {t.original_path}")
            return 0
        if args.action == "empty":
            _, total = trash.list(limit=1)
            if not args.yes and input(f"Delete the {total} files in the trash for good? [y/N] ").strip().lower() != "y":
                print("nothing deleted")
                return 1
            print(f"deleted {trash.purge(args.ids or None)} files for good")
            return 0
        items, total = trash.list(limit=args.limit)
    _print_rows(items, args.json, lambda t: f"{t.trash_id:>6}  {t.original_path}  ({t.reason or 'deleted'}, {t.deleted_at:%Y-%m-%d})")
    if not args.json and not items:
        print("the trash is empty")
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
    from engine.indexing.scan import scan

    with PhotoIndex.open() as engine:
        engine.db.require_vectors()
        engine.faces.pack_dir()  # a missing model is one clear sentence before any work
        if not args.no_scan:
            scan(engine.db, engine.settings)
        with ProgressBar("faces") as progress:
            report = engine.faces.index(skip_indexed=not args.all, batch_size=args.batch_size, progress=progress)
        print(f"{report.model}: {report.faces} faces in {report.photos} photos, {report.failed} failed"
              f" in {report.seconds:.1f} s")
        if not args.no_suggest:
            c = engine.faces.clusters.update()
            print(f"suggested people: {c.new_suggestions} new, {c.joined_existing} faces joined existing ones")
    return 0


def cmd_offline(args: argparse.Namespace) -> int:
    from engine.app import PhotoIndex

    with PhotoIndex.open() as engine:
        offline = engine.library.offline
        if args.remove:
            removed = offline.remove(args.ids or None)
            print(f"removed {len(removed)} offline photos from the index")
            return 0
        items, total = offline.list(limit=args.limit)
    for p in items:
        print(f"{p.id:>7}  offline since {p.offline_since:%Y-%m-%d %H:%M}  {p.path}")
    print(f"{total} photos are offline (their files are gone); they come back when the files do."
          + (" Remove them from the index with: photoindex offline --remove" if total else ""))
    return 0


def _search_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", nargs="*" if p.prog.endswith("search") else "?", help="what the photos show, in any language")
    p.add_argument("--image", help="a picture file to search by")
    p.add_argument("--photo-id", type=int, help="an indexed photo to search by")
    p.add_argument("--model", help="registry name (default CLIP_MODEL)")
    p.add_argument("--multi-model", action="store_true", help="fuse every indexed model (RRF)")
    p.add_argument("--translate", action="store_true", help="translate the query to English first (TRANSLATE_API_KEY)")
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--threshold", type=float, default=None, help="minimum cosine similarity")
    p.add_argument("--formats", help="comma-separated: JPG,HEIC,PNG,RAW")
    p.add_argument("--from", dest="date_from", type=date.fromisoformat, help="taken on or after YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", type=date.fromisoformat, help="taken on or before YYYY-MM-DD")
    p.add_argument("--person", action="append", help="a person's name; repeat for photos with all of them")
    p.add_argument("--place", action="append", help="a country, region or city (Russian or English)")
    p.add_argument("--camera", action="append", help="part of the camera's name")
    p.add_argument("--album", action="append", help="an album's name")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("photoindex")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="photoindex", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--version", action="version", version=f"photoindex {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="scan PHOTOS_DIR and index new or changed photos")
    p.add_argument("--model", help="registry name (default CLIP_MODEL)")
    p.add_argument("--no-scan", action="store_true", help="only finish photos already known")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="search by text, by a picture or by a photo id")
    _search_arguments(p)
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="the whole result as JSON")
    output.add_argument("--paths", action="store_true", help="only the files' full paths, one per line (for xargs)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("export", help="copy the hits of a search into a folder (or link them, or their pictures)")
    _search_arguments(p)
    p.add_argument("dir", help="the folder to write into (made when missing)")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--link", action="store_true", help="symbolic links to the originals instead of copies")
    kind.add_argument("--thumbnails", action="store_true", help="viewable JPEGs (max 2000 px) instead of originals")
    p.set_defaults(func=cmd_export)

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

    p = sub.add_parser("persons", help="the people named so far")
    p.add_argument("search", nargs="?", help="part of a name")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_persons)

    p = sub.add_parser("albums", help="the albums")
    p.add_argument("search", nargs="?", help="part of a name")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_albums)

    p = sub.add_parser("trash", help="photos moved to the trash: list, restore IDs, empty")
    p.add_argument("action", choices=["list", "restore", "empty"], nargs="?", default="list")
    p.add_argument("ids", nargs="*", type=int, help="trash ids (from the list)")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--yes", action="store_true", help="empty without asking")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_trash)

    p = sub.add_parser("stats", help="index statistics")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("failed", help="files that could not be indexed, and why")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--reset", action="store_true", help="clear the flags so the next run retries them")
    p.add_argument("--unsupported", action="store_true", help="list the files of types the index does not take")
    p.set_defaults(func=cmd_failed)

    p = sub.add_parser("offline", help="photos whose files are gone, and removing them from the index")
    p.add_argument("--remove", action="store_true", help="remove them (with their albums links and faces)")
    p.add_argument("ids", nargs="*", type=int, help="only these photo ids (default: every offline photo)")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=cmd_offline)

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
    if args.command == "export":
        args.query = [args.query] if args.query else []
    if args.command in ("search", "export") and not (args.query or args.image or args.photo_id is not None):
        print(f"photoindex {args.command}: give a query, --image or --photo-id", file=sys.stderr)
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
