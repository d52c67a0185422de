"""`docker compose up` opens: a server reachable from the network makes its own token and says
where it is, the bot gets it, the services wait for each other's health, and one image serves both.

No Docker engine runs on the CI machines: the compose file is checked by `docker compose config`
where the plugin exists, and by its structure everywhere; the image build is not exercised here.
"""
from __future__ import annotations

import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from bot.config import BotSettings
from tests.fixtures import make_png, wait_for_health
from tests.test_cli_errors import _closed_port
from tests.test_cli_resume import cli_env

REPO = Path(__file__).resolve().parents[1]


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def test_services_wait_for_each_others_health_and_share_one_image() -> None:
    services = compose()["services"]
    assert services["db"]["healthcheck"]["test"] and services["api"]["healthcheck"]["test"]
    assert services["api"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["bot"]["depends_on"]["api"]["condition"] == "service_healthy"
    assert services["api"]["image"] == services["bot"]["image"]
    assert [name for name, s in services.items() if "build" in s] == ["api"]


def test_the_bot_reads_the_token_the_server_makes() -> None:
    services = compose()["services"]
    api, bot = services["api"], services["bot"]
    data_dir = api["environment"]["DATA_DIR"]
    api_volume = next(v.split(":")[0] for v in api["volumes"] if v.split(":")[1] == data_dir)
    token_file = Path(bot["environment"]["PHOTOINDEX_API_TOKEN_FILE"])
    bot_mounts = {v.split(":")[1]: v.split(":")[0] for v in bot["volumes"]}
    assert bot_mounts.get(str(token_file.parent)) == api_volume
    assert token_file.name == "api_token" and api["environment"]["HOST"] == "0.0.0.0"


def test_the_image_has_what_the_app_needs() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    for package in ("libgl1", "libglib2.0-0", "libgomp1"):
        assert package in dockerfile
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (REPO / source).exists(), f"Dockerfile copies {source}, which does not exist"
    assert "pip install --no-cache-dir ." in dockerfile and " -e " not in dockerfile
    gpu = yaml.safe_load((REPO / "docker-compose.gpu.yml").read_text(encoding="utf-8"))["services"]["api"]
    assert gpu["build"]["args"]["ONNXRUNTIME"] == "onnxruntime-gpu"
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client")
def test_docker_compose_config() -> None:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("the docker compose plugin is not installed")
    for files in (["docker-compose.yml"], ["docker-compose.yml", "docker-compose.gpu.yml"]):
        args = [a for f in files for a in ("-f", f)]
        result = subprocess.run(["docker", "compose", *args, "config", "--quiet"], cwd=REPO, capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stderr


def test_a_server_on_the_network_makes_its_token_once(tmp_path: Path, database_url: str, library: Path,
                                                      clip_model_dir: Path) -> None:
    make_png(library / "a.png", size=(64, 64), color=(1, 2, 3))
    port = _closed_port()
    env = cli_env(tmp_path, database_url, library, clip_model_dir, INDEX_ON_START="false")
    token_file = tmp_path / "data" / "api_token"

    def serve() -> tuple[str, str]:
        proc = subprocess.Popen([sys.executable, "-m", "photoindex", "serve", "--host", "0.0.0.0", "--port", str(port)],
                                env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_for_health(proc, port)
            token = token_file.read_text().strip()
            assert httpx.get(f"http://127.0.0.1:{port}/stats").status_code in (401, 403)
            assert httpx.get(f"http://127.0.0.1:{port}/stats", headers={"X-API-Token": token}).status_code == 200
        finally:
            proc.send_signal(signal.SIGINT)
            output, _ = proc.communicate(timeout=120)
        return token, output

    token, first = serve()
    assert f"?token={token}" in first and "Traceback" not in first
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    again, second = serve()
    assert again == token and token not in second, "the token is printed once, when it is made"
    assert BotSettings(_env_file=None, photoindex_api_token_file=token_file).api_token == token
