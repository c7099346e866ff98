"""The plans of an operation's SQL on a benchmark database: which indexes each statement uses.

    python -m bench.explain --op faceted_list --scale 100 [--engine resolvers]

It starts the benchmark's private PostgreSQL (as `python -m bench` does, and stops it at the
end), builds or reuses the scale's database, sends the operation's first body twice to an
in-process soilapi (the first warms its caches), records the statements the second sends (the
SQL compiler's, or with `--engine resolvers` the resolvers'), and prints each with
`EXPLAIN (ANALYZE, BUFFERS)` run with the same parameters, JIT off as soilapi runs them. The
rate limiter is off, so only the operation's own statements are shown.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
import httpx

from bench import generate, pg
from bench.suite import BY_NAME, Operation
from bench.variables import Unavailable, Variables
from soilapi.app import create_app
from soilapi.db.session import connect_args, create_engine, statements_sent
from soilapi.settings import Settings

Statement = tuple[str, Any]


async def statements(url: str, body: bytes, compiler: bool) -> list[Statement]:
    """The SQL statements (text and parameters) soilapi sends for a repeat of `body`."""
    settings = Settings(
        database_url=url,
        response_cache_enabled=False,
        rate_limit_enabled=False,
        query_compiler=compiler,
    )
    engine = create_engine(settings, url)
    app = create_app(settings, engine=engine)
    headers = {"content-type": "application/json"}

    async def send(http: httpx.AsyncClient) -> None:
        answer = await http.post("/graphql", content=body, headers=headers)
        if answer.status_code != 200 or answer.json().get("errors"):
            raise SystemExit(f"the operation failed: {answer.text[:500]}")

    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            await send(http)  # warms the caches: the repeat sends what a warm server does
            with statements_sent(engine) as sent:
                await send(http)
    finally:
        await app.state.version_probe.close()
        await engine.dispose()
    return sent


async def explain(url: str, sent: list[Statement]) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement, as text, on a connection set up as the
    API's are (its planner costs among them), so that the plans are the ones it gets."""
    server_settings = connect_args(Settings(database_url=url))["server_settings"]
    conn = await asyncpg.connect(url, server_settings=server_settings)
    out: list[str] = []
    try:
        for sql, args in sent:
            rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *(args or ()))
            out.append("\n".join(row[0] for row in rows))
    finally:
        await conn.close()
    return out


def first_body(op: Operation, url: str, seed: int) -> bytes:
    """The operation's first request body (variables gathered as the benchmark does, from
    the database: an operation whose variables come from a running server cannot be shown)."""
    try:
        sets = Variables(url, seed, {}).sets(op.name, "soilapi")
    except Unavailable as why:
        raise SystemExit(f"{op.name}: {why}") from None
    return op.body("soilapi", sets[0])


def main(argv: list[str] | None = None) -> None:
    """Print the plans of one operation at one scale."""
    parser = argparse.ArgumentParser(prog="python -m bench.explain", description=__doc__)
    parser.add_argument("--op", required=True, choices=sorted(BY_NAME))
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--engine", choices=("compiled", "resolvers"), default="compiled")
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--pg-dir", type=Path, default=Path.home() / ".cache/soilapi/bench/pg")
    parser.add_argument("--pg-port", type=int, default=54339)
    args = parser.parse_args(argv)
    op = BY_NAME[args.op]
    cluster = pg.start(os.environ.get("BENCH_DATABASE_URL"), args.pg_dir, args.pg_port)
    try:
        built = generate.ensure(cluster, args.scale, args.seed)
        url = cluster.url(built.database)
        body = first_body(op, url, args.seed)
        sent = asyncio.run(statements(url, body, args.engine == "compiled"))
        plans = asyncio.run(explain(url, sent))
    finally:
        pg.stop(cluster)
    print(f"{op.name} at scale {args.scale} ({args.engine}): {len(sent)} statements")
    for i, ((sql, _), plan) in enumerate(zip(sent, plans, strict=True), start=1):
        print(f"\n--- statement {i}\n{sql}\n\n{plan}")


if __name__ == "__main__":
    main()
