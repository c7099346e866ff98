"""`python -m bench.writes`: how fast a partner's writes and a sync client's feed pages are.

On a copy of a bench database (the original stays as generated), with soilapi serving it,
a curator's key sends `--writes` single-record mutations (`organizationUpdate`, each one a
real change: the description of one of 1,000 organisations, alternating between two texts)
from `--concurrency` clients at once, then a client pages through the change feed those
writes made, 100 changes a page, `--feed-rounds` times over. It prints, for each: requests/s,
p50 and p99 latency, and the SQL statements per request (when the server counts them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx

from bench import generate, pg, servers
from soilapi.graphql.pagination import feed_cursor

ORGS = """query($after: String) {
  organizations(first: 100, after: $after) { nodes { id } pageInfo { endCursor } } }"""
UPDATE = """mutation($input: OrganizationUpdateInput!) {
  organizationUpdate(input: $input) { revision errors { code message } } }"""
FEED = """query($after: String) { changes(after: $after, first: 100) {
  pageInfo { endCursor hasNextPage }
  nodes { operation kind target changedAt diff { field before after } record { id } } } }"""
SOURCE = {"evidence": "STATED", "stated": True, "quote": "As the benchmark states."}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.writes", description=__doc__)
    p.add_argument("--scale", type=int, default=100, help="bench scale (default 100)")
    p.add_argument("--writes", type=int, default=2000, help="mutations to send (default 2000)")
    p.add_argument("--concurrency", type=int, default=10, help="clients at once (default 10)")
    p.add_argument("--feed-rounds", type=int, default=5, help="times to page the feed")
    p.add_argument("--seed", type=int, default=generate.DEFAULT_SEED, help="data seed")
    return p.parse_args(argv)


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _clone(cluster: pg.Server, source: str, copy: str) -> None:
    conn = await asyncpg.connect(cluster.admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{source}"')
    finally:
        await conn.close()


async def _drop(cluster: pg.Server, copy: str) -> None:
    conn = await asyncpg.connect(cluster.admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    finally:
        await conn.close()


async def _latest_revision(url: str) -> int:
    conn = await asyncpg.connect(pg.plain_url(url))
    try:
        return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM revisions"))
    finally:
        await conn.close()


def _curator_key(url: str) -> str:
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from soilapi.cli import main; main(sys.argv[1:])",
            "keys",
            "create",
            "--role",
            "curator",
            "--label",
            "bench",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        timeout=120,
    )
    return made.stdout.strip()


async def _post(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or "errors" in body:
        raise SystemExit(f"bench.writes: {response.status_code} {response.text[:300]}")
    return body["data"]


async def _organizations(http: httpx.AsyncClient) -> list[str]:
    found: list[str] = []
    after = None
    while len(found) < 1000:
        page = (await _post(http, ORGS, {"after": after}))["organizations"]
        found += [node["id"] for node in page["nodes"]]
        after = page["pageInfo"]["endCursor"]
        if after is None:
            break
    return found[:1000]


async def _timed(
    calls: list[Callable[[], Awaitable[None]]], concurrency: int
) -> tuple[list[float], float]:
    """Run `calls`, `concurrency` at a time; each one's latency, and the wall time."""
    latencies: list[float] = []
    queue = list(reversed(calls))

    async def worker() -> None:
        while queue:
            call = queue.pop()
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


async def _measure(args: argparse.Namespace, cluster: pg.Server, database: str, url: str) -> None:
    server = servers.start("soilapi", url, f"writes-s{args.scale}")
    try:
        key = _curator_key(url)
        headers = {"x-api-key": key}
        base = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
            orgs = await _organizations(http)
            start = feed_cursor(await _latest_revision(url))  # the feed from here on

            def write(n: int) -> Callable[[], Awaitable[None]]:
                text = f"Benchmark text {'A' if (n // len(orgs)) % 2 == 0 else 'B'}."
                fields = {"description": text}
                body = {"input": {"id": orgs[n % len(orgs)], "fields": fields, "source": SOURCE}}

                async def call() -> None:
                    found = (await _post(http, UPDATE, body))["organizationUpdate"]
                    if found["errors"]:
                        raise SystemExit(f"bench.writes: refused: {found['errors']}")

                return call

            await _report(
                "single-record mutation (organizationUpdate)",
                cluster,
                database,
                [write(n) for n in range(args.writes)],
                args.concurrency,
            )
            cursors = [start]
            while True:
                page = (await _post(http, FEED, {"after": cursors[-1]}))["changes"]
                if not page["pageInfo"]["hasNextPage"]:
                    break
                cursors.append(page["pageInfo"]["endCursor"])

            def feed(cursor: str) -> Callable[[], Awaitable[None]]:
                async def call() -> None:
                    await _post(http, FEED, {"after": cursor})

                return call

            pages = [feed(c) for _ in range(args.feed_rounds) for c in cursors]
            await _report(
                f"change feed, 100 changes a page ({len(cursors)} pages)",
                cluster,
                database,
                pages,
                args.concurrency,
            )
    finally:
        server.stop()


async def _report(
    what: str,
    cluster: pg.Server,
    database: str,
    calls: list[Callable[[], Awaitable[None]]],
    concurrency: int,
) -> None:
    if cluster.counts_statements:
        await pg.reset_statements(cluster)
    latencies, wall = await _timed(calls, concurrency)
    statements = None
    if cluster.counts_statements:
        statements = await pg.statements_run(cluster, database) / len(calls)
    print(f"{what}: {len(calls):,} requests, {concurrency} at once")
    print(
        f"  {len(calls) / wall:,.0f} req/s, p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, mean "
        f"{statistics.mean(latencies) * 1000:.1f} ms"
        + ("" if statements is None else f", {statements:.1f} SQL statements per request")
    )


def main(argv: list[str] | None = None) -> int:
    """Copy the bench database, serve it, write, page the feed, print the figures."""
    args = _parse(argv)
    cluster = pg.start(os.environ.get("BENCH_DATABASE_URL"), pg.DEFAULT_DIR, pg.DEFAULT_PORT)
    copy = f"soilapi_bench_writes_s{args.scale}"
    try:
        built = generate.ensure(cluster, args.scale, args.seed, rebuild=False)
        asyncio.run(_clone(cluster, built.database, copy))
        try:
            asyncio.run(_measure(args, cluster, copy, cluster.url(copy)))
        finally:
            asyncio.run(_drop(cluster, copy))
    finally:
        pg.stop(cluster)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
