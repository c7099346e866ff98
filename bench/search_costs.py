"""What each of search_varied's 1,000 queries costs PostgreSQL alone: which ones cost most.

Runs soilapi's own page statement (soilapi.repositories.search.page_statement, first: 10, as
search_varied asks) for each query search_varied sends at a scale, one at a time on one
connection, and reads the execution and planning time PostgreSQL reports (EXPLAIN ANALYZE
without per-node timing, so the clock costs little). Prints the distribution, the share of the
total the costliest tenth takes, each query family's share, and the costliest queries with the
number of entries their words match.

    python -m bench.search_costs [--scale 100] [--seed 42] [--top 15]

The database must exist (`python -m bench.generate --scale 100`). Like every bench command it
starts the shared private PostgreSQL unless BENCH_DATABASE_URL is set: take the bench lock.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints

from bench import pg
from bench.generate import DEFAULT_SEED, database_name
from bench.variables import Variables, search_varied
from soilapi.db.session import Prepared
from soilapi.repositories import search
from soilapi.repositories.paging import Window


@dataclass
class Cost:
    """One query's statement: PostgreSQL's execution and planning milliseconds."""

    query: str
    executed: float
    planned: float
    matches: int

    @property
    def total(self) -> float:
        """Milliseconds in all."""
        return self.executed + self.planned


async def _cost(conn: asyncpg.Connection, prepared: Prepared, text: str) -> Cost:
    values = {"query": text, "limit": 11}
    sql = f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {prepared.sql}"
    await conn.fetchval(sql, *prepared.args(values))  # warm: the second run is measured
    plan = json.loads(await conn.fetchval(sql, *prepared.args(values)))[0]
    matches = await conn.fetchval(
        "SELECT count(*) FROM search_entries "
        "WHERE document @@ websearch_to_tsquery('soilapi_english', $1)",
        text,
    )
    return Cost(text, plan["Execution Time"], plan["Planning Time"], matches)


async def costs(url: str, queries: list[str]) -> list[Cost]:
    """Each query's cost, in the order given."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET jit = off")  # as soilapi's own connections
        statement, _ = search.page_statement(search.SearchFilter("x"), Window(limit=10))
        prepared = Prepared(statement)
        return [await _cost(conn, prepared, text) for text in queries]
    finally:
        await conn.close()


def report(found: list[Cost], top: int) -> None:
    """Print the distribution and the costliest queries."""
    totals = sorted((c.total for c in found), reverse=True)
    whole = sum(totals)
    tenth = sum(totals[: len(totals) // 10])
    print(f"{len(found)} queries, {whole:.0f} ms in all, mean {whole / len(found):.2f} ms")
    cuts = statistics.quantiles(totals, n=100)
    print(
        f"p50 {cuts[49]:.2f} ms  p90 {cuts[89]:.2f} ms  p99 {cuts[98]:.2f} ms  max {totals[0]:.2f}"
    )
    print(f"the costliest tenth: {tenth:.0f} ms, {100 * tenth / whole:.0f} % of the total")
    planned = sum(c.planned for c in found)
    print(f"planning: {planned:.0f} ms, {100 * planned / whole:.0f} % of the total")
    print(f"\n{'total':>8} {'plan':>6} {'matches':>8}  query")
    for c in sorted(found, key=lambda c: -c.total)[:top]:
        print(f"{c.total:8.2f} {c.planned:6.2f} {c.matches:8d}  {c.query}")


def main() -> None:
    """Start (or reach) the bench server and time each query of one scale's search_varied."""
    parser = argparse.ArgumentParser(prog="python -m bench.search_costs", description=__doc__)
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    server = pg.start(os.environ.get("BENCH_DATABASE_URL"), pg.DEFAULT_DIR, pg.DEFAULT_PORT)
    try:
        url = server.url(database_name(args.scale))
        sets: Any = search_varied(Variables(url, args.seed, {}))["soilapi"]
        report(asyncio.run(costs(url, [s["q"] for s in sets])), args.top)
    finally:
        pg.stop(server)  # the private one only


if __name__ == "__main__":
    main()
