"""Pooled connections: one that died while idle is replaced before a request can use it."""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from soilapi.db import session
from soilapi.db.probe import plain_dsn
from soilapi.db.session import create_engine
from soilapi.settings import Settings


async def _kill_the_pooled_connection(engine: sa.ext.asyncio.AsyncEngine) -> None:
    async with engine.connect() as conn:
        pid = (await conn.execute(sa.text("select pg_backend_pid()"))).scalar_one()
    killer = await asyncpg.connect(plain_dsn(engine))
    try:
        await killer.execute("select pg_terminate_backend($1)", pid)
    finally:
        await killer.close()


async def test_a_connection_that_died_while_idle_is_replaced_unseen(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(Settings(database_url=database_url))
    try:
        monkeypatch.setattr(session, "IDLE_BEFORE_PING_SECONDS", 0.0)  # idle at once
        await _kill_the_pooled_connection(engine)
        async with engine.connect() as conn:
            assert (await conn.execute(sa.text("select 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_a_connection_in_steady_use_is_not_pinged(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the idle check the dead connection reaches the statement: the ping above is
    what spared the request (and busy connections skip the round trip)."""
    engine = create_engine(Settings(database_url=database_url))
    try:
        monkeypatch.setattr(session, "IDLE_BEFORE_PING_SECONDS", 3600.0)
        await _kill_the_pooled_connection(engine)
        with pytest.raises(DBAPIError):
            async with engine.connect() as conn:
                await conn.execute(sa.text("select 1"))
    finally:
        await engine.dispose()
