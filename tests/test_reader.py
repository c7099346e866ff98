"""A request's reader outlives no request: closing it waits for a read still running (a
sibling of a field that failed), and later reads fail at once instead of touching a closed
session."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.app import read_sessions
from soilapi.db.session import RequestFinished, reading


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
