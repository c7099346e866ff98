"""The change feed's ordering guarantee, with real concurrent transactions on PostgreSQL.

A slow writer records a revision and does not commit; a second writer records and commits
meanwhile; a reader pages the feed. Revision ids are taken while the data version's row lock
is held (soilapi.repositories.history.record), so the second writer waits for the first, and
no commit can land below a cursor the reader already holds: from that cursor, the reader
sees both changes, once each, in commit order.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from conftest import Api
from soilapi.db.history import Revision
from soilapi.db.models import Entity
from soilapi.graphql import ids
from soilapi.graphql.pagination import feed_cursor
from soilapi.repositories.history import NewRevision, Recorded, record
from soilapi.vocab import Operation

FEED = """
query($after: String) { changes(after: $after, first: 100) {
  pageInfo { hasNextPage endCursor } edges { cursor node { target number } } } }
"""
WAIT = 10.0  # seconds any step may take before the test fails instead of hanging


def update(target: uuid.UUID, actor: str) -> NewRevision:
    return NewRevision(
        target_id=target,
        kind="organization",
        operation=Operation.UPDATE,
        diff={"description": ["before", f"after, by {actor}"]},
        actor=f"key:{actor}",
        actor_role="curator",
    )


@pytest.fixture
async def targets(engine: AsyncEngine) -> AsyncIterator[dict[str, uuid.UUID]]:
    """FAO and the ITPS, put back as they were (revisions, numbers, times) afterwards."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(Entity.slug, Entity.id, Entity.revision, Entity.updated_at).where(
                    Entity.slug.in_(["fao", "itps"])
                )
            )
        ).all()
        last = await conn.scalar(sa.select(sa.func.coalesce(sa.func.max(Revision.id), 0)))
    yield {row.slug: row.id for row in rows}
    async with engine.begin() as conn:
        await conn.execute(sa.delete(Revision).where(Revision.id > last))
        for row in rows:
            await conn.execute(
                sa.update(Entity)
                .where(Entity.id == row.id)
                .values(revision=row.revision, updated_at=row.updated_at)
            )


async def _follow(api: Api, after: str) -> tuple[list[Any], str]:
    """Every change after `after`, and the cursor to poll with next."""
    seen: list[Any] = []
    while True:
        page = (await api.data(FEED, {"after": after}))["changes"]
        seen += page["edges"]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return seen, after


async def _second_writer(engine: AsyncEngine, target: uuid.UUID) -> list[Recorded]:
    async with engine.begin() as conn:
        await conn.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
        return await record(conn, [update(target, "fast")])


async def test_a_slow_writer_never_commits_below_a_held_cursor(
    engine: AsyncEngine, api: Api, targets: dict[str, uuid.UUID]
) -> None:
    _, start = await _follow(api, feed_cursor(0))
    slow: AsyncConnection = await engine.connect()
    try:
        transaction = await slow.begin()
        [first] = await asyncio.wait_for(record(slow, [update(targets["fao"], "slow")]), WAIT)
        fast = asyncio.create_task(_second_writer(engine, targets["itps"]))
        # The fast writer waits for the slow one's lock: it neither commits nor takes an id.
        done, _ = await asyncio.wait({fast}, timeout=0.5)
        assert not done, "the second writer recorded while the first was open"
        # The reader sees neither uncommitted change, and holds the cursor it was given.
        seen, held = await _follow(api, start)
        assert seen == []
        assert held == start
        await asyncio.wait_for(transaction.commit(), WAIT)
    finally:
        await slow.close()
    [second] = await asyncio.wait_for(fast, WAIT)
    assert second.id > first.id, "the second writer's id was taken before the first committed"
    # From the cursor held before either commit: both changes, once each, in commit order.
    seen, _ = await _follow(api, held)
    fao, itps = (ids.encode("Organization", targets[slug]) for slug in ("fao", "itps"))
    assert [(e["cursor"], e["node"]) for e in seen] == [
        (feed_cursor(first.id), {"target": fao, "number": first.number}),
        (feed_cursor(second.id), {"target": itps, "number": second.number}),
    ]
    # And the cursor after them is where the feed ends: nothing more, nothing twice.
    again, _ = await _follow(api, seen[-1]["cursor"])
    assert again == []


async def test_a_rolled_back_writer_leaves_no_change_and_blocks_no_one(
    engine: AsyncEngine, api: Api, targets: dict[str, uuid.UUID]
) -> None:
    _, start = await _follow(api, feed_cursor(0))
    slow = await engine.connect()
    try:
        transaction = await slow.begin()
        await asyncio.wait_for(record(slow, [update(targets["fao"], "slow")]), WAIT)
        fast = asyncio.create_task(_second_writer(engine, targets["itps"]))
        done, _ = await asyncio.wait({fast}, timeout=0.5)
        assert not done
        await asyncio.wait_for(transaction.rollback(), WAIT)
    finally:
        await slow.close()
    [second] = await asyncio.wait_for(fast, WAIT)
    seen, _ = await _follow(api, start)
    # The rolled-back id is a gap the feed steps over; the committed change is seen once.
    assert [e["cursor"] for e in seen] == [feed_cursor(second.id)]
