"""The shared data-version read that lets a cache hit skip the request's session."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.db.probe import ProbeUnavailable, SharedRead
from soilapi.db.session import connect_args
from soilapi.repositories.cache import bump_data_version, version_probe
from soilapi.settings import Settings


async def connected(probe: SharedRead) -> None:
    """Start the background connect and wait until reads are served."""
    for _ in range(200):
        try:
            await probe.read()
            return
        except ProbeUnavailable:
            await asyncio.sleep(0.01)
    raise AssertionError("the probe never connected")


async def test_concurrent_reads_share_statements_and_see_every_write(engine: AsyncEngine) -> None:
    probe = version_probe(engine, connect_args(Settings(database_url="postgresql://unused")))
    try:
        await connected(probe)
        before = probe.reads
        values = await asyncio.gather(*(probe.read() for _ in range(50)))
        # 50 callers at once: the one read in flight when they asked, and one after it.
        assert probe.reads - before <= 2
        assert len(set(values)) == 1
        async with engine.begin() as conn:
            bumped = await bump_data_version(conn)
        # Asked after the write committed: never the value before it.
        assert await probe.read() == bumped
    finally:
        await probe.close()


async def test_an_unreachable_database_never_makes_a_read_wait(silent_url: str) -> None:
    probe = SharedRead(silent_url, "SELECT 1", {"timeout": 1})
    try:
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(ProbeUnavailable):
                await probe.read()
            assert time.monotonic() - started < 0.1
        await asyncio.sleep(1.2)  # the background connect has timed out by now
        started = time.monotonic()
        with pytest.raises(ProbeUnavailable):
            await probe.read()
        assert time.monotonic() - started < 0.1
        assert probe.reads == 0
    finally:
        await probe.close()
