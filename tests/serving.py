"""`soilapi serve` as a real process on a free loopback port, as a container runs it."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`soilapi serve` in a subprocess, as a container runs it."""

    def __init__(self, database_url: str, log: Path, **env: str) -> None:
        self.port = free_port()
        self.log = log
        self.observed = False
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            **env,
        }
        environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
        code = "from soilapi.cli import main; main(['serve'])"
        with log.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-c", code], env=environment, stdout=out, stderr=out
            )

    async def wait_ready(self) -> None:
        """Poll /healthz until the server answers; note whether observability is installed."""
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as http:
            for _ in range(200):
                if self.proc.poll() is not None:
                    pytest.fail(f"soilapi serve exited:\n{self.log.read_text()}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        self.observed = (await http.get("/readyz")).status_code != 404
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        pytest.fail(f"soilapi serve did not start:\n{self.log.read_text()}")

    async def wait_exit(self, seconds: float) -> int:
        return int(await asyncio.to_thread(self.proc.wait, seconds))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
