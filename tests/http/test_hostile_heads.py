"""Hostile request heads against a real `soilapi serve`: huge, numerous or slow headers.

uvicorn's parser (httptools) caps nothing and joins a header split over many reads by
concatenation, which is quadratic: one 100 MB header held a replica for ~16 s, six took it
down. These tests send such heads over loopback, smaller but by the same mechanism, and check
that the server stops reading at its limits, answers 431 or 408, and keeps serving others.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from serving import (
    Server,
    closed_or_answering,
    closed_within,
    connect,
    error_code,
    header,
    read_all,
    served,
    status,
)

HEAD_LIMIT = 65536
HEADER_LIMIT = 16384
HEADER_TIMEOUT = 1.0
QUERY = '{ organization(slug: "gsp") { name } }'
START = b"GET /healthz HTTP/1.1\r\nHost: test\r\n"


@pytest.fixture(scope="module")
async def server(
    database_url: str, engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    """`soilapi serve` with the default head limits and a 1 s header timeout (the engine
    fixture has seeded the database the GraphQL requests read)."""
    log = tmp_path_factory.mktemp("heads") / "serve.log"
    async with served(
        database_url,
        log,
        MAX_REQUEST_HEAD_BYTES=str(HEAD_LIMIT),
        MAX_HEADER_BYTES=str(HEADER_LIMIT),
        MAX_HEADERS="100",
        HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        LOG_LEVEL="WARNING",
    ) as server:
        yield server


def ask(port: int, head: bytes) -> bytes:
    """Send a complete head; return the whole answer (the server closes or we do, on 200)."""
    with connect(port) as sock:
        sock.sendall(head + b"Connection: close\r\n\r\n")
        return read_all(sock)


def stream_header(port: int, size: int, chunk: int = 16384) -> tuple[int, bytes]:
    """Send one header growing to `size` bytes in paced chunks, reading between them.

    Returns the bytes of the header sent before the server answered or cut the connection,
    and its answer. Pacing keeps the kernel's socket buffers from hiding when the server
    stopped reading: each chunk has arrived before the next is sent.
    """
    sent, filler = 0, b"a" * chunk
    with connect(port) as sock:
        sock.sendall(START + b"X-Huge: ")
        while sent < size:
            try:
                sock.sendall(filler)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += chunk
            if closed_or_answering(sock, 0.01):
                break
        return sent, read_all(sock)


async def test_an_endless_header_is_refused_once_the_head_passes_its_limit(
    server: Server,
) -> None:
    """The server answers 431 after ~64 KiB, long before the 8 MiB header would end."""
    started = time.monotonic()
    sent, answer = await asyncio.to_thread(stream_header, server.port, 8 << 20)
    assert sent < 1 << 20, f"the server read {sent:,} bytes of one header before refusing"
    assert time.monotonic() - started < 3
    assert status(answer) == 431
    assert error_code(answer) == "HEADERS_TOO_LARGE"
    assert header(answer, "connection") == "close"
    assert header(answer, "x-content-type-options") == "nosniff"  # like every response


async def test_one_header_over_its_limit_is_refused(server: Server) -> None:
    big = b"X-Big: " + b"b" * (HEADER_LIMIT - 5 + 1) + b"\r\n"  # name and value: limit + 1
    answer = await asyncio.to_thread(ask, server.port, START + big)
    assert status(answer) == 431, answer[:300]
    assert error_code(answer) == "HEADERS_TOO_LARGE"
    assert b"16,384 bytes" in answer

    fits = b"X-Big: " + b"b" * (HEADER_LIMIT - 5) + b"\r\n"
    assert status(await asyncio.to_thread(ask, server.port, START + fits)) == 200


async def test_more_headers_than_the_limit_are_refused(server: Server) -> None:
    """Host and `Connection: close` count: 98 more make 100 (allowed), 99 make 101."""
    many = [b"X-H%d: v\r\n" % i for i in range(99)]
    answer = await asyncio.to_thread(ask, server.port, START + b"".join(many))
    assert status(answer) == 431, answer[:300]
    assert error_code(answer) == "HEADERS_TOO_LARGE"
    assert b"more than 100 headers" in answer

    allowed = await asyncio.to_thread(ask, server.port, START + b"".join(many[:98]))
    assert status(allowed) == 200


async def test_others_are_answered_promptly_while_attackers_stream_huge_headers(
    server: Server,
) -> None:
    """Four attackers send 16 MiB headers as fast as they can, over and over; a client on
    its own connection keeps getting answers, and no attacker's head is ever read whole."""
    stop = threading.Event()
    cut_off: list[int] = []

    def attack() -> None:
        filler = b"a" * 65536
        for _ in range(100):  # connections per attacker, at most; until the client is done
            if stop.is_set():
                return
            with connect(server.port, timeout=5) as sock:
                sock.sendall(START + b"X-Huge: ")
                for sent in range(0, 16 << 20, len(filler)):
                    try:
                        sock.sendall(filler)
                    except OSError:  # refused and closed: the server stopped reading
                        cut_off.append(sent)
                        break
                else:
                    cut_off.append(-1)  # the whole header went through

    attackers = [asyncio.create_task(asyncio.to_thread(attack)) for _ in range(4)]
    slowest = 0.0
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            for _ in range(20):
                started = time.monotonic()
                response = await http.post("/graphql", json={"query": QUERY}, timeout=10)
                slowest = max(slowest, time.monotonic() - started)
                assert response.status_code == 200, response.text
                assert response.json()["data"]["organization"]["name"]
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*attackers)
    assert slowest < 1.0, f"a request took {slowest:.2f} s while heads were streamed"
    assert cut_off, "no attacker connection was cut off"
    assert -1 not in cut_off, "an attacker sent a whole 16 MiB header"


async def test_a_head_that_trickles_is_closed_at_the_header_timeout(server: Server) -> None:
    """One byte every 0.2 s keeps a connection busy but never completes the head: the
    deadline counts from the first byte, not from the last."""
    with connect(server.port) as sock:
        sock.sendall(START)
        started = time.monotonic()
        answer = b""
        for _ in range(25):  # 5 s at most
            try:
                sock.sendall(b"X")
            except OSError:
                break
            if closed_or_answering(sock, 0.2):
                answer = read_all(sock)
                break
        elapsed = time.monotonic() - started
    assert HEADER_TIMEOUT * 0.8 < elapsed < HEADER_TIMEOUT + 1.5, elapsed
    assert status(answer) == 408
    assert error_code(answer) == "REQUEST_TIMEOUT"


async def test_a_silent_connection_is_closed_at_the_header_timeout(server: Server) -> None:
    with connect(server.port) as sock:
        started = time.monotonic()
        assert await asyncio.to_thread(closed_within, sock, HEADER_TIMEOUT + 1.5)
        assert time.monotonic() - started > HEADER_TIMEOUT * 0.8
        assert sock.recv(1) == b"", "nothing came, so nothing is answered"


async def test_a_kept_alive_connection_gets_the_timeout_again_for_its_next_head(
    server: Server,
) -> None:
    """After a first request, a second head that trickles is timed from its own first byte."""
    with connect(server.port) as sock:
        sock.sendall(START + b"\r\n")
        first = sock.recv(65536)
        assert status(first) == 200
        sock.sendall(START)
        started = time.monotonic()
        assert await asyncio.to_thread(closed_within, sock, HEADER_TIMEOUT + 1.5)
        assert time.monotonic() - started > HEADER_TIMEOUT * 0.8
