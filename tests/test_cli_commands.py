"""The command line as scripts use it: paths for xargs, JSON, filters, export, the trash, --version."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.app import PhotoIndex
from tests.fixtures import make_library
from tests.test_cli_resume import cli_env, run_cli


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
    assert result["hits"] and {"id", "path", "score"} <= result["hits"][0].keys()
    assert all(h["format"] in ("jpg", "jpeg") for h in result["hits"]) and result["filters"]["formats"]

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
    assert json.loads(ok(run_cli(["persons", "--json"], env, tmp_path))) == []
    indexed.library.albums.create("Лето")
    assert [a["name"] for a in json.loads(ok(run_cli(["albums", "--json"], env, tmp_path)))] == ["Лето"]

    assert "the trash is empty" in ok(run_cli(["trash"], env, tmp_path))
    photo = indexed.search.text("a photo", model=indexed.settings.clip_model, top_k=1).hits[0]
    indexed.library.trash.move_to_trash([photo.id])
    assert not (library / photo.path).exists()
    (item,) = json.loads(ok(run_cli(["trash", "--json"], env, tmp_path)))
    assert item["original_path"] == photo.path
    assert f"restored {photo.path}" in ok(run_cli(["trash", "restore", str(item["trash_id"])], env, tmp_path))
    assert (library / photo.path).is_file()
    refused = run_cli(["trash", "empty"], env, tmp_path)  # no terminal to say yes: nothing deleted
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
