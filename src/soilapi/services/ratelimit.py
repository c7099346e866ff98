"""Rate limiting by query cost: a token bucket per client, shared through PostgreSQL.

Each client (a known API key, else its IP address) has a bucket of
`rate_limit_capacity` points refilled at `rate_limit_refill_per_minute`. A request is charged
its GraphQL cost (`soilapi.graphql.limits.estimate`) before it runs; when the bucket holds
less, the request is refused with 429 and told when to retry. The bucket lives in the
database so that every server process and replica sees the same one.

CPU time has a limit of its own, in seconds (`CpuBudget`), as GitHub adds a secondary limit
on CPU time per minute: a document cheap to fetch can be costly to parse and validate, and
changing one character per request defeats every cache. The time is known once the work is
done, so it is spent from the client's budget then; a client whose budget is spent is refused
before its next document is even parsed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from soilapi.lru import Lru
from soilapi.repositories import ratelimit as repo
from soilapi.settings import Settings

log = logging.getLogger("soilapi.ratelimit")

# Idle buckets are deleted every this many charges of a process, so the table holds only
# clients seen within the last refill period (a missing bucket is a full one).
PRUNE_EVERY = 1000
_charges = itertools.count(1)


class CpuBudget:
    """Each client's CPU seconds on this process: a bucket of `burst` seconds refilled at
    `per_minute` seconds a minute, which may go below zero by the last request's cost.

    It lives in the process, not the database: the event loop whose time it guards is the
    process's own, and checking it must cost nothing. Forgetting a client (one unseen among
    the last `max_clients`) only forgives it some milliseconds; a map per address without
    bound would be the next attack.
    """

    def __init__(self, per_minute: float, burst: float, max_clients: int = 10_000) -> None:
        self.per_second = per_minute / 60
        self.burst = burst
        self._balances: Lru[str, tuple[float, float]] = Lru(
            "cpu_budgets", max_entries=max_clients, max_bytes=max_clients * 160, weigh=_bytes
        )

    def _balance(self, key: str, now: float) -> float:
        found = self._balances.get(key, count_miss=False)
        if found is None:
            return self.burst
        balance, at = found
        return min(self.burst, balance + (now - at) * self.per_second)

    def wait(self, key: str) -> float:
        """Seconds before `key` may run again: 0 while its budget is above zero."""
        balance = self._balance(key, time.monotonic())
        if balance > 0:
            return 0.0
        return -balance / self.per_second if self.per_second > 0 else math.inf

    def spend(self, key: str, seconds: float) -> None:
        """Take the CPU time a request of `key` took from its budget."""
        if seconds > 0:
            now = time.monotonic()
            self._balances.put(key, (self._balance(key, now) - seconds, now))


def _bytes(key: str, _balance: tuple[float, float]) -> int:
    return len(key) + 96


class RateLimitUnavailable(Exception):
    """The bucket could not be charged because the database did not answer."""


@dataclass(frozen=True)
class RateDecision:
    """The outcome of charging one request to its client's bucket."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after_seconds: int | None
    cost: int = 0

    @property
    def message(self) -> str:
        """What a refused client reads."""
        return (
            f"Rate limit exceeded: this query costs {self.cost} points and {self.remaining} of "
            f"{self.limit} remain; the bucket refills continuously. Retry in "
            f"{self.retry_after_seconds} s, or ask for less (smaller pages, fewer nested lists)."
        )


def client_key(api_key: str | None, client_ip: str | None, settings: Settings) -> str:
    """The bucket a request is charged to: its API key if the key is known, else its network.

    Unknown keys are ignored, since anyone can invent a fresh key per request. IPv6 clients
    are grouped by /64, the block one subscriber usually holds. Keys are hashed so that the
    table never stores a secret.
    """
    known = {key.strip() for key in settings.rate_limit_api_keys.split(",") if key.strip()}
    if api_key and api_key in known:
        return "key:" + hashlib.sha256(api_key.encode()).hexdigest()[:32]
    if not client_ip:
        return "ip:unknown"
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return "ip:" + client_ip[:100]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"ip:{address.ipv4_mapped}"
        return f"ip:{ipaddress.IPv6Network((address, 64), strict=False)}"
    return f"ip:{address}"


def _decision(bucket: repo.Bucket, cost: int, settings: Settings) -> RateDecision:
    capacity = settings.rate_limit_capacity
    per_second = settings.rate_limit_refill_per_minute / 60
    retry = None
    if not bucket.allowed:
        retry = max(1, math.ceil((cost - bucket.tokens) / per_second))
    return RateDecision(
        allowed=bucket.allowed,
        limit=capacity,
        remaining=max(0, math.floor(bucket.tokens)),
        reset_seconds=max(0, math.ceil((capacity - bucket.tokens) / per_second)),
        retry_after_seconds=retry,
        cost=cost,
    )


async def charge(
    target: AsyncEngine | AsyncConnection,
    key: str,
    cost: int,
    settings: Settings,
    *,
    at: datetime | None = None,
) -> RateDecision:
    """Charge `cost` points to the bucket `key` and say whether the request may run.

    With an engine the charge commits in its own short transaction, apart from the request's
    read-only snapshot; with a connection it runs in the caller's transaction. A cost above
    the capacity is charged as the capacity, so any query that passes the query limits can
    run once the bucket is full. `at` replaces the database clock (tests).
    """
    cost = min(max(cost, 0), settings.rate_limit_capacity)
    if not settings.rate_limit_enabled:
        full = repo.Bucket(tokens=settings.rate_limit_capacity, allowed=True)
        return _decision(full, cost, settings)
    capacity = float(settings.rate_limit_capacity)
    per_second = settings.rate_limit_refill_per_minute / 60
    try:
        if isinstance(target, AsyncConnection):
            bucket = await repo.charge(target, key, cost, capacity, per_second, at)
        else:
            async with target.begin() as conn:
                bucket = await repo.charge(conn, key, cost, capacity, per_second, at)
            if next(_charges) % PRUNE_EVERY == 0:
                await prune(target, settings)
    except (SQLAlchemyError, OSError) as error:
        raise RateLimitUnavailable("the rate limiter's database did not answer") from error
    return _decision(bucket, cost, settings)


async def prune(engine: AsyncEngine, settings: Settings, *, at: datetime | None = None) -> int:
    """Delete buckets that have refilled completely; returns how many went."""
    idle = settings.rate_limit_capacity / (settings.rate_limit_refill_per_minute / 60)
    async with engine.begin() as conn:
        removed = await repo.prune(conn, idle, at)
    log.debug("pruned %d idle rate-limit buckets", removed)
    return removed


def headers(decision: RateDecision) -> dict[str, str]:
    """The IETF RateLimit header fields for a response (and Retry-After when refused)."""
    fields = {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_seconds),
    }
    if decision.retry_after_seconds is not None:
        fields["Retry-After"] = str(decision.retry_after_seconds)
    return fields
