"""The notebooks run top to bottom (nbclient, a real kernel) on a small library with tiny models.

The library is the bundled sample (so `04`'s default labels name its photos) with two copies of
one of its photos (a duplicate group for `05`) and photos with faces (for `03`). A probe cell appended to a notebook prints what its cells computed, as JSON.

`PHOTOINDEX_RENDER_NOTEBOOKS=1` writes the executed notebooks back to notebooks/ (their committed
outputs), without the probe cell.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import nbformat
import psycopg
import pytest
from nbclient import NotebookClient
from PIL import Image

from engine.config import SAMPLE_PHOTOS_DIR
from engine.db.embeddings import table_name
from tests.conftest import TEST_MODEL
from tests.face_fixtures import save_faces, tiny_face_pack  # noqa: F401

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
PROBES = {
    "02_embedding_map": '{"points": len(points), "sampled": len(sample.vectors), "total": sample.total, '
                        '"method": projection.method, "note": projection.note, "thumbs": sum(map(bool, thumbs))}',
    "04_search_quality": '{"results": [[r.model, r.recall, r.mrr, len(r.queries)] for r in results], '
                         '"labels": len(LABELS), "unknown": unknown, '
                         '"recalls": [q.recall for r in results for q in r.queries]}',
    "05_clean_duplicates": '{"groups": report.total_groups, "extras": report.extra_ids, "moved": len(moved), '
                           '"dry_run": not MOVE_EXTRAS_TO_TRASH}',
}
PROBE_MARK = "NOTEBOOK-PROBE "
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def notebook_env(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path, tiny_face_pack: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(SAMPLE_PHOTOS_DIR, library, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.py", "__*"))
    beach = library / "2020-08-15_beach_palms.jpg"
    (library / "copies").mkdir()
    shutil.copyfile(beach, library / "copies" / "2020-08-15_beach_palms (1).jpg")
    with Image.open(beach) as image:
        image.resize((image.width // 2, image.height // 2)).save(library / "copies" / "beach_small.jpg", quality=80)
    for i in range(4):
        save_faces(library / "people" / f"p{i}.png", [("anna", 160 + 16 * i, 160), ("boris", 464, 304 - 16 * i)])
    env = {
        "DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url, "PHOTOS_DIR": str(library),
        "CLIP_MODEL": TEST_MODEL, "CLIP_DEVICE": "cpu", "MODEL_PATHS": json.dumps({TEST_MODEL: str(clip_model_dir)}),
        "FACE_MODEL_DIR": str(tiny_face_pack), "FACE_CLUSTER_MIN_FACES": "2", "DASK_DECODE_WORKERS": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _run(path: Path, workdir: Path) -> tuple[nbformat.NotebookNode, dict[str, Any] | None]:
    """Execute the notebook (with its probe cell, if it has one); the book as committed and the probe's answer."""
    book = nbformat.read(path, as_version=4)
    probe = PROBES.get(path.stem)
    if probe:
        book.cells.insert(len(book.cells) - 1, nbformat.v4.new_code_cell(
            f"import json as _json\nprint({PROBE_MARK!r} + _json.dumps({probe}, default=str))"))
    NotebookClient(book, timeout=240, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(workdir)}}).execute()
    answer = None
    if probe:
        cell = book.cells.pop(len(book.cells) - 2)
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        answer = json.loads(text.split(PROBE_MARK, 1)[1])
    return book, answer


def _check_map(answer: dict[str, Any], vectors: int) -> None:
    assert answer["points"] == answer["sampled"] == answer["total"] == vectors > 0
    assert answer["thumbs"] == vectors, "every point has its hover thumbnail"
    assert answer["method"] == "PCA" and ("too few for UMAP" in answer["note"] or "not installed" in answer["note"])


def _check_quality(answer: dict[str, Any], vectors: int) -> None:
    assert answer["unknown"] == [], "the default labels name photos of the bundled sample"
    (model, recall, mrr, queries), = answer["results"]  # one indexed model: no fused row
    assert model == TEST_MODEL and queries == answer["labels"]
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in [recall, mrr, *answer["recalls"]])


def _check_duplicates(answer: dict[str, Any], vectors: int) -> None:
    assert answer["dry_run"] and answer["groups"] >= 1 and len(answer["extras"]) >= 2
    assert answer["moved"] == 0


def _write_rendered(book: nbformat.NotebookNode, path: Path, workdir: Path) -> None:
    """The executed book as committed: live-only widget outputs (tqdm's bars, frozen at 0 %) and
    their state left out, the test's temporary folder shown as /tmp/notebook."""
    for cell in book.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET not in o.get("data", {})]
    book.metadata.pop("widgets", None)
    path.write_text(nbformat.writes(book).replace(str(workdir), "/tmp/notebook") + "\n")


CHECKS = {"02_embedding_map": _check_map, "04_search_quality": _check_quality, "05_clean_duplicates": _check_duplicates}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, notebook_env: Path, library: Path) -> None:
    before = _files(library)
    book, answer = _run(path, notebook_env)
    outputs = [o for cell in book.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert outputs, "the notebook printed nothing"
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT count(*) FROM persons").fetchone()[0] == 0, "a notebook wrote to the library"
        assert conn.execute("SELECT count(*) FROM trash").fetchone()[0] == 0, "a notebook moved photos"
        vectors = conn.execute(f"SELECT count(*) FROM {table_name(TEST_MODEL)}").fetchone()[0]
    assert _files(library) == before
    if path.stem in CHECKS:
        CHECKS[path.stem](answer, vectors)
    if os.environ.get("PHOTOINDEX_RENDER_NOTEBOOKS") == "1":
        _write_rendered(book, path, notebook_env)
