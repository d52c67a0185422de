"""A non-editable install works: the built wheel carries the schema, the sample library and the
dashboard's icons, and `photoindex db` brings up an embedded server from it.

The wheel goes into a clean venv of its own; the (large) dependencies come from this venv's
site-packages through a path file, so the test needs no network and no second copy of torch.
"""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of the checkout: setuptools leaves build/ and *.egg-info beside the sources."""
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source") / "photoindex"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "data", "*.egg-info",
                                                                "__pycache__", "node_modules"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out),
                            str(source)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-3000:]
    return next(out.glob("photoindex-*.whl"))


def test_the_wheel_holds_the_schema_and_assets(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = sorted((REPO / "engine" / "db" / "sql" / "migrations").glob("*.sql"))
    assert "engine/db/sql/init_db.sql" in names and "engine/models/builtin_models.toml" in names
    assert {f"engine/db/sql/migrations/{m.name}" for m in migrations} <= names
    assert any(n.startswith("engine/sample/") and n.endswith(".jpg") for n in names)
    assert any(n.startswith("dashboard/static/icons/") for n in names)
    assert not any(n.startswith("tests/") for n in names)


def test_photoindex_db_from_a_clean_install(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    deps = [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    (purelib / "dependencies.pth").write_text("\n".join(dict.fromkeys(deps)) + "\n")
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                              str(wheel)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONPATH")}
    env.update(DATA_DIR=str(tmp_path / "data"))
    where = subprocess.run([str(python), "-c", "import engine; print(engine.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, env=env, check=True).stdout.strip()
    assert where.startswith(str(venv)), f"the clean venv imported {where}"
    result = subprocess.run([str(venv / "bin" / "photoindex"), "db"], capture_output=True, text=True, cwd=tmp_path,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    migrations = sorted((REPO / "engine" / "db" / "sql" / "migrations").glob("*.sql"))
    assert result.stdout.count("  migration ") == 1 + len(migrations), result.stdout
    assert "pgvector: works on this machine" in result.stdout
