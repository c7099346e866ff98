"""One small value read for many concurrent requests by a single statement on one connection.

A cache hit must still ask the database for the current data version (another process may
have written), but it needs nothing else from it. Through the request's session that ask is a
pool checkout with its ping, BEGIN, the SELECT and a ROLLBACK: four round trips and about a
millisecond of CPU. Here it is one statement on a dedicated connection, and concurrent callers
share it: whoever arrives while a read is running waits for the next one, which starts after
it arrived, so every caller gets a value read after it asked and none is ever stale.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
from sqlalchemy.ext.asyncio import AsyncEngine


def plain_dsn(engine: AsyncEngine) -> str:
    """The engine's database as a URL asyncpg itself accepts (no `+asyncpg` driver part)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class ProbeUnavailable(Exception):
    """No connection yet (or the last attempt failed): read the value some other way."""


class SharedRead:
    """Reads `sql` (one value) on its own connection, one read at a time, shared by callers.

    The connection is opened in the background: until it is up, and for `retry_seconds` after
    a failed attempt, `read` raises ProbeUnavailable at once rather than making a request wait
    on a connect (during an outage the request's own statements report the fault, and must
    not wait for a second connect timeout first). A failed read fails every caller waiting on
    it; each then reads the value some other way.
    """

    def __init__(
        self,
        dsn: str,
        sql: str,
        connect: dict[str, Any] | None = None,
        retry_seconds: float = 1.0,
    ) -> None:
        self.dsn = dsn
        self.sql = sql
        self.connect = connect or {}
        self.retry_seconds = retry_seconds
        # A read waits no longer than a connect may: a silent server must not hang requests.
        self.timeout = float(self.connect.get("timeout", 5))
        self._conn: Any = None
        self._connecting: asyncio.Task[None] | None = None
        self._retry_at = 0.0
        self._next: asyncio.Future[Any] | None = None
        self._running: asyncio.Task[None] | None = None
        self.reads = 0  # statements sent; tests read it

    async def read(self) -> Any:
        """The value as the database has it now (read after this call began)."""
        if self._conn is None or self._conn.is_closed():
            self._connect_soon()
            raise ProbeUnavailable
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        waiting = self._next
        if self._running is None:
            self._running = asyncio.create_task(self._serve())
        # shield: one caller giving up (a disconnect) must not cancel the read the others share
        return await asyncio.shield(waiting)

    def _connect_soon(self) -> None:
        loop = asyncio.get_running_loop()
        if self._connecting is None and loop.time() >= self._retry_at:
            self._connecting = asyncio.create_task(self._connect())

    async def _connect(self) -> None:
        try:
            self._conn = await asyncpg.connect(self.dsn, **self.connect)
        except Exception:  # the requests go on without; the next one after the pause retries
            self._retry_at = asyncio.get_running_loop().time() + self.retry_seconds
        finally:
            self._connecting = None

    async def _serve(self) -> None:
        try:
            while self._next is not None:
                waiting, self._next = self._next, None
                conn = self._conn
                try:
                    if conn is None:  # the previous read just failed
                        raise ProbeUnavailable
                    self.reads += 1
                    value = await conn.fetchval(self.sql, timeout=self.timeout)
                except Exception as exc:  # handed to every waiting caller
                    self._drop()
                    waiting.set_exception(exc)
                    waiting.exception()  # retrieved here too: nobody may be left to await it
                else:
                    waiting.set_result(value)
        finally:
            self._running = None

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._retry_at = asyncio.get_running_loop().time() + self.retry_seconds
        if conn is not None:
            conn.terminate()

    async def close(self) -> None:
        """Close the connection (at shutdown); a later read opens a new one."""
        if self._connecting is not None:
            self._connecting.cancel()
            self._connecting = None
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            await conn.close()
