"""Prometheus metrics: what operators graph and alert on.

Metric names start with `soilapi_`. Labels come from closed sets (route templates, outcomes,
reasons chosen by our code) except GraphQL operation names, which clients choose: those are
capped at `metrics_max_operations` distinct values so nobody can grow the metrics without bound,
and only operations that ran earn one, so junk names refused at validation cannot take them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any, Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

from soilapi.lru import Figures, caches

Outcome = Literal["ok", "error", "rejected"]
"""ok: executed without errors; error: executed, the result has errors; rejected: refused
before execution (parse or validation error, a limit, rate limiting, a bad HTTP request)."""

ANONYMOUS = "anonymous"
OTHER = "other"
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_STATEMENT_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100, 200)

GRAPHQL_REQUESTS = Counter(
    "soilapi_graphql_requests",
    "GraphQL requests by operation name and outcome (ok, error, rejected).",
    ["operation", "outcome"],
)
GRAPHQL_DURATION = Histogram(
    "soilapi_graphql_request_duration_seconds",
    "Time from receiving a GraphQL request to its last response byte.",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
)
HTTP_REQUESTS = Counter(
    "soilapi_http_requests", "HTTP requests by route template and status.", ["route", "status"]
)
HTTP_DURATION = Histogram(
    "soilapi_http_request_duration_seconds",
    "Time from receiving an HTTP request to its last response byte, by route template.",
    ["route"],
    buckets=_LATENCY_BUCKETS,
)
IN_PROGRESS = Gauge(
    "soilapi_http_requests_in_progress",
    "HTTP requests being handled right now.",
    multiprocess_mode="livesum",
)
SQL_PER_REQUEST = Histogram(
    "soilapi_sql_statements_per_request",
    "SQL statements one GraphQL request sent to PostgreSQL (DataLoaders keep it small).",
    buckets=_STATEMENT_BUCKETS,
)
SQL_STATEMENTS = Counter(
    "soilapi_sql_statements", "SQL statements sent to PostgreSQL while serving requests."
)
REJECTIONS = Counter(
    "soilapi_rejected_queries",
    "Requests refused before execution, by reason: the error code in lower case "
    "(query_too_deep, rate_limited, ...).",
    ["reason"],
)


@dataclass
class RequestStats:
    """What the middleware learns about one request while the app handles it."""

    operation: str | None = None
    outcome: Outcome | None = None
    statements: int = 0


_stats: ContextVar[RequestStats | None] = ContextVar("soilapi_request_stats", default=None)


class _OperationLabels:
    """Maps client-chosen operation names onto a bounded set of label values."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def label(self, name: str | None, ran: bool) -> str:
        """The label of `name`; only an operation that `ran` may take a new one."""
        if not name:
            return ANONYMOUS
        if name in self.seen:
            return name
        if not ran or len(self.seen) >= self.limit or not _NAME.fullmatch(name):
            return OTHER
        self.seen.add(name)
        return name


_labels = _OperationLabels(200)


def limit_operation_names(limit: int) -> None:
    """Set how many distinct operation names become labels (the rest count as "other")."""
    _labels.limit = limit


def start_request() -> tuple[RequestStats, Token[RequestStats | None]]:
    """Open the stats of a new request in this context (called by the middleware)."""
    stats = RequestStats()
    return stats, _stats.set(stats)


def end_request(token: Token[RequestStats | None]) -> None:
    """Close the request opened by `start_request`."""
    _stats.reset(token)


_CHILDREN: dict[tuple[MetricWrapperBase, tuple[str, ...]], Any] = {}


def child(metric: MetricWrapperBase, *values: str) -> Any:
    """`metric.labels(*values)`, remembered.

    prometheus_client checks the values and takes a lock at each lookup, four times a
    request. Every value passed here comes from a closed set (route templates, HTTP
    statuses, the bounded operation labels, error codes), so the children kept are few.
    """
    key = (metric, values)
    found = _CHILDREN.get(key)
    if found is None:
        found = _CHILDREN[key] = metric.labels(*values)
    return found


def record_operation(name: str | None, outcome: Outcome) -> None:
    """Report the GraphQL operation a request ran (None when anonymous) and how it ended.

    The endpoint calls this once per GraphQL request; the middleware adds the request's
    latency and counts it when the response is complete. A name the client made up costs
    nothing to send: one refused before execution counts as "other" unless it has run before.
    """
    stats = _stats.get()
    label = _labels.label(name, ran=outcome != "rejected")
    if stats is None:  # outside a request (scripts, tests): count it at once
        child(GRAPHQL_REQUESTS, label, outcome).inc()
        return
    stats.operation = label
    stats.outcome = outcome


