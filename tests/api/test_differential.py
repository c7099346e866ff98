"""The two engines compared on queries nobody wrote: the SQL compiler and the resolvers must
give the same `data` and the same errors for any valid query of the schema.

hypothesis-graphql generates the queries from the schema. Its random strings and integers
would mostly ask for records that do not exist, so argument values are then drawn from the
database where that helps: real slugs, codes and global IDs, small page sizes, real country
codes (and sometimes a made-up one, or a bad cursor, so error answers are compared too).
Each query runs on the seed data and on a small synthetic database (the benchmark's generator
at scale 1, plus a history of updates, retirements and relation changes with every form of
source, written the only way there is: soilapi.repositories.history.record), with the
compiler on and off. An `after` is now and then a real cursor of the change feed.

CI runs a bounded number of examples (`SOILAPI_FUZZ_EXAMPLES`, default 60 per database);
`make fuzz` runs batches of them with new random seeds for as long as asked (`MINUTES=20`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson
import pytest
import sqlalchemy as sa
from graphql import (
    ArgumentNode,
    DocumentNode,
    IntValueNode,
    ListValueNode,
    ObjectFieldNode,
    StringValueNode,
    ValueNode,
    Visitor,
    print_ast,
    visit,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries
from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import REFERENCE, error_keys, first_difference, synthetic_database
from soilapi.db.session import (
    connect_args,
    create_engine,
    read_only,
    reading,
    statements_sent,
)
from soilapi.graphql import ids
from soilapi.graphql.context import Context
from soilapi.graphql.pagination import feed_cursor
from soilapi.graphql.schema import build_schema
from soilapi.graphql.types.node import TYPE_NAMES
from soilapi.repositories.history import NewRevision, record
from soilapi.settings import Settings, normalise_url
from soilapi.vocab import EntityKind, Operation

COMPILED = build_schema(compiler=True)
EXAMPLES = int(os.environ.get("SOILAPI_FUZZ_EXAMPLES", "60"))
SYNTHETIC = "soilapi_differential"
# Arguments worth drawing from the database, and the SQL that lists the values that exist.
LOOKUPS = {
    "countries": "SELECT DISTINCT country_code FROM entities WHERE country_code IS NOT NULL",
    "slug": "SELECT slug FROM entities",
    "code": "SELECT code FROM facilities WHERE code IS NOT NULL",
    "label": "SELECT label FROM strategic_objectives",
    "symbol": "SELECT symbol FROM documents WHERE symbol IS NOT NULL",
    "target": "SELECT target FROM sdg_targets",
    "key": "SELECT key FROM source_documents",
    # `search`: whole names (exact hits), single words of names (many hits, names and
    # longer texts), and a word with a typo (the trigram fallback).
    "query": "SELECT name FROM entities UNION SELECT word FROM search_words "
    "UNION SELECT left(word, -1) || 'x' FROM search_words WHERE length(word) > 5",
}


@dataclass
class Database:
    """An engine and the values worth asking it about."""

    name: str
    engine: AsyncEngine = field(repr=False)
    values: dict[str, list[str]] = field(default_factory=dict, repr=False)
    ids: list[str] = field(default_factory=list, repr=False)
    feed: list[str] = field(default_factory=list, repr=False)  # cursors of the change feed
    examples: int = 0


async def _known(name: str, engine: AsyncEngine) -> Database:
    found = Database(name, engine)
    async with engine.connect() as conn:
        for argument, sql in LOOKUPS.items():
            found.values[argument] = sorted((await conn.execute(sa.text(sql))).scalars())
        rows = await conn.execute(sa.text("SELECT kind, id FROM entities ORDER BY slug"))
        found.ids = [ids.encode(TYPE_NAMES[EntityKind(kind)], row_id) for kind, row_id in rows]
        revisions = await conn.execute(sa.text("SELECT id FROM revisions ORDER BY id"))
        found.feed = [feed_cursor(revision_id) for revision_id in revisions.scalars()]
    found.ids.append(ids.encode("Organization", uuid.UUID(int=0)))  # a well-formed unknown ID
    return found


# Sources of each form the write pipeline stores (soilapi.services.writes.Source).
SOURCES: list[dict[str, Any] | None] = [
    {"document": "000", "line_start": 5, "line_end": 7, "quote": "GSP", "evidence": "stated"},
    {"document": "000", "line_start": 9, "quote": "one line", "evidence": "derived"},
    {"url": "https://example.org/a", "title": "A page", "read_on": "2025-09-26",
     "evidence": "inferred"},
    {"stated": True, "evidence": "stated", "quote": "We say so."},
    None,
]  # fmt: skip


async def _write_history(engine: AsyncEngine) -> None:
    """Updates of records and relations (each source form, approvals, request ids), and a
    record created then retired, in transactions of their own: the feed has every shape."""
    async with engine.connect() as conn:
        entities = (await conn.execute(sa.text(
            "SELECT id, kind FROM entities ORDER BY slug LIMIT 12"))).all()  # fmt: skip
        relations = await conn.scalars(sa.text("SELECT id FROM relations ORDER BY id LIMIT 4"))
        relation_ids = list(relations)
    changes = [
        NewRevision(
            target_id=row.id, kind=row.kind, operation=Operation.UPDATE,
            diff={"description": [None, f"text {i}"], "start": ["2015", {"iso": "2015-06"}],
                  "fte": [1.5, 2]},
            actor="key:pk_fuzz1" if i % 3 else "seed:000.yaml",
            actor_role="partner" if i % 3 else "seed",
            provenance=SOURCES[i % len(SOURCES)], comment=f"change {i}" if i % 2 else None,
            approved_by="key:pk_cur01" if i % 4 == 0 else None,
            request_id=f"req-{i}" if i % 2 == 0 else None,
        )
        for i, row in enumerate(entities)
    ]  # fmt: skip
    changes += [
        NewRevision(
            target_id=relation_id, kind="relation", operation=Operation.UPDATE,
            diff={"note": [None, "regional"]}, actor="key:pk_fuzz1", actor_role="curator",
            provenance=SOURCES[i % len(SOURCES)],
        )
        for i, relation_id in enumerate(relation_ids)
    ]  # fmt: skip
    ghost = uuid.UUID("00000000-0000-4000-8000-00000000beef")
    for operation in (Operation.CREATE, Operation.RETIRE):
        changes.append(
            NewRevision(target_id=ghost, kind="output", operation=operation,
                        diff={"name": [None, "Draft"] if operation == Operation.CREATE
                              else ["Draft", None]},
                        actor="key:pk_fuzz1", actor_role="partner")
        )  # fmt: skip
    for start in range(0, len(changes), 5):
        async with engine.begin() as conn:
            await record(conn, changes[start : start + 5])


@pytest.fixture(scope="module")
async def seeded(engine: AsyncEngine) -> Database:
    return await _known("seed", engine)


@pytest.fixture(scope="module")
async def synthetic(server_url: str) -> AsyncIterator[Database]:
    """The seed data plus the benchmark's synthetic rows at scale 1, in a database of its own."""
    async with synthetic_database(server_url, SYNTHETIC, 1, 7) as url:
        engine = create_engine(Settings(database_url=url), normalise_url(url))
        try:
            await _write_history(engine)
            yield await _known("synthetic", engine)
        finally:
            await engine.dispose()


