"""Connections for a request's only statement, taken and given back in microseconds.

A compiled request usually runs one statement, outside any transaction (see
Reader.fetch's `alone`). Taken from SQLAlchemy's pool and given back, its connection cost as
much of the server's CPU as sending the statement: two greenlet switches, the pool's queue
and lock, its checkout and checkin events and its reset on return, about a sixth of a small
list's time in the server. asyncpg's own pool is cheaper, but it gives every connection back
through `asyncio.shield`, a task per request, which kept only half of the saving (measured
in-process on the bench's filtered list: SQLAlchemy's pool 1.00, asyncpg's 0.91, this 0.82).

So idle connections wait on a stack: the one given back last, whose statements are prepared
and whose pages are warm, is the next one taken. Each is made by the engine's pool, and so
set up exactly like the engine's other connections (connect arguments, codecs, the idle
ping), then detached from it: the pool no longer counts it. At most the pool's size wait
idle; one beyond that, given back after a burst, is closed. How many are in use at once is
bounded by the requests the app admits (soilapi.http.admission), as for the pool.

The leases of an engine live as long as its pool: `Engine.dispose` closes them.
"""

from __future__ import annotations

import logging
import time
import weakref
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool
from sqlalchemy.util import greenlet_spawn

log = logging.getLogger(__name__)

# A connection idle this long is pinged before it is used: it may have died meanwhile (a
# restart). The engine's pool waits as long (session.ping_when_idle, which reads this).
IDLE_BEFORE_PING_SECONDS = 1.0


class Leases:
    """The idle connections of one engine's pool kept for one-statement reads; see the
    module."""

    def __init__(self, engine: AsyncEngine, keep: int) -> None:
        """`keep`: how many idle connections to keep (the pool's size)."""
        self._engine = engine
        self._keep = keep
        self._idle: list[tuple[Any, float]] = []  # (asyncpg connection, idle since)
        self.busy = 0  # taken and not yet given back: other requests reading, to the Reader
        self._closed = False

    @property
    def idle(self) -> int:
        """How many connections wait to be taken."""
        return len(self._idle)

    async def take(self) -> Any:
        """An asyncpg connection of the request's own until `give_back`; a new one when none
        is idle (its errors are the engine's: a DBAPIError when the database cannot be
        reached)."""
        while self._idle:
            driver, since = self._idle.pop()
            if time.monotonic() - since < IDLE_BEFORE_PING_SECONDS or await _alive(driver):
                break
        else:
            driver = await self._connect()
        self.busy += 1
        return driver

    def give_back(self, driver: Any, *, sound: bool) -> None:
        """Take `driver` back; `sound` says its last statement ended (well or with an error
        PostgreSQL reported), so it holds no statement still running and no transaction. One
        that is not sound is closed, since nobody knows its state."""
        self.busy -= 1
        if not sound or self._closed or len(self._idle) >= self._keep or driver.is_closed():
            driver.terminate()
            return
        self._idle.append((driver, time.monotonic()))

    def close(self) -> None:
        """Close the idle connections; those in use are closed when given back."""
        self._closed = True
        idle, self._idle = self._idle, []
        for driver, _ in idle:
            driver.terminate()

    async def _connect(self) -> Any:
        pooled = await self._engine.raw_connection()
        try:
            await greenlet_spawn(pooled.detach)
        except BaseException:
            await greenlet_spawn(pooled.invalidate)
            raise
        return pooled.dbapi_connection._connection  # type: ignore[union-attr]


async def _alive(driver: Any) -> bool:
    """Whether an idle connection still answers; a dead one is closed, and so is one whose
    ping was cut off (the request was cancelled): nobody knows its state."""
    if not driver.is_closed():
        try:
            await driver.fetchrow(";")  # SQLAlchemy's own ping for asyncpg
            return True
        except Exception:  # as the engine's pool judges a ping (session.ping_when_idle)
            # A backend ended while idle may fail it with any of asyncpg's errors, even an
            # InternalClientError about the protocol's state.
            log.info("an idle connection is dead; opening another", exc_info=True)
        except BaseException:
            driver.terminate()
            raise
    driver.terminate()
    return False


_OF_POOL: weakref.WeakKeyDictionary[Pool, Leases] = weakref.WeakKeyDictionary()


def of(engine: AsyncEngine) -> Leases:
    """The leases of `engine`'s pool (shared by the engines made from it with
    `execution_options`), made at the first call."""
    sync = engine.sync_engine
    pool = sync.pool
    found = _OF_POOL.get(pool)
    if found is None:
        size = pool.size() if hasattr(pool, "size") else 0  # NullPool keeps nothing
        made = _OF_POOL[pool] = Leases(engine, size)

        def disposed(_: Engine) -> None:
            _OF_POOL.pop(pool, None)
            made.close()

        event.listen(_base(sync), "engine_disposed", disposed, once=True)
        found = made
    return found


def _base(engine: Engine) -> Engine:
    """The engine whose `dispose` replaces the pool (an option engine's proxied one)."""
    while (proxied := getattr(engine, "_proxied", None)) is not None:
        engine = proxied
    return engine
