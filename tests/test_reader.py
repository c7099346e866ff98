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

from soilapi.db import leases, session
from soilapi.db.session import Prepared, RequestFinished, read_only, reading


@pytest.mark.parametrize("ticks", [1, 2, 3, 5, 8])
async def test_closing_waits_for_the_read_in_flight(engine: AsyncEngine, ticks: int) -> None:
    """Whatever step the read has reached (waiting for the lock, taking a connection,
    running), the end of the request lets it finish and then closes the session."""
    async with reading(read_only(engine)) as reader:
        slow = asyncio.ensure_future(reader.execute(sa.text("select pg_sleep(0.05), 7")))
        for _ in range(ticks):
            await asyncio.sleep(0)
    result = await slow
    assert result.all()[0][1] == 7
    assert reader.closed


async def test_a_read_after_the_end_fails_at_once(engine: AsyncEngine) -> None:
    async with reading(read_only(engine)) as reader:
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
        async with reading(read_only(engine)) as reader:
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


PID = Prepared(sa.select(sa.func.pg_backend_pid()))


async def _lone(engine: AsyncEngine, query: Prepared) -> list[Any]:
    async with reading(read_only(engine)) as reader:
        return await reader.fetch(query, {}, alone=True)


@pytest.mark.parametrize("ticks", [1, 2, 4, 8, 16])
async def test_a_lone_read_cancelled_halfway_discards_its_connection(
    engine: AsyncEngine, ticks: int
) -> None:
    """A request's only statement runs on a connection leased for it alone (no
    transaction). Cut off halfway, that connection may still be running the statement: it is
    never leased again, and the next request gets a working one."""
    lent = leases.of(engine)
    await _lone(engine, PID)  # at least one idle lease
    idle = lent.idle
    async with reading(read_only(engine)) as reader:
        query = Prepared(sa.select(sa.func.pg_sleep(0.05)))
        read = asyncio.ensure_future(reader.fetch(query, {}, alone=True))
        for _ in range(ticks):
            await asyncio.sleep(0)
        started = not read.done()
        read.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await read
    assert started
    assert lent.busy == 0
    assert lent.idle == idle - 1, "a connection cut off mid-read was leased again"
    rows = await _lone(engine, Prepared(sa.select(sa.literal(1))))
    assert [tuple(row) for row in rows] == [(1,)]


async def test_a_lone_read_that_fails_gives_its_connection_back(engine: AsyncEngine) -> None:
    """A statement PostgreSQL refuses leaves its connection sound (there is no transaction to
    abort): the error reaches the caller, and the same connection serves the next request."""
    [(before,)] = await _lone(engine, PID)
    bad = Prepared(sa.select(sa.func.cast(sa.literal("not a number"), sa.Integer)))
    with pytest.raises(Exception, match="invalid input syntax"):
        await _lone(engine, bad)
    [(after,)] = await _lone(engine, PID)
    assert after == before, "the connection was not given back"
    assert leases.of(engine).busy == 0


async def test_lone_reads_take_no_connection_from_the_pool(engine: AsyncEngine) -> None:
    """Once leased, a connection serves one-statement requests one after another without
    going back through the engine's pool (whose checkout cost as much as the statement)."""
    await _lone(engine, PID)
    checkouts: list[object] = []

    def checkout(*_: Any) -> None:
        checkouts.append(object())

    event.listen(engine.sync_engine.pool, "checkout", checkout)
    try:
        pids = {(await _lone(engine, PID))[0][0] for _ in range(5)}
    finally:
        event.remove(engine.sync_engine.pool, "checkout", checkout)
    assert checkouts == []
    assert len(pids) == 1, "the last connection given back is the next one taken"


# --- several root fields: concurrently, in one snapshot -----------------------------------

SLOW_NAME = Prepared(
    sa.select(
        sa.func.pg_sleep(0.3),
        sa.select(sa.text("name"))
        .select_from(sa.text("entities"))
        .where(sa.text("slug = 'esp'"))
        .scalar_subquery(),
    )
)


async def _warm(engine: AsyncEngine, connections: int) -> None:
    """Leave `connections` idle connections in the pool."""
    opened = [await engine.connect() for _ in range(connections)]
    for connection in opened:
        await connection.close()


@pytest.mark.parametrize("idle", [True, False], ids=["idle-pool", "busy-pool"])
async def test_root_reads_share_one_snapshot_and_run_side_by_side(
    engine: AsyncEngine, idle: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that has begun reading, then another client renames a record, then the
    request's three root reads: all three see the name as the request first saw it, and with
    idle connections in the pool they take about one read's time, not three."""
    await _warm(engine, 4)
    if not idle:
        monkeypatch.setattr(engine.pool, "checkedin", lambda: 0)
    rename = sa.text("UPDATE entities SET name = :name WHERE slug = 'esp'")
    try:
        async with reading(read_only(engine)) as reader:
            await reader.fetch(Prepared(sa.select(sa.literal(1))), {})  # the snapshot begins
            async with engine.begin() as conn:
                await conn.execute(rename, {"name": "Renamed meanwhile"})
            started = asyncio.get_running_loop().time()
            found = await reader.fetch_each([(SLOW_NAME, {})] * 3)
            took = asyncio.get_running_loop().time() - started
    finally:
        async with engine.begin() as conn:
            await conn.execute(rename, {"name": "European Soil Partnership"})
    assert [rows[0][1] for rows in found] == ["European Soil Partnership"] * 3
    if idle:
        assert took < 0.6, f"{took:.2f} s: the reads ran one after another"
    else:
        assert took >= 0.9  # no idle connection: one after another on the request's own
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_quick_reads_run_one_after_another_on_the_requests_connection(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Side by side, each read beyond the first costs a connection and three round trips:
    reads known to take little in all run on the request's own connection. (The bar is
    raised to 0.2 s here, so that a busy test machine cannot make `SELECT 1` look slow.)"""
    monkeypatch.setattr(session, "SIDE_BY_SIDE_SECONDS", 0.2)
    await _warm(engine, 4)
    quick = Prepared(sa.select(sa.literal(1)))
    checkouts: list[object] = []

    def checkout(*_: Any) -> None:
        checkouts.append(object())

    async def read_three() -> int:
        checkouts.clear()
        async with reading(read_only(engine)) as reader:
            found = await reader.fetch_each([(quick, {})] * 3)
        assert [rows[0][0] for rows in found] == [1, 1, 1]
        return len(checkouts)

    event.listen(engine.sync_engine.pool, "checkout", checkout)
    try:
        first = await read_three()  # never run before: it may be slow, side by side
        assert quick.seconds is not None
        assert quick.seconds < 0.1
        assert first == 3
        assert await read_three() == 1  # known to be quick
    finally:
        event.remove(engine.sync_engine.pool, "checkout", checkout)


async def test_a_long_compiled_statement_is_prepared_once_per_connection(
    engine: AsyncEngine,
) -> None:
    """A compiled front-end page is often over asyncpg's 15 KiB default for what it keeps
    prepared; left unprepared, PostgreSQL parsed and planned it on every request (4-10 ms).
    Now it is prepared on first use and only bound after that."""
    long = Prepared(sa.select(sa.literal_column("'" + "x" * 20_000 + "'").label("page")))
    async with reading(read_only(engine)) as reader:
        for _ in range(3):
            rows = await reader.fetch(long, {})
            assert len(rows[0][0]) == 20_000
        held = await reader.fetch_text(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements"
            " WHERE position(repeat('x', 20000) IN statement) > 0",
            [],
        )
    assert [tuple(row) for row in held] == [(3,)], "prepared once, then run three times"
