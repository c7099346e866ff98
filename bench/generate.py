"""Build, or reuse, the benchmark database of one scale: migrations, seed data, synthetic rows.

A finished database carries a marker in its comment (scale, seed, generator version, schema
head, hash of the seed files); a later run with the same marker reuses it as it is.

    python -m bench.generate --scale 10 [--seed 42] [--rebuild]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from bench import pg, synthetic
from bench.progress import Progress
from soilapi.cli import ROOT
from soilapi.db.session import create_engine
from soilapi.seed import dataset
from soilapi.seed.loader import load
from soilapi.settings import get_settings

GENERATOR_VERSION = 4  # 2: agreements carry their sort dates; 3: revisions; 4: written at 1
DEFAULT_SEED = 42
CHUNK = 20_000


@dataclass
class Built:
    """What `ensure` did for one scale."""

    database: str
    reused: bool
    seconds: float
    added: dict[str, int] = field(default_factory=dict)  # synthetic rows per table
    totals: dict[str, int] = field(default_factory=dict)  # rows per table afterwards


def database_name(scale: int) -> str:
    """The database of a scale."""
    return f"soilapi_bench_s{scale}"


def _alembic() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False  # keep alembic's INFO lines off the output
    return config


def _seed_files_hash() -> str:
    digest = hashlib.sha256()
    for folder in (dataset.DATA_DIR, dataset.DOCUMENTS_DIR):
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def marker(scale: int, seed: int) -> str:
    """The comment a finished database carries."""
    head = ScriptDirectory.from_config(_alembic()).get_current_head()
    return (
        f"soilapi-bench scale={scale} seed={seed} generator={GENERATOR_VERSION} "
        f"schema={head} data={_seed_files_hash()}"
    )


def ensure(server: pg.Server, scale: int, seed: int, *, rebuild: bool = False) -> Built:
    """The database of `scale`, generated unless one with the same marker exists."""
    name = database_name(scale)
    wanted = marker(scale, seed)
    if not rebuild and asyncio.run(pg.database_comment(server, name)) == wanted:
        pg.say(f"reusing database {name} ({wanted})")
        return Built(name, True, 0.0, totals=asyncio.run(_count(server.url(name))))
    started = time.monotonic()
    pg.say(f"building database {name} at scale {scale} (seed {seed})")
    asyncio.run(pg.recreate_database(server, name))
    url = server.url(name)
    built = migrate_and_fill(url, scale, seed)
    built.database = name
    built.totals = asyncio.run(_finish(url, name, wanted))
    built.seconds = time.monotonic() - started
    return built


def migrate_and_fill(url: str, scale: int, seed: int) -> Built:
    """Migrate an empty database, then load the seed data and the synthetic rows of `scale`.

    The tests build a small one too, to compare the query engines on data nobody wrote.
    """
    config = _alembic()
    config.attributes["url"] = url
    command.upgrade(config, "head")
    return asyncio.run(_fill(url, scale, seed))


async def _fill(url: str, scale: int, seed: int) -> Built:
    """Load the seed data, then COPY the synthetic rows on top of it."""
    engine = create_engine(get_settings(), url)
    try:
        async with engine.begin() as conn:
            await load(conn, dataset.load_dataset())
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(url)
    try:
        facts = await _facts(conn)
        pg.say("drawing synthetic rows")
        tables = synthetic.build(scale, seed, facts)
        bar = Progress(f"copying scale {scale}", tables.total())
        async with conn.transaction():
            for table, rows in tables.rows.items():
                for start in range(0, len(rows), CHUNK):
                    chunk = rows[start : start + CHUNK]
                    columns = list(synthetic.COLUMNS[table])
                    await conn.copy_records_to_table(table, records=chunk, columns=columns)
                    bar.advance(len(chunk))
            bar.close()
            pg.say("recording a CREATE revision per record and relation")
            for statement in CREATE_REVISIONS:
                await conn.execute(statement)
    finally:
        await conn.close()
    return Built("", False, 0.0, added={t: len(r) for t, r in tables.rows.items()})


# The history a registry built by writes would have: each record and relation created once,
# in bulk (the feed's order is the insertion's: records by slug, then relations by id). Only
# targets without a revision get one, so revisions the seed loader recorded stay as they are;
# the synthetic rows were written at revision 1 already (bench.synthetic.ENTITY).
# Written in SQL, not through soilapi.repositories.history.record, which numbers revisions
# one batch at a time: 800,000 rows at scale 100 are one INSERT ... SELECT here.
CREATE_REVISIONS = (
    """INSERT INTO revisions (target_id, kind, number, operation, diff, actor, actor_role,
                              data_version)
       SELECT e.id, e.kind, 1, 'create', jsonb_build_object('name', jsonb_build_array(NULL,
              e.name)), 'seed:bench', 'seed', 0
       FROM entities e
       WHERE NOT EXISTS (SELECT FROM revisions r WHERE r.target_id = e.id) ORDER BY e.slug""",
    """INSERT INTO revisions (target_id, kind, number, operation, diff, actor, actor_role,
                              data_version)
       SELECT r.id, 'relation', 1, 'create', jsonb_build_object('predicate',
              jsonb_build_array(NULL, r.predicate)), 'seed:bench', 'seed', 0
       FROM relations r
       WHERE NOT EXISTS (SELECT FROM revisions v WHERE v.target_id = r.id) ORDER BY r.id""",
)


async def _facts(conn: asyncpg.Connection) -> synthetic.SeedFacts:
    """The seed rows the synthetic ones point at."""
    docs = await conn.fetch("SELECT id, line_count FROM source_documents ORDER BY key")
    by_kind = "SELECT id FROM entities WHERE kind = $1 ORDER BY slug"
    anchors = await conn.fetch(
        "SELECT slug, id FROM entities WHERE kind = 'organization' AND slug = ANY($1::text[])",
        list(synthetic.ANCHORS),
    )
    anchor_ids = {r["slug"]: r["id"] for r in anchors}
    last = await conn.fetchval(
        "SELECT coalesce(max(ordinal), 0) FROM partner_agreements WHERE owner_id = $1",
        anchor_ids.get("4p1000"),
    )
    return synthetic.SeedFacts(
        documents=[(r["id"], r["line_count"]) for r in docs],
        places=[r["id"] for r in await conn.fetch(by_kind, "place")],
        initiatives=[r["id"] for r in await conn.fetch(by_kind, "initiative")],
        organizations=[r["id"] for r in await conn.fetch(by_kind, "organization")],
        anchors=anchor_ids,
        next_4p1000_ordinal=int(last) + 1,
    )


async def _finish(url: str, database: str, wanted: str) -> dict[str, int]:
    """VACUUM ANALYZE (so autovacuum stays quiet during the runs), then mark the database."""
    pg.say("VACUUM ANALYZE")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM (ANALYZE)")
        quoted = wanted.replace("'", "''")
        await conn.execute(f"COMMENT ON DATABASE \"{database}\" IS '{quoted}'")
    finally:
        await conn.close()
    return await _count(url)


async def _count(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        totals: dict[str, int] = {}
        for table in ("entities", *list(synthetic.COLUMNS)[1:], "source_documents"):
            query = f'SELECT count(*) FROM "{table}"'  # noqa: S608 - our own table names
            totals[table] = int(await conn.fetchval(query))
        return totals
    finally:
        await conn.close()


def print_built(scale: int, built: Built) -> None:
    """Rows per table and the time taken."""
    how = "reused" if built.reused else f"built in {built.seconds:.1f} s"
    print(f"\nscale {scale}: database {built.database} {how}")
    print(f"  {'table':24} {'rows':>10} {'synthetic':>10}")
    for table, total in built.totals.items():
        print(f"  {table:24} {total:10,} {built.added.get(table, 0):10,}")


def main() -> None:
    """Build the database of one scale without running the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--rebuild", action="store_true", help="ignore an existing database")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    server = pg.start(url, pg.DEFAULT_DIR, pg.DEFAULT_PORT)
    built = ensure(server, args.scale, args.seed, rebuild=args.rebuild)
    print_built(args.scale, built)


if __name__ == "__main__":
    main()
