"""The command line as scripts use it: paths for xargs, JSON, filters, export, the trash, --version."""
from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.indexing.scan import scan_library
from tests.face_fixtures import face_engine, face_settings, save_faces, tiny_face_pack  # noqa: F401
from tests.fakes.servers import serve
from tests.fixtures import make_library
from tests.test_cli_resume import cli_env, run_cli

TOKEN = "cli-remote-token"


@pytest.fixture
def indexed(engine: PhotoIndex, library: Path) -> PhotoIndex:
    make_library(library)
    report = engine.index()
    assert report.indexed > 3
    return engine


def ok(result) -> str:
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return result.stdout


def test_search_prints_paths_or_json_and_exports(indexed: PhotoIndex, tmp_path: Path, database_url: str,
                                                  library: Path, clip_model_dir: Path) -> None:
    env = cli_env(tmp_path, database_url, library, clip_model_dir)
    paths = ok(run_cli(["search", "a", "photo", "--top-k", "3", "--paths"], env, tmp_path)).splitlines()
    assert len(paths) == 3 and all(Path(p).is_absolute() and Path(p).is_file() for p in paths)
    assert all(Path(p).is_relative_to(library) for p in paths)

    result = json.loads(ok(run_cli(["search", "a photo", "--top-k", "2", "--json", "--formats", "JPG"], env, tmp_path)))
    assert result["results"] and {"id", "path", "score", "thumbnail_url"} <= result["results"][0].keys()
    assert all(h["format"] in ("jpg", "jpeg") for h in result["results"]) and result["filters"]["formats"]

    future = ok(run_cli(["search", "a photo", "--from", "2100-01-01"], env, tmp_path))
    assert future.strip() == "no results"
    nobody = run_cli(["search", "a photo", "--person", "Nobody"], env, tmp_path)
    assert nobody.returncode == 2 and "Nobody" in nobody.stderr and "Traceback" not in nobody.stderr

    copies, links, pictures = tmp_path / "copies", tmp_path / "links", tmp_path / "pictures"
    assert "3 files copied" in ok(run_cli(["export", "a photo", str(copies), "--top-k", "3"], env, tmp_path))
    copied = sorted(copies.iterdir())
    assert [p.name[:4] for p in copied] == ["001_", "002_", "003_"]
    assert [p.read_bytes() for p in copied] == [Path(p).read_bytes() for p in paths]
    ok(run_cli(["export", "a photo", str(links), "--top-k", "3", "--link"], env, tmp_path))
    assert sorted(str(p.resolve()) for p in links.iterdir()) == sorted(str(Path(p).resolve()) for p in paths)
    ok(run_cli(["export", "a photo", str(pictures), "--top-k", "2", "--thumbnails"], env, tmp_path))
    assert all(p.suffix == ".jpg" and p.read_bytes()[:2] == b"\xff\xd8" for p in pictures.iterdir())


def test_lists_trash_and_version(indexed: PhotoIndex, tmp_path: Path, database_url: str, library: Path,
                                 clip_model_dir: Path) -> None:
    env = cli_env(tmp_path, database_url, library, clip_model_dir)
    assert ok(run_cli(["--version"], env, tmp_path)).startswith("photoindex ")
    assert json.loads(ok(run_cli(["persons", "--json"], env, tmp_path))) == {"items": [], "total": 0, "limit": 100,
                                                                             "offset": 0}
    indexed.library.albums.create("Лето")
    assert [a["name"] for a in json.loads(ok(run_cli(["albums", "--json"], env, tmp_path)))["items"]] == ["Лето"]

    assert "the trash is empty" in ok(run_cli(["trash"], env, tmp_path))
    photo = indexed.search.text("a photo", model=indexed.settings.clip_model, top_k=1).hits[0]
    indexed.library.trash.move_to_trash([photo.id])
    assert not (library / photo.path).exists()
    (item,) = json.loads(ok(run_cli(["trash", "--json"], env, tmp_path)))["items"]
    assert item["original_path"] == photo.path
    assert f"restored {photo.path}" in ok(run_cli(["trash", "restore", str(item["trash_id"])], env, tmp_path))
    assert (library / photo.path).is_file()
    refused = run_cli(["trash", "empty"], env, tmp_path)  # no terminal to say yes: nothing deleted
    assert refused.returncode != 0 and "Traceback" not in refused.stderr