def record_rejection(reason: str) -> None:
    """Count a request refused before execution; `reason` is an ErrorCode in lower case."""
    child(REJECTIONS, reason).inc()
    stats = _stats.get()
    if stats is not None:
        stats.outcome = "rejected"
        if stats.operation is None:
            stats.operation = ANONYMOUS


def finish_graphql(stats: RequestStats, seconds: float, graphql_route: bool) -> None:
    """Count a finished request in the GraphQL metrics when it was a GraphQL operation."""
    if graphql_route:
        SQL_PER_REQUEST.observe(stats.statements)
    if stats.outcome is None:  # not an operation: GraphiQL's page, a static file, a probe
        return
    operation = stats.operation or ANONYMOUS
    child(GRAPHQL_REQUESTS, operation, stats.outcome).inc()
    child(GRAPHQL_DURATION, operation).observe(seconds)


def count_statement(*_: Any) -> None:
    """Attribute one SQL statement to the request that caused it (the engine calls this)."""
    stats = _stats.get()
    if stats is not None:  # migrations, seeding and tests outside a request are not traffic
        stats.statements += 1
        SQL_STATEMENTS.inc()


def exposition(multiproc_dir: str | None) -> tuple[bytes, str]:
    """The metrics page in Prometheus' text format, with its content type.

    With several worker processes each writes its samples under `multiproc_dir`, and the page
    merges them; otherwise it reads this process' registry.
    """
    registry: CollectorRegistry = REGISTRY
    if multiproc_dir:
        share_caches(force=True)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiproc_dir)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST


# --- caches: every soilapi.lru cache by name --------------------------------------------------

_CACHE_HELP = {
    "hits": "Lookups answered from a cache, by cache name.",
    "misses": "Lookups a cache could not answer, by cache name.",
    "evictions": "Entries a cache dropped to stay within its entries and bytes.",
    "entries": "Entries a cache holds now.",
    "bytes": "Bytes a cache holds now, as the cache weighs its entries (an estimate for "
    "parsed documents, plans and statements; the body's length for responses).",
    "max_bytes": "Bytes a cache may hold.",
}
_COUNTS = ("hits", "misses", "evictions")
_SIZES = ("entries", "bytes", "max_bytes")


class CacheCollector(Collector):
    """Reads every cache's figures when /metrics is read: lookups cost no metric call."""

    def collect(self) -> Iterator[Metric]:
        """The caches' counters and gauges, labelled by cache name."""
        counters = {
            what: CounterMetricFamily(f"soilapi_cache_{what}", _CACHE_HELP[what], labels=["cache"])
            for what in _COUNTS
        }
        gauges = {
            what: GaugeMetricFamily(f"soilapi_cache_{what}", _CACHE_HELP[what], labels=["cache"])
            for what in _SIZES
        }
        for figures in caches():
            for what, counter in counters.items():
                counter.add_metric([figures.name], getattr(figures, what))
            for what, gauge in gauges.items():
                gauge.add_metric([figures.name], getattr(figures, what))
        yield from counters.values()
        yield from gauges.values()


REGISTRY.register(CacheCollector())

# With several worker processes the page is built from the files each process writes, so each
# copies its caches' figures into file-backed metrics (kept out of REGISTRY, whose collector
# has the same names) now and then: after its requests, at most once a second.
_SHARED_COUNTS = {
    what: Counter(f"soilapi_cache_{what}", _CACHE_HELP[what], ["cache"], registry=None)
    for what in _COUNTS
}
_SHARED_SIZES = {
    what: Gauge(
        f"soilapi_cache_{what}",
        _CACHE_HELP[what],
        ["cache"],
        registry=None,
        multiprocess_mode="livesum",
    )
    for what in _SIZES
}
_shared: dict[str, Figures] = {}
_shared_at = 0.0


def share_caches(*, force: bool = False) -> None:
    """Copy the caches' figures into the metrics several worker processes share."""
    global _shared_at  # noqa: PLW0603 - one process-wide clock, read on every request
    now = time.monotonic()
    if not force and now - _shared_at < 1.0:
        return
    _shared_at = now
    for figures in caches():
        before = _shared.get(figures.name)
        for what, counter in _SHARED_COUNTS.items():
            grown = getattr(figures, what) - (getattr(before, what) if before else 0)
            if grown > 0:
                counter.labels(figures.name).inc(grown)
        for what, gauge in _SHARED_SIZES.items():
            gauge.labels(figures.name).set(getattr(figures, what))
        _shared[figures.name] = figures
