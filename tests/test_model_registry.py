"""The model registry is configuration: an entry added in MODELS_FILE or MODEL_REGISTRY gets its
vector table at start (no migration), is indexed and searched like a built-in one; a bad entry is
one sentence. Real engine and PostgreSQL, a tiny SigLIP 2-architecture model trained on colours."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.config import Settings
from engine.db import embeddings
from engine.db.database import open_database
from engine.models.registry import BUILTIN_MODELS, InvalidModelEntry, configure, get_spec, parse_entry
from engine.runtime.cluster import ClusterHandle
from tests.conftest import make_settings
from tests.fixtures import make_jpeg
from tests.test_cli_errors import one_sentence
from tests.test_cli_resume import cli_env, run_cli
from tests.tiny_models import COLORS, train_color_model

NAME = "Tiny SigLIP2 (ru)"
TABLE = "embeddings_tiny_siglip2_ru"
DIM = 48


@pytest.fixture(autouse=True)
def builtin_registry_after() -> Iterator[None]:
    """This process's registry goes back to the built-in entries, for the tests that follow."""
    yield
    configure(Settings(_env_file=None))


@pytest.fixture(scope="module")
def colour_siglip2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_color_model(tmp_path_factory.mktemp("siglip2-colours"), "siglip", embed_dim=DIM, tokenizer="gemma")


def _entry_toml(folder: Path, dim: int = DIM) -> str:
    return (f'[[models]]\nname = "{NAME}"\npath = {json.dumps(str(folder))}\nloader = "siglip"\n'
            f'dim = {dim}\nmultilingual = true\nquery_template = "a photo of {{}}"\n')


def test_an_entry_from_the_models_file_is_indexed_and_searched(
        tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path, colour_siglip2: Path,
        dask_cluster: ClusterHandle) -> None:
    for colour, (rgb, _) in COLORS.items():
        make_jpeg(library / f"{colour}.jpg", (96, 72), rgb)
    settings = make_settings(tmp_path, database_url, library, clip_model_dir).model_copy(
        update={"clip_model": NAME, "clip_runtime": "torch"})
    settings.resolved_models_file.parent.mkdir(parents=True)
    settings.resolved_models_file.write_text(_entry_toml(colour_siglip2), encoding="utf-8")

    with PhotoIndex(settings, open_database(settings), cluster=dask_cluster) as engine:
        spec = get_spec("tiny-siglip2-ru")
        assert (spec.name, spec.dim, spec.family, spec.multilingual) == (NAME, DIM, "siglip", True)
        assert embeddings.table_name(NAME) == TABLE
        with engine.db.connection() as conn:
            column = conn.execute("SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute"
                                  " WHERE attrelid = %s::regclass AND attname = 'embedding'", (TABLE,)).fetchone()
            index = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", (TABLE,)).fetchall()
        assert column["t"] == f"halfvec({DIM})"
        assert any("hnsw" in r["indexdef"] and "halfvec_cosine_ops" in r["indexdef"] for r in index)

        report = engine.index()
        assert report.models == (NAME,) and report.indexed == len(COLORS) and not report.warnings
        assert engine.index(scan=False).indexed == 0  # a second run has nothing to do
        with TestClient(create_app(engine=engine)) as client:
            for colour in COLORS:  # the query goes in as "a photo of <colour>", as the model was trained
                body = client.post("/search/text", json={"query": colour, "top_k": 1}).json()
                assert body["model"] == NAME and body["results"][0]["path"] == f"{colour}.jpg", body
            listed = {m["name"]: m for m in client.get("/models").json()}
            assert listed[NAME]["available"] and listed[NAME]["dim"] == DIM

    with psycopg.connect(database_url) as conn:  # start again: the table is there, nothing is created
        assert embeddings.ensure_tables(conn, configure(settings)) == []
        assert conn.execute(f'SELECT count(*) FROM "{TABLE}"').fetchone()[0] == len(COLORS)


