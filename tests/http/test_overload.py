"""More requests than a process should take, and bodies that trickle, against `soilapi serve`.

With no bound, 200 concurrent clients queued until the slowest waited past the execution
limit. Here the bound is 2 and two uploads that have not finished their bodies hold both
slots: the next request must be refused at once, coded and with Retry-After, while the probes
still answer. A body that trickles must be cut off at the body timeout.
"""

from __future__ import annotations

import asyncio
import json
import socket
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

BODY_TIMEOUT = 3.0
QUERY = '{ organization(slug: "gsp") { name } }'
GSP = {"organization": {"name": "Global Soil Partnership"}}


@pytest.fixture(scope="module")
async def server(
    database_url: str, engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    """`soilapi serve` taking 2 requests at once, with a 3 s body timeout (the engine fixture
    has seeded the database the queries read)."""
    log = tmp_path_factory.mktemp("overload") / "serve.log"
    async with served(
        database_url,
        log,
        MAX_REQUESTS_IN_FLIGHT="2",
        OVERLOAD_RETRY_AFTER_SECONDS="2",
        BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT),
        LOG_LEVEL="WARNING",
    ) as server:
        yield server


def post_head(length: int) -> bytes:
    return (
        "POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nConnection: close\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def start_upload(port: int) -> tuple[socket.socket, bytes]:
    """A query whose body is half sent: the server is handling it, waiting for the rest."""
    body = json.dumps({"query": QUERY}).encode()
    sock = connect(port)
    sock.sendall(post_head(len(body)) + body[:10])
    return sock, body[10:]


def refused_then_kept(port: int) -> bool:
    """Whether a query refused with 503 leaves its connection open for the next request."""
    body = json.dumps({"query": QUERY}).encode()
    head = post_head(len(body)).replace(b"Connection: close\r\n", b"")
    with connect(port) as sock:
        sock.sendall(head + body)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            chunk = sock.recv(65536)
            assert chunk, f"the server closed the connection after {answer[:200]!r}"
            answer += chunk
        assert status(answer) == 503
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        return status(read_all(sock)) == 200


async def test_requests_past_the_bound_are_refused_at_once(server: Server) -> None:
    uploads = [start_upload(server.port) for _ in range(2)]
    try:
        await asyncio.sleep(0.3)  # both heads have been read: two requests in flight
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            started = time.monotonic()
            refused = await http.post("/graphql", json={"query": QUERY})
            assert time.monotonic() - started < 0.5, "refused at once, not after queueing"
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "2"
            [error] = refused.json()["errors"]
            assert error["extensions"] == {"code": "OVERLOADED"}
            assert "2 requests" in error["message"]
            for probe in ("/healthz", "/readyz", "/metrics"):  # a busy replica is still alive
                assert (await http.get(probe)).status_code == 200, probe
            # A refused client keeps its connection: no reconnecting into a busy server.
            assert await asyncio.to_thread(refused_then_kept, server.port)

            answers = []
            for sock, rest in uploads:
                sock.sendall(rest)
                answers.append(await asyncio.to_thread(read_all, sock))
            for answer in answers:  # the two in flight were not disturbed
                assert status(answer) == 200, answer[:300]
                assert json.loads(answer.partition(b"\r\n\r\n")[2])["data"] == GSP
            # Their slots are free again.
            admitted = await http.post("/graphql", json={"query": QUERY})
            assert admitted.status_code == 200, admitted.text
            assert admitted.json()["data"] == GSP
    finally:
        for sock, _ in uploads:
            sock.close()


async def test_a_body_that_trickles_is_cut_off_at_the_body_timeout(server: Server) -> None:
    """One byte every 0.25 s: the body is timed as a whole, not byte by byte."""
    with connect(server.port) as sock:
        sock.sendall(post_head(200))
        started = time.monotonic()
        for _ in range(40):  # 10 s at most
            try:
                sock.sendall(b" ")
            except OSError:
                break
            if await asyncio.to_thread(closed_or_answering, sock, 0.25):
                break
        elapsed = time.monotonic() - started
        answer = read_all(sock)
    assert BODY_TIMEOUT * 0.9 < elapsed < BODY_TIMEOUT + 1.5, elapsed
    assert status(answer) == 408, answer[:300]
    assert error_code(answer) == "REQUEST_TIMEOUT"
    assert header(answer, "connection") == "close"


async def test_a_body_the_app_does_not_read_does_not_hold_the_connection(
    server: Server,
) -> None:
    """A GET answered without its announced body: the server closes instead of waiting."""
    head = (
        "GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: test\r\n"
        "Accept: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    with connect(server.port) as sock:
        sock.sendall(head.encode())
        assert await asyncio.to_thread(closed_within, sock, 2.0)
    # The answer itself came before the close.
    with connect(server.port) as sock:
        sock.sendall(head.encode())
        answer = await asyncio.to_thread(read_all, sock)
    assert status(answer) == 200
    assert header(answer, "connection") == "close"