# --- the queries ---------------------------------------------------------------------------


def _dates() -> st.SearchStrategy[ValueNode]:
    return st.dates().map(lambda day: StringValueNode(value=day.isoformat()))


def _partial_dates() -> st.SearchStrategy[ValueNode]:
    """Partial dates as clients write them (2021, 2021-06, 2021-06-15), and now and then
    one that is not a date at all."""
    day = st.dates(min_value=date(1985, 1, 1), max_value=date(2030, 12, 31))
    written = st.one_of(
        day.map(lambda d: f"{d.year}"),
        day.map(lambda d: f"{d.year}-{d.month:02d}"),
        day.map(lambda d: d.isoformat()),
        st.sampled_from(["2021-13", "yesterday", ""]),
    )
    return written.map(lambda text: StringValueNode(value=text))


def _strings(values: list[str]) -> st.SearchStrategy[ValueNode]:
    wrong = st.sampled_from(["", "no-such-record", "zz", "ÿ"])
    choices = st.sampled_from(values) if values else wrong
    return st.one_of(choices, choices, choices, wrong).map(lambda v: StringValueNode(value=v))


class _Values(Visitor):
    """Replaces generated argument values by drawn ones that reach real records."""

    def __init__(self, data: st.DataObject, db: Database) -> None:
        super().__init__()
        self.data = data
        self.db = db

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> Any:
        value = self._draw(node.name.value, node.value)
        if value is None:
            return None
        if value is _REMOVE:
            return Visitor.REMOVE
        return ArgumentNode(name=node.name, value=value)

    def enter_object_field(self, node: ObjectFieldNode, *_args: Any) -> Any:
        """The bounds of a `dated` filter: partial dates rather than random text."""
        if node.name.value in ("from", "to") and isinstance(node.value, StringValueNode):
            return ObjectFieldNode(name=node.name, value=self.data.draw(_partial_dates()))
        return None

    def _cursor(self) -> Any:
        """Mostly no cursor; now and then a random one (INVALID_CURSOR), or one of the change
        feed's (the feed's next page; another list's INVALID_CURSOR)."""
        chance = self.data.draw(st.integers(0, 9))
        if chance == 0:
            return None
        if chance <= 2 and self.db.feed:
            return StringValueNode(value=self.data.draw(st.sampled_from(self.db.feed)))
        return _REMOVE

    def _draw(self, name: str, given: ValueNode) -> Any:
        """A value for argument `name` (None: keep the generated one)."""
        draw = self.data.draw
        if name in ("from", "to") and isinstance(given, StringValueNode):  # the timeline's
            return draw(_partial_dates())
        if name in ("first", "last") and isinstance(given, IntValueNode):
            size = draw(st.one_of(st.integers(0, 4), st.sampled_from([100, 101, -1])))
            return IntValueNode(value=str(size))
        if name in ("after", "before"):
            return self._cursor()
        pool = self.db.ids if name in ("id", "ids", "from", "to") else self.db.values.get(name)
        if pool is None:
            return None
        if isinstance(given, ListValueNode):
            return ListValueNode(values=tuple(draw(st.lists(_strings(pool), max_size=5))))
        return draw(_strings(pool)) if isinstance(given, StringValueNode) else None


