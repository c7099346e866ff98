"""`soilapi serve` as a real process on a free loopback port, as a container runs it."""

from __future__ import annotations

import asyncio
import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
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

    def wait_ready_blocking(self) -> None:
        """As `wait_ready`, for tests that are not coroutines (they drive other programs)."""
        with httpx.Client(base_url=self.base) as http:
            for _ in range(300):
                if self.proc.poll() is not None:
                    pytest.fail(f"soilapi serve exited:\n{self.log.read_text()}")
                try:
                    if http.get("/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        pytest.fail(f"soilapi serve did not start:\n{self.log.read_text()}")

    @property
    def base(self) -> str:
        """The server's URL, without a path."""
        return f"http://127.0.0.1:{self.port}"

    async def wait_exit(self, seconds: float) -> int:
        return int(await asyncio.to_thread(self.proc.wait, seconds))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------- raw HTTP over a socket
# Attacks need what no HTTP client sends: heads that never end, bytes that trickle.


@asynccontextmanager
async def served(database_url: str, log: Path, **env: str) -> AsyncIterator[Server]:
    """`soilapi serve` with `env` settings, ready for requests, killed on leaving."""
    server = Server(database_url, log, **env)
    try:
        await server.wait_ready()
        yield server
    finally:
        server.kill()


@contextmanager
def serving(database_url: str, log: Path, **env: str) -> Iterator[Server]:
    """`served`, for tests that are not coroutines."""
    server = Server(database_url, log, **env)
    try:
        server.wait_ready_blocking()
        yield server
    finally:
        server.kill()


def connect(port: int, timeout: float = 10.0) -> socket.socket:
    """A blocking connection to the server; every read and write gives up after `timeout`."""
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_all(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection (a reset closes it too)."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes the connection within `seconds` (any answer is read first)."""
    if not select.select([sock], [], [], seconds)[0]:
        return False
    read_all(sock)
    return True


def closed_or_answering(sock: socket.socket, seconds: float) -> bool:
    """Whether, within `seconds`, the server has answered or closed (the answer stays unread)."""
    sock.settimeout(seconds)
    try:
        sock.recv(1, socket.MSG_PEEK)
    except TimeoutError:
        return False
    except OSError:  # reset
        return True
    finally:
        sock.settimeout(10)
    return True


def status(answer: bytes) -> int:
    """The status code of a raw HTTP answer."""
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer[9:12])


def header(answer: bytes, name: str) -> str | None:
    """One header of a raw HTTP answer, or None."""
    head = answer.partition(b"\r\n\r\n")[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def error_code(answer: bytes) -> str:
    """`extensions.code` of the one error in a raw answer's GraphQL-shaped JSON body."""
    [error] = json.loads(answer.partition(b"\r\n\r\n")[2])["errors"]
    return str(error["extensions"]["code"])
