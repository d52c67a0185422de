"""The two ways to the store: the embedded server in a data folder, and an external DATABASE_URL."""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from engine.app import PhotoIndex
from engine.config import Settings
from engine.db.database import open_database
from engine.db.migrations import available_migrations
from engine.indexing.cluster import ClusterHandle
from tests.conftest import TEST_MODEL, make_settings
from tests.fixtures import make_library


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tcp_server(tmp_path: Path) -> Iterator[str]:
    """A separate PostgreSQL on 127.0.0.1 with password authentication, like a server on the LAN."""
    from pgserver._commands import POSTGRES_BIN_PATH
    from pgserver.utils import ensure_prefix_permissions

    data = tmp_path / "external-pg"
    data.mkdir()
    user = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use the account pgserver creates
        user = pwd.getpwnam("pgserver")
        os.chown(data, user.pw_uid, user.pw_gid)
        ensure_prefix_permissions(data)

    def run(*args: str) -> None:
        command = [str(POSTGRES_BIN_PATH / args[0]), *args[1:]]
        if user is not None:
            command = ["su", "-s", "/bin/sh", user.pw_name, "-c", " ".join(f"'{c}'" for c in command)]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    pwfile = tmp_path / "pw"
    pwfile.write_text("s3cret\n")
    os.chmod(pwfile, 0o644)
    run("initdb", "-D", str(data), "-U", "photo", f"--pwfile={pwfile}", "--auth=scram-sha-256")
    port = _free_port()
    run("pg_ctl", "-D", str(data), "-w", "-l", str(data / "log"), "-o", f"-h 127.0.0.1 -p {port} -k {data}", "start")
    try:
        url = f"postgresql://photo:s3cret@127.0.0.1:{port}/postgres"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE photos")
        yield f"postgresql://photo:s3cret@127.0.0.1:{port}/photos"
    finally:
        run("pg_ctl", "-D", str(data), "-w", "-m", "immediate", "stop")


def test_external_database_url(tcp_server: str, tmp_path: Path, library: Path, clip_model_dir: Path,
                               dask_cluster: ClusterHandle) -> None:
    files = make_library(library)
    settings = make_settings(tmp_path, tcp_server, library, clip_model_dir)
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    try:
        assert not engine.db.is_embedded
        report = engine.index()
        assert report.indexed == len(files)
        hit = engine.search.image(model=TEST_MODEL, image_bytes=files["png"].read_bytes(), top_k=1).hits[0]
        assert hit.path == files["png"].relative_to(library).as_posix()
    finally:
        engine.close()
    with psycopg.connect(tcp_server) as conn:
        assert conn.execute("SELECT count(*) FROM embeddings_vit_b32").fetchone()[0] == len(files)


def test_embedded_server_in_a_data_folder(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=None)
    db = open_database(settings)
    try:
        assert db.is_embedded and str(settings.embedded_db_dir.resolve()) in db.url
        with db.connection() as conn:
            versions = [r["version"] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
            ext = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
            indexes = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname LIKE 'embeddings_%%_hnsw'").fetchall()
        assert versions == [m.version for m in available_migrations()]
        assert ext is not None and tuple(int(x) for x in ext["extversion"].split(".")[:2]) >= (0, 8)
        assert len(indexes) == 5 and all("hnsw" in i["indexdef"] and "halfvec_cosine_ops" in i["indexdef"] for i in indexes)
        again = open_database(settings)  # a second process attaches to the running server
        assert again.url == db.url
        again.close()
    finally:
        db.close()
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=settings.embedded_db_dir.resolve(), user="pgserver" if os.geteuid() == 0 else None)
        shutil.rmtree(settings.embedded_db_dir, ignore_errors=True)


def test_migrations_apply_once(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        from engine.db.migrations import apply_migrations

        first = apply_migrations(conn)
        second = apply_migrations(conn)
    assert first == [m.version for m in available_migrations()]
    assert second == []
