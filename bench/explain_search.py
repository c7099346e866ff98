"""EXPLAIN (ANALYZE) of `search` and `match` on a benchmark database: the indexes they use.

Prints the plan of soilapi's own statements (soilapi.repositories.search), with the values a
request would bind, for a query whose words a name has (GIN on the tsvector), a query with a
typo (the trigram fallback: GIN on the folded names) and a name given to `match`.

    python -m bench.explain_search [--scale 100] [--seed 42]

The database must exist (`python -m bench.generate --scale 100`). Like every bench command it
starts the shared private PostgreSQL unless BENCH_DATABASE_URL is set: take the bench lock.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints

from bench import pg
from bench.generate import database_name
from soilapi.db.session import Prepared
from soilapi.repositories import search
from soilapi.repositories.paging import Window
from soilapi.services import matching

QUERIES = {
    "words a name has": "Alpine Peatland Institute",
    "a typo: the trigram fallback": "Alpine Peatlnad Institute",
}
NAME = "Regional Soil Institute of Germany (RSIG)"


async def _explain(conn: asyncpg.Connection, title: str, prepared: Prepared, values: Any) -> None:
    rows = await conn.fetch(
        f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {prepared.sql}", *prepared.args(values)
    )
    print(f"\n-- {title}")
    print("\n".join(row[0] for row in rows))


async def explain(url: str) -> None:
    """Print the plans."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET jit = off")  # as soilapi's own connections
        window = Window(limit=10)
        for title, text in QUERIES.items():
            found = search.SearchFilter(text)
            statement, _ = search.page_statement(found, window)
            values = {"query": text, "limit": window.limit + 1}
            await _explain(
                conn, f"search(query: {text!r}, first: 10): {title}", Prepared(statement), values
            )
        asked = matching.request(NAME)
        statement, _ = search.candidates_statement(False)
        values = {"probes": asked.probes.all(), "limit": matching.FETCHED}
        await _explain(conn, f"match(name: {NAME!r})", Prepared(statement), values)
    finally:
        await conn.close()


def main() -> None:
    """Start (or reach) the bench server and print the plans of one scale's database."""
    parser = argparse.ArgumentParser(prog="python -m bench.explain_search", description=__doc__)
    parser.add_argument("--scale", type=int, default=100)
    args = parser.parse_args()
    server = pg.start(os.environ.get("BENCH_DATABASE_URL"), pg.DEFAULT_DIR, pg.DEFAULT_PORT)
    try:
        asyncio.run(explain(server.url(database_name(args.scale))))
    finally:
        pg.stop(server)  # the private one only


if __name__ == "__main__":
    main()
