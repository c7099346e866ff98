"""What a real `soilapi serve` writes on a connection: a response's head and body together.

uvicorn writes a response's head when the app starts it and its body after: two writes, each
a system call that delivers the bytes and wakes the client. The server's protocol sends the
head with the body (soilapi.http.server), so a client blocked on its socket wakes once, and
reads the whole response in one read.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from serving import Server, connect, served, status

QUERY = '{ organization(slug: "gsp") { name } }'


@pytest.fixture(scope="module")
async def server(
    database_url: str, engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    """`soilapi serve` on the seeded test database."""
    log = tmp_path_factory.mktemp("wire") / "serve.log"
    async with served(database_url, log, LOG_LEVEL="WARNING") as server:
        yield server


def first_read(sock: socket.socket, request: bytes) -> bytes:
    """Send a request and return the first read of its answer (the client blocked on it)."""
    sock.sendall(request)
    return sock.recv(1 << 20)


def whole(answer: bytes) -> bool:
    """Whether `answer` holds a complete response: its head and its body, to Content-Length."""
    head, _, body = answer.partition(b"\r\n\r\n")
    length = header_length(head)
    return length is not None and len(body) == length


def test_a_response_arrives_in_one_read(server: Server) -> None:
    body = json.dumps({"query": QUERY}).encode()
    post = (
        b"POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    get = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"
    with connect(server.port) as sock:
        # On one kept-alive connection, as a client sends one request after another. (Sent
        # in two writes, a head and its body may still come in one read, when the client
        # reads late: ten requests leave that little chance.)
        answers = [first_read(sock, request) for request in [post, get] * 5]
    assert [status(answer) for answer in answers] == [200] * 10
    assert all(whole(answer) for answer in answers), answers
    assert b"Global Soil Partnership" in answers[-2]


def read_response(sock: socket.socket) -> bytes:
    """One response read to its end: to Content-Length, or to the last chunk."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(1 << 16)
        assert more, "the server closed before the response's head ended"
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    chunked = b"transfer-encoding: chunked" in head.lower()
    length = header_length(head)
    while (chunked and not body.endswith(b"0\r\n\r\n")) or (
        not chunked and length is not None and len(body) < length
    ):
        more = sock.recv(1 << 16)
        assert more, "the server closed before the response ended"
        body += more
    return head + b"\r\n\r\n" + body


def header_length(head: bytes) -> int | None:
    """The head's Content-Length, if it has exactly one."""
    lengths = [
        line.split(b":", 1)[1]
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    ]
    return int(lengths[0]) if len(lengths) == 1 else None


def test_answers_without_a_body_and_streamed_bodies_arrive_whole(server: Server) -> None:
    """A head with no body after it (HEAD, 304) is not held back, and a streamed body (the
    export) follows its head chunk by chunk, on one kept-alive connection."""
    get = b"GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: test\r\n\r\n"
    with connect(server.port, timeout=5.0) as sock:
        sock.sendall(b"HEAD / HTTP/1.1\r\nHost: test\r\n\r\n")
        head = sock.recv(1 << 16)
        assert status(head) == 200
        assert head.endswith(b"\r\n\r\n")
        sock.sendall(get)
        first = read_response(sock)
        etag = next(
            line.split(b":", 1)[1].strip()
            for line in first.split(b"\r\n")
            if line.lower().startswith(b"etag:")
        )
        sock.sendall(get.replace(b"\r\n\r\n", b"\r\nIf-None-Match: " + etag + b"\r\n\r\n"))
        assert status(read_response(sock)) == 304
        sock.sendall(b"GET /export.jsonl HTTP/1.1\r\nHost: test\r\n\r\n")
        export = read_response(sock)
    assert status(export) == 200
    lines = export.partition(b"\r\n\r\n")[2].split(b"\n")
    assert any(b"Global Soil Partnership" in line for line in lines)
