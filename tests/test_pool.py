"""Pooled and leased connections: one that died while idle is replaced before a request can
use it, and disposing of the engine closes them all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.db import leases
from soilapi.db.probe import plain_dsn
from soilapi.db.session import Prepared, create_engine, read_only, reading
from soilapi.settings import Settings


@pytest.fixture
async def own_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of the test's own: ending its connections touches no other test's."""
    engine = create_engine(Settings(database_url=database_url))
    yield engine
    await engine.dispose()


async def _terminate(engine: AsyncEngine, pid: int) -> None:
    """End the backend `pid` from another connection, as a restart or an admin would."""
    killer = await asyncpg.connect(plain_dsn(engine))
    try:
        await killer.execute("select pg_terminate_backend($1)", pid)
    finally:
        await killer.close()


async def _kill_the_pooled_connection(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        pid = (await conn.execute(sa.text("select pg_backend_pid()"))).scalar_one()
    await _terminate(engine, pid)


async def test_a_connection_that_died_while_idle_is_replaced_unseen(
    own_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leases, "IDLE_BEFORE_PING_SECONDS", 0.0)  # idle at once
    await _kill_the_pooled_connection(own_engine)
    async with own_engine.connect() as conn:
        assert (await conn.execute(sa.text("select 1"))).scalar_one() == 1


async def test_a_connection_in_steady_use_is_not_pinged(
    own_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the idle check the dead connection reaches the statement: the ping above is
    what spared the request (and busy connections skip the round trip)."""
    monkeypatch.setattr(leases, "IDLE_BEFORE_PING_SECONDS", 3600.0)
    await _kill_the_pooled_connection(own_engine)
    with pytest.raises(DBAPIError):
        async with own_engine.connect() as conn:
            await conn.execute(sa.text("select 1"))


PID = Prepared(sa.select(sa.func.pg_backend_pid()))


async def _lone_pid(engine: AsyncEngine) -> int:
    """The backend that answered a one-statement read (on a leased connection)."""
    async with reading(read_only(engine)) as reader:
        [(pid,)] = await reader.fetch(PID, {}, alone=True)
    return int(pid)


async def test_a_lease_that_died_while_idle_is_replaced_unseen(
    own_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leases, "IDLE_BEFORE_PING_SECONDS", 0.0)  # idle at once
    dead = await _lone_pid(own_engine)
    await _terminate(own_engine, dead)
    assert await _lone_pid(own_engine) != dead
    assert leases.of(own_engine).busy == 0


async def test_a_lease_in_steady_use_is_not_pinged(
    own_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the idle check the dead connection reaches the statement, which fails; the
    connection is then closed, not leased again, and the next read gets a new one."""
    monkeypatch.setattr(leases, "IDLE_BEFORE_PING_SECONDS", 3600.0)
    dead = await _lone_pid(own_engine)
    await _terminate(own_engine, dead)
    # Which error depends on what asyncpg had read of the backend's end: a closed
    # connection, or its FATAL message arriving in the middle of the statement.
    with pytest.raises((asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)):
        await _lone_pid(own_engine)
    assert await _lone_pid(own_engine) != dead


async def test_disposing_of_the_engine_closes_its_leases(database_url: str) -> None:
    engine = create_engine(Settings(database_url=database_url))
    pid = await _lone_pid(engine)
    await engine.dispose()
    watcher = await asyncpg.connect(plain_dsn(engine))
    try:
        alive = "select count(*) from pg_stat_activity where pid = $1"
        for _ in range(100):  # the backend ends a moment after its client hangs up
            if not await watcher.fetchval(alive, pid):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the leased connection outlived the engine")
    finally:
        await watcher.close()