def test_duplicates_are_moved_to_the_trash_only_with_yes(indexed: PhotoIndex, tmp_path: Path, database_url: str,
                                                         library: Path, clip_model_dir: Path) -> None:
    env = cli_env(tmp_path, database_url, library, clip_model_dir)
    original = next(p for p in sorted(library.rglob("*.jpg")))
    shutil.copy2(original, library / "copy of it.jpg")
    scan_library(indexed.db, library)
    indexed.library.index_phash()
    found = json.loads(ok(run_cli(["duplicates", "--method", "phash", "--json"], env, tmp_path)))
    extras = found["total_extras"]
    assert extras >= 1 and any("copy of it.jpg" in {p["path"] for p in g["photos"]} for g in found["groups"])

    shown = ok(run_cli(["duplicates", "--method", "phash", "--delete"], env, tmp_path))
    assert f"add --yes to move the {extras} extra copies" in shown and (library / "copy of it.jpg").is_file()
    assert json.loads(ok(run_cli(["trash", "--json"], env, tmp_path)))["total"] == 0
    moved = ok(run_cli(["duplicates", "--method", "phash", "--delete", "--yes"], env, tmp_path))
    assert f"moved {extras} copies to the trash" in moved
    assert json.loads(ok(run_cli(["trash", "--json"], env, tmp_path)))["total"] == extras
    assert json.loads(ok(run_cli(["duplicates", "--method", "phash", "--json"], env, tmp_path)))["total_extras"] == 0


@pytest.fixture
def server(indexed: PhotoIndex) -> Iterator[str]:
    """The real app on a free 127.0.0.1 port over the indexed library, with an API token."""
    indexed.settings.api_token = TOKEN
    with serve(create_app(engine=indexed)) as url:
        yield url


