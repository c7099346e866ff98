"""A request's reader outlives no request: closing it waits for a read still running (a
sibling of a field that failed), and later reads fail at once instead of touching a closed
session."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.app import read_sessions
from soilapi.db.session import Prepared, RequestFinished, reading


@pytest.mark.parametrize("ticks", [1, 2, 3, 5, 8])
async def test_closing_waits_for_the_read_in_flight(engine: AsyncEngine, ticks: int) -> None:
    """Whatever step the read has reached (waiting for the lock, taking a connection,
    running), the end of the request lets it finish and then closes the session."""
    async with reading(read_sessions(engine)) as reader:
        slow = asyncio.ensure_future(reader.execute(sa.text("select pg_sleep(0.05), 7")))
        for _ in range(ticks):
            await asyncio.sleep(0)
    result = await slow
    assert result.all()[0][1] == 7
    assert reader.closed


async def test_a_read_after_the_end_fails_at_once(engine: AsyncEngine) -> None:
    async with reading(read_sessions(engine)) as reader:
        pass
    with pytest.raises(RequestFinished):
        await reader.execute(sa.text("select 1"))
    checked_out = engine.pool.checkedout()  # type: ignore[attr-defined]
    assert checked_out == 0, "a read after the end must not take a connection"


@pytest.mark.parametrize("ticks", [1, 2, 4, 8, 16])
async def test_a_read_cancelled_halfway_never_returns_its_connection_to_the_pool(
    engine: AsyncEngine, ticks: int
) -> None:
    """graphql-core cancels the siblings of a failed field: whatever step such a read had
    reached, no connection goes back to the pool inside a transaction."""
    dirty: list[bool] = []

    def checkin(dbapi: Any, _record: Any) -> None:
        if dbapi is not None:  # None: the connection was discarded, not pooled
            dirty.append(dbapi._connection.is_in_transaction())

    event.listen(engine.sync_engine.pool, "checkin", checkin)
    try:
        async with reading(read_sessions(engine)) as reader:
            query = Prepared(sa.select(sa.func.pg_sleep(0.05)))
            read = asyncio.ensure_future(reader.fetch(query, {}))
            for _ in range(ticks):
                await asyncio.sleep(0)
            read.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await read
    finally:
        event.remove(engine.sync_engine.pool, "checkin", checkin)
    assert not any(dirty)
    async with engine.connect() as conn:  # the pool still serves working connections
        assert (await conn.execute(sa.text("select 1"))).scalar_one() == 1
