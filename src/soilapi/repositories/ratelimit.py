"""SQL of the rate limiter: charge a token bucket in one atomic statement, prune idle ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from soilapi.db.ratelimit import RateLimitBucket as B


@dataclass(frozen=True)
class Bucket:
    """A bucket right after a charge."""

    tokens: float
    allowed: bool


def _now(at: datetime | None) -> sa.ColumnElement[datetime]:
    """The time of the charge: the database's clock, so every process agrees; tests pass one."""
    if at is None:
        return sa.func.now()
    return sa.literal(at, sa.DateTime(timezone=True))


async def charge(
    conn: AsyncConnection,
    key: str,
    cost: float,
    capacity: float,
    per_second: float,
    at: datetime | None = None,
) -> Bucket:
    """Refill the bucket for the time since its last charge, then take `cost` if it is there.

    One INSERT ... ON CONFLICT DO UPDATE: PostgreSQL locks the row for the update, so
    concurrent charges from any number of processes are serialised and none is lost. A new
    client starts with a full bucket. `cost` must not exceed `capacity`.
    """
    now = _now(at)
    elapsed = sa.func.greatest(0.0, sa.extract("epoch", now - B.updated_at))
    level = sa.func.least(capacity, B.tokens + elapsed * per_second)
    enough = level >= cost
    stmt = (
        insert(B)
        .values(key=key, tokens=capacity - cost, allowed=True, updated_at=now)
        .on_conflict_do_update(
            index_elements=[B.key],
            set_={
                "tokens": sa.case((enough, level - cost), else_=level),
                "allowed": enough,
                "updated_at": sa.func.greatest(B.updated_at, now),
            },
        )
        .returning(B.tokens, B.allowed)
    )
    row = (await conn.execute(stmt)).one()
    return Bucket(tokens=float(row.tokens), allowed=bool(row.allowed))


async def prune(conn: AsyncConnection, idle_seconds: float, at: datetime | None = None) -> int:
    """Delete buckets idle long enough to be full again (a missing bucket is a full one)."""
    cutoff = _now(at) - sa.func.make_interval(0, 0, 0, 0, 0, 0, idle_seconds)
    result = await conn.execute(sa.delete(B).where(B.updated_at < cutoff))
    return int(result.rowcount)
