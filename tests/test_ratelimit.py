"""Rate limiting: token buckets in PostgreSQL, charged by query cost, shared by all processes.

Time is passed in (`at=`) instead of slept through, and every test uses its own bucket key.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.db.ratelimit import RateLimitBucket
from soilapi.db.session import create_engine
from soilapi.services.ratelimit import (
    RateDecision,
    RateLimitUnavailable,
    charge,
    client_key,
    headers,
    prune,
)
from soilapi.settings import Settings

T0 = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
# 100 points, refilled at 60 a minute: one point a second keeps the arithmetic readable.
SETTINGS = Settings(rate_limit_capacity=100, rate_limit_refill_per_minute=60)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def key() -> str:
    return f"test:{uuid.uuid4().hex}"


@pytest.fixture
async def second_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """Another engine with its own pool: a second server process, as far as PostgreSQL sees."""
    engine = create_engine(Settings(database_url=database_url), database_url)
    yield engine
    await engine.dispose()


async def test_a_new_client_starts_with_a_full_bucket(engine: AsyncEngine, key: str) -> None:
    decision = await charge(engine, key, 30, SETTINGS, at=at(0))
    assert decision == RateDecision(
        allowed=True, limit=100, remaining=70, reset_seconds=30, retry_after_seconds=None, cost=30
    )


async def test_refused_when_the_bucket_holds_less_than_the_cost(
    engine: AsyncEngine, key: str
) -> None:
    assert (await charge(engine, key, 90, SETTINGS, at=at(0))).allowed
    refused = await charge(engine, key, 25, SETTINGS, at=at(0))
    assert not refused.allowed
    assert refused.remaining == 10  # a refused request is not charged
    assert refused.retry_after_seconds == 15  # 15 more points at one a second
    assert "costs 25 points" in refused.message
    assert "Retry in 15 s" in refused.message
    # A cheaper request still fits.
    assert (await charge(engine, key, 10, SETTINGS, at=at(0))).remaining == 0


async def test_the_bucket_refills_over_time_up_to_its_capacity(
    engine: AsyncEngine, key: str
) -> None:
    await charge(engine, key, 100, SETTINGS, at=at(0))
    assert not (await charge(engine, key, 20, SETTINGS, at=at(10))).allowed
    later = await charge(engine, key, 20, SETTINGS, at=at(25))  # 25 points back
    assert later.allowed
    assert later.remaining == 5
    assert later.reset_seconds == 95
    idle = await charge(engine, key, 1, SETTINGS, at=at(10_000))  # never above capacity
    assert idle.remaining == 99


async def test_a_clock_going_backwards_refills_nothing(engine: AsyncEngine, key: str) -> None:
    await charge(engine, key, 50, SETTINGS, at=at(100))
    assert (await charge(engine, key, 10, SETTINGS, at=at(0))).remaining == 40


async def test_a_query_dearer_than_the_bucket_runs_on_a_full_one(
    engine: AsyncEngine, key: str
) -> None:
    first = await charge(engine, key, 250, SETTINGS, at=at(0))
    assert first.allowed
    assert first.remaining == 0
    second = await charge(engine, key, 250, SETTINGS, at=at(1))
    assert not second.allowed
    assert second.retry_after_seconds == 99


async def test_two_processes_share_one_bucket(
    engine: AsyncEngine, second_engine: AsyncEngine, key: str
) -> None:
    assert (await charge(engine, key, 60, SETTINGS, at=at(0))).remaining == 40
    assert (await charge(second_engine, key, 30, SETTINGS, at=at(0))).remaining == 10
    assert not (await charge(engine, key, 20, SETTINGS, at=at(0))).allowed
    assert (await charge(second_engine, key, 20, SETTINGS, at=at(10))).allowed


async def test_concurrent_charges_from_two_processes_lose_no_update(
    engine: AsyncEngine, second_engine: AsyncEngine, key: str
) -> None:
    settings = Settings(rate_limit_capacity=30, rate_limit_refill_per_minute=60)
    engines = [engine, second_engine] * 25
    decisions = await asyncio.gather(*(charge(e, key, 1, settings, at=at(0)) for e in engines))
    assert sum(d.allowed for d in decisions) == 30
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(30))


async def test_disabled_rate_limiting_allows_everything_without_the_database() -> None:
    settings = Settings(rate_limit_enabled=False, rate_limit_capacity=10)
    unreachable = create_engine(settings, "postgresql://nobody@127.0.0.1:1/none")
    decision = await charge(unreachable, "ip:1.2.3.4", 50, settings)
    assert decision.allowed
    assert decision.remaining == 10
    await unreachable.dispose()


async def test_an_unreachable_database_is_a_clear_error() -> None:
    unreachable = create_engine(SETTINGS, "postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(RateLimitUnavailable, match="did not answer"):
        await charge(unreachable, "ip:1.2.3.4", 1, SETTINGS)
    await unreachable.dispose()


async def test_prune_drops_only_buckets_that_are_full_again(engine: AsyncEngine) -> None:
    idle, busy = f"test:{uuid.uuid4().hex}", f"test:{uuid.uuid4().hex}"
    far = at(10**8)  # after every other test's buckets
    await charge(engine, idle, 50, SETTINGS, at=far)
    await charge(engine, busy, 50, SETTINGS, at=far + timedelta(seconds=60))
    # 101 s later the idle bucket is full again (50 + 101 points); the busy one holds 91.
    assert await prune(engine, SETTINGS, at=far + timedelta(seconds=101)) >= 1
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(RateLimitBucket.key).where(RateLimitBucket.key.in_([idle, busy]))
        )
        assert set(rows.scalars()) == {busy}
    # A pruned bucket comes back full, exactly as it would have been.
    later = far + timedelta(seconds=101)
    assert (await charge(engine, idle, 0, SETTINGS, at=later)).remaining == 100
    assert (await charge(engine, busy, 0, SETTINGS, at=later)).remaining == 91


def test_headers_follow_the_ietf_ratelimit_fields() -> None:
    allowed = RateDecision(True, 5000, 4990, 10, None, 10)
    assert headers(allowed) == {
        "RateLimit-Limit": "5000",
        "RateLimit-Remaining": "4990",
        "RateLimit-Reset": "10",
    }
    refused = RateDecision(False, 5000, 3, 60, 2, 200)
    assert headers(refused)["Retry-After"] == "2"


def test_client_key_is_a_known_api_key_else_the_network() -> None:
    settings = Settings(rate_limit_api_keys="alpha, beta")
    assert client_key("alpha", "10.0.0.1", settings) == client_key("alpha", "10.9.9.9", settings)
    assert client_key("alpha", "10.0.0.1", settings).startswith("key:")
    assert "alpha" not in client_key("alpha", "10.0.0.1", settings)  # stored hashed
    # An invented key is ignored: it must not buy a fresh bucket.
    assert client_key("made-up", "10.0.0.1", settings) == "ip:10.0.0.1"
    assert client_key(None, "2001:db8:1:2:3:4:5:6", settings) == "ip:2001:db8:1:2::/64"
    assert client_key(None, "2001:db8:1:2::9", settings) == "ip:2001:db8:1:2::/64"
    assert client_key(None, "::ffff:192.0.2.7", settings) == "ip:192.0.2.7"
    assert client_key(None, None, settings) == "ip:unknown"