def remote_env(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    """No database, library or model here: a remote run uses none of them."""
    env = cli_env(tmp_path, "postgresql://nobody@127.0.0.1:9/none", tmp_path / "no-library", None)
    return {**env, "PHOTOINDEX_SERVER": url, "API_TOKEN": TOKEN, **extra}


def test_the_cli_drives_a_server_through_rest(indexed: PhotoIndex, server: str, tmp_path: Path, database_url: str,
                                              library: Path, clip_model_dir: Path) -> None:
    local = cli_env(tmp_path, database_url, library, clip_model_dir)
    remote = remote_env(tmp_path, server)
    indexed.library.albums.create("Лето")
    same = (["search", "a photo", "--top-k", "3"], ["search", "a", "photo", "--top-k", "3", "--paths"],
            ["search", "a photo", "--top-k", "2", "--formats", "JPG", "--json"], ["albums", "--json"], ["persons"],
            ["trash", "--json"], ["duplicates", "--json"])
    for args in same:
        assert ok(run_cli(args, remote, tmp_path)) == ok(run_cli(args, local, tmp_path)), args
    by_flag = ok(run_cli(["--server", server, "--token", TOKEN, "albums"], {**remote, "PHOTOINDEX_SERVER": ""},
                         tmp_path))
    assert "Лето" in by_flag

    status = ok(run_cli(["status"], remote, tmp_path))
    assert status.startswith("status: ok") and str(library) in status
    assert json.loads(ok(run_cli(["status", "--json"], remote, tmp_path)))["jobs"]["items"] is not None
    pictures = tmp_path / "pictures"
    assert "2 thumbnails written" in ok(run_cli(["export", "a photo", str(pictures), "--top-k", "2", "--thumbnails"],
                                                remote, tmp_path))
    assert all(p.read_bytes()[:2] == b"\xff\xd8" for p in pictures.iterdir())

    for args, said in ((["export", "a photo", str(tmp_path / "copies")], "--thumbnails"),
                       (["index"], "this machine's library only"),
                       (["search", "a photo", "--person", "Nobody"], "Nobody")):
        refused = run_cli(args, remote, tmp_path)
        assert refused.returncode == 2 and said in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
    no_token = run_cli(["albums"], {**remote, "API_TOKEN": ""}, tmp_path)
    assert no_token.returncode == 2 and "token" in no_token.stderr and "Traceback" not in no_token.stderr
    gone = run_cli(["--server", "http://127.0.0.1:9", "albums"], remote, tmp_path)
    assert gone.returncode == 2 and "not reachable" in gone.stderr


def test_auto_assign_from_the_command_line(face_engine: PhotoIndex, library: Path, tmp_path: Path) -> None:
    save_faces(library / "anna0.png", [("anna", 160, 160)])
    save_faces(library / "anna1.png", [("anna", 320, 240)])
    save_faces(library / "boris.png", [("boris", 320, 240)])
    scan_library(face_engine.db, library)
    face_engine.faces.index()
    anna = face_engine.faces.persons.create("Anna")
    with face_engine.db.connection() as conn:
        photo_id = conn.execute("SELECT id FROM photos WHERE path = 'anna0.png'").fetchone()["id"]
    (first,) = face_engine.faces.of_photo(photo_id)
    face_engine.faces.persons.assign(first.id, anna.id)
    face_engine.settings.api_token = TOKEN
    with serve(create_app(engine=face_engine)) as url:
        env = remote_env(tmp_path, url)
        shown = ok(run_cli(["auto-assign", "anna", "--threshold", "0.9"], env, tmp_path))
        assert "Anna: 1 faces would be assigned" in shown and "--yes" in shown
        assert face_engine.faces.persons.get(anna.id).face_count == 1
        done = json.loads(ok(run_cli(["auto-assign", "Anna", "--threshold", "0.9", "--yes", "--json"], env, tmp_path)))
        assert done["assigned"] == 1 and not done["dry_run"]
    assert face_engine.faces.persons.get(anna.id).face_count == 2


# Words a Russian command line still shows in Latin letters: the program, commands, option values and
# positional names the user types, formats, protocols and model names.
LATIN_ALLOWED = {
    "photoindex", "json", "rest", "api", "url", "http", "https", "xargs", "eval", "bash", "zsh", "fish", "siglip",
    "vit", "rrf", "phash", "exif", "jpeg", "jpg", "heic", "png", "raw", "px", "buffalo_l", "clip", "all", "list",
    "restore", "empty", "status", "download", "index", "search", "export", "serve", "token", "db", "models",
    "persons", "albums", "trash", "stats", "auto-assign", "failed", "offline", "duplicates", "completion", "faces",
    "query", "dir", "ids", "shell", "action", "name", "person", "pgvector", "nobody", "y", "n", "a", "photo", "tcsh",
}


def english_left(text: str) -> set[str]:
    """Latin words outside paths, options, SETTINGS and the allow-list."""
    words = set()
    for token in text.split():
        if token.lstrip("[({'\"").startswith("-") or "/" in token or "=" in token:
            continue
        for word in re.findall(r"[A-Za-z][A-Za-z_-]*", token):
            if not word.isupper() and word.lower() not in LATIN_ALLOWED:
                words.add(word)
    return words


def test_the_command_line_speaks_the_system_language(indexed: PhotoIndex, tmp_path: Path, database_url: str,
                                                      library: Path, clip_model_dir: Path) -> None:
    env = cli_env(tmp_path, database_url, library, clip_model_dir, LANG="ru_RU.UTF-8", INTERFACE_LANGUAGE="auto")
    for name in ("LC_ALL", "LC_MESSAGES"):
        env.pop(name, None)
    indexed.library.albums.create("Лето")
    indexed.library.index_phash()  # else the duplicate finder's note (the engine's, in English) says to hash first
    runs = {
        "help": run_cli(["--help"], env, tmp_path), "search help": run_cli(["search", "--help"], env, tmp_path),
        "duplicates help": run_cli(["duplicates", "--help"], env, tmp_path),
        "trash": run_cli(["trash"], env, tmp_path), "albums": run_cli(["albums"], env, tmp_path),
        "no hits": run_cli(["search", "a photo", "--from", "2100-01-01"], env, tmp_path),
        "no query": run_cli(["search"], env, tmp_path),
        "nobody": run_cli(["search", "a photo", "--person", "Nobody"], env, tmp_path),
        "bad choice": run_cli(["completion", "tcsh"], env, tmp_path),
    }
    left = {what: english_left(r.stdout + r.stderr) for what, r in runs.items()}
    summary = ok(run_cli(["duplicates"], env, tmp_path)).splitlines()[-1]  # the groups' reasons are the engine's
    left["duplicates"] = english_left(summary)
    assert not any(left.values()), left
    assert summary.startswith("групп: ")
    assert "корзина пуста" in runs["trash"].stdout and "(0 фотографий)" in runs["albums"].stdout
    assert runs["no hits"].stdout.strip() == "ничего не найдено"
    assert "использование:" in runs["help"].stdout and "показать эту справку и выйти" in runs["help"].stdout
    assert "недопустимое значение" in runs["bad choice"].stderr and runs["bad choice"].returncode == 2
    english = run_cli(["trash"], {**env, "INTERFACE_LANGUAGE": "en"}, tmp_path)
    assert "the trash is empty" in english.stdout, "INTERFACE_LANGUAGE wins over the locale"