_REMOVE = object()


def _query(data: st.DataObject, db: Database) -> str:
    document: DocumentNode = data.draw(
        queries(
            REFERENCE._schema,
            custom_scalars={"Date": _dates()},
            print_ast=lambda node: node,
            allow_x00=False,
        ),
        label="generated",
    )
    return print_ast(visit(document, _Values(data, db)))


# --- running both engines ------------------------------------------------------------------


async def _answer(schema: Any, db: Database, query: str) -> dict[str, Any]:
    async with reading(read_only(db.engine)) as reader:
        result = await schema.execute(query, context_value=Context(reader))
    # The compiler's answers hold PostgreSQL's JSON text: compare them as JSON, as clients do.
    data = orjson.loads(orjson.dumps(result.data))
    return {"data": data, "errors": [e.formatted for e in result.errors or ()]}


async def assert_same(db: Database, query: str) -> None:
    compiled = await _answer(COMPILED, db, query)
    resolvers = await _answer(REFERENCE, db, query)
    codes = {(e.get("extensions") or {}).get("code") for e in resolvers["errors"]}
    assert "INTERNAL_SERVER_ERROR" not in codes, (query, resolvers["errors"])
    difference = first_difference(compiled["data"], resolvers["data"])
    assert difference is None, f"engines differ at {difference} on {db.name}:\n{query}"
    assert error_keys(compiled["errors"]) == error_keys(resolvers["errors"]), query
    db.examples += 1


_RUN = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None if os.environ.get("CI") else settings.default.database,
    # Shrinking replays a query hundreds of times; the failing query is printed as it is.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


@_RUN
@given(data=st.data())
async def test_engines_agree_on_the_seed_data(seeded: Database, data: st.DataObject) -> None:
    await assert_same(seeded, _query(data, seeded))


@_RUN
@given(data=st.data())
async def test_engines_agree_on_synthetic_data(synthetic: Database, data: st.DataObject) -> None:
    await assert_same(synthetic, _query(data, synthetic))


async def test_report(seeded: Database, synthetic: Database) -> None:
    """How many generated queries each database answered the same on both engines."""
    print(f"\ndifferential: {seeded.examples} seed, {synthetic.examples} synthetic queries agree")
    assert seeded.examples > 0
    assert synthetic.examples > 0


async def test_a_batch_of_lookups_reads_each_record_by_its_key(synthetic: Database) -> None:
    """The API's connections price reads as from memory (soilapi.db.session.connect_args).
    With PostgreSQL's defaults, made for disks, 50 records looked up by global ID seemed
    dearer than reading and hashing all the records of this database (about 4,000); at
    bench scale 100 a first page of 20 events hashed all 5,016 of them the same way."""
    async with synthetic.engine.begin() as conn:  # as autovacuum would after the bulk load
        await conn.execute(sa.text("ANALYZE entities"))
    wanted = synthetic.ids[:: max(1, len(synthetic.ids) // 50)][:50]
    query = f"{{ nodes(ids: {orjson.dumps(wanted).decode()}) {{ id }} }}"
    with statements_sent(synthetic.engine) as sent:
        assert (await _answer(COMPILED, synthetic, query))["errors"] == []
    (sql, args), *_ = [(sql, args) for sql, args in sent if "entities" in sql]
    url = synthetic.engine.url.set(drivername="postgresql").render_as_string(False)
    server_settings = connect_args(Settings(database_url=url))["server_settings"]
    conn = await asyncpg.connect(url, server_settings=server_settings)
    try:
        plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN (COSTS OFF) {sql}", *args))
    finally:
        await conn.close()
    assert "Index Scan using pk_entities" in plan, plan
    assert "Seq Scan on entities" not in plan, plan
