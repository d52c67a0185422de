"""The notebooks run top to bottom (nbclient, a real kernel) on a small library with tiny models."""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import psycopg
import pytest
from nbclient import NotebookClient

from tests.conftest import TEST_MODEL
from tests.face_fixtures import save_faces, tiny_face_pack  # noqa: F401
from tests.fixtures import make_library

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.fixture
def notebook_env(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path, tiny_face_pack: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Path:
    make_library(library)
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, notebook_env: Path) -> None:
    book = nbformat.read(path, as_version=4)
    NotebookClient(book, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(notebook_env)}}).execute()
    outputs = [o for cell in book.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert outputs, "the notebook printed nothing"
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT count(*) FROM persons").fetchone()[0] == 0, "a notebook wrote to the library"