def test_a_changed_dimension_is_one_sentence(tmp_path: Path, database_url: str, library: Path,
                                             clip_model_dir: Path, colour_siglip2: Path) -> None:
    entry = {"name": NAME, "path": str(colour_siglip2), "loader": "siglip", "dim": DIM}
    settings = make_settings(tmp_path, database_url, library, clip_model_dir, model_registry=[entry])
    open_database(settings).close()
    changed = settings.model_copy(update={"model_registry": json.dumps([{**entry, "dim": DIM + 16}])})
    with pytest.raises(InvalidModelEntry, match=rf"says dim {DIM + 16} but its table {TABLE} holds {DIM}-d vectors"):
        open_database(changed)


@pytest.mark.parametrize(("entry", "sentence"), [
    ({"name": "X", "hf_id": "a/b", "loader": "clip"}, "`dim` must be the embedding size"),
    ({"name": "X", "hf_id": "a/b", "loader": "open_clip", "dim": 512}, "`loader` must be siglip or clip"),
    ({"name": "X", "loader": "clip", "dim": 512}, "give `hf_id` (a Hugging Face id) or `path`"),
    ({"name": 'x"; DROP TABLE photos; --', "hf_id": "a/b", "loader": "clip", "dim": 8}, "`name` must start"),
    ({"name": "X", "hf_id": "a/b", "loader": "clip", "dim": 8, "dimension": 8}, "unknown key 'dimension'"),
    ({"name": "X", "hf_id": "a/b", "loader": "clip", "dim": 8, "query_template": "a photo"}, "hold {} once"),
    ({"name": "X", "hf_id": "a/b", "loader": "clip", "dim": 5000}, "from 1 to 4000"),
])
def test_a_bad_entry_says_what_is_wrong(entry: dict, sentence: str) -> None:
    with pytest.raises(InvalidModelEntry) as info:
        parse_entry(entry, "MODEL_REGISTRY")
    message = str(info.value)
    assert message.startswith("MODEL_REGISTRY") and sentence in message and message.count(". ") == 0


def test_built_in_entries_are_data_and_a_name_may_not_share_their_table(tmp_path: Path) -> None:
    assert list(BUILTIN_MODELS) == ["SigLIP2", "SigLIP", "ViT-B/32", "ViT-B/16", "ViT-L/14"]
    assert [s.key for s in BUILTIN_MODELS.values()] == ["siglip2", "siglip", "vit_b32", "vit_b16", "vit_l14"]
    clash = Settings(_env_file=None, data_dir=tmp_path,
                     model_registry='[{"name": "vit b32", "hf_id": "a/b", "loader": "clip", "dim": 8}]')
    with pytest.raises(InvalidModelEntry, match=r"would be the one of 'ViT-B/32' \(embeddings_vit_b32\)"):
        configure(clash)
    prompt = Settings(_env_file=None, data_dir=tmp_path, model_registry=[
        {"name": "ViT-B/32", "hf_id": "openai/clip-vit-base-patch32", "loader": "clip", "dim": 512,
         "query_template": "a photo of {}"}])  # a built-in entry replaced in place, e.g. to add a prompt
    assert list(configure(prompt)) == list(BUILTIN_MODELS) and get_spec("ViT-B/32").query("cat") == "a photo of cat"


def test_the_cli_tells_a_bad_entry_in_one_sentence(tmp_path: Path, database_url: str, library: Path) -> None:
    env = cli_env(tmp_path, database_url, library, None,
                  MODEL_REGISTRY='[{"name": "SigLIP2-B", "hf_id": "google/siglip2-base-patch16-256", '
                                 '"loader": "siglip", "dim": "768"}]')
    result = run_cli(["stats"], env, tmp_path, timeout=120)
    assert result.returncode != 0
    sentence = one_sentence(result)
    assert "MODEL_REGISTRY, model 'SigLIP2-B': `dim` must be the embedding size" in sentence
