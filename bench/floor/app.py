"""The floor's HTTP server: a raw ASGI app on uvicorn, one POST endpoint per operation.

    python -m bench.floor --dsn postgresql://... --port 8001 --introspection answer.json

It runs on the same uvicorn (uvloop, httptools) as `soilapi serve`, so the difference between
the two is GraphQL and everything around it, not the HTTP stack. Each request reads and parses
its JSON body (the node lookups take their IDs from it), borrows a pooled connection, runs its
statements and answers `{"data": ...}` encoded with json.dumps.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
import uvicorn

from bench.floor.queries import HANDLERS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
POOL_SIZE = 10  # soilapi's DB_POOL_SIZE default


async def _no_reset(_: asyncpg.Connection) -> None:
    """Hand connections back as they are: the floor sets no session state, and asyncpg's
    default reset would add a `SELECT pg_advisory_unlock_all() ...` round trip per request."""


class Floor:
    """The ASGI application."""

    def __init__(self, dsn: str, introspection: dict[str, Any]) -> None:
        self.dsn = dsn
        self.pool: asyncpg.Pool | None = None
        self.introspection = introspection

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        name = scope["path"].strip("/")
        body = await _read_body(receive)
        if name == "healthz":
            await _respond(send, 200, b'{"status":"ok"}')
            return
        if name == "introspection":
            await _respond(send, 200, json.dumps({"data": self.introspection}).encode())
            return
        handler = HANDLERS.get(name)
        if handler is None or scope["method"] != "POST" or self.pool is None:
            await _respond(send, 404, b'{"errors":[{"message":"no such operation"}]}')
            return
        variables = json.loads(body or b"{}").get("variables") or {}
        async with self.pool.acquire() as conn:
            data = await handler(conn, variables)
        await _respond(send, 200, json.dumps({"data": data}).encode())

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.pool = await asyncpg.create_pool(
                    self.dsn, min_size=POOL_SIZE, max_size=POOL_SIZE, reset=_no_reset,
                    server_settings={"jit": "off", "application_name": "bench-floor"},
                )  # fmt: skip
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    """Serve the floor until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--dsn", required=True, help="postgresql://... of the bench database")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--introspection", type=Path, required=True, help="the answer, as JSON")
    args = parser.parse_args()
    app = Floor(args.dsn, json.loads(args.introspection.read_text()))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
