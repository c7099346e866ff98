"""A first page of every root list is read in index order and stops at bench scale 100, by
the planner's own choice.

tests/api/test_plans.py proves that an index *can* give each order: on the seed data, with
sequential scans and sorts switched off. Whether PostgreSQL *chooses* it depends on the
tables' sizes and on the costs: with its defaults, made for disks, a first page of 20
events with their fields hashed all 5,016 events at scale 100 (0.85 ms against 0.48 by key;
soilapi.db.session.connect_args). So here each first-page statement, as each engine sends
it, is EXPLAINed as it would run: on the benchmark's database at scale 100 (1.5 million
rows, built once for this module in about 90 seconds), on a connection with the API's own
settings, nothing switched off. A whole list's `totalCount` is checked there too: it must
count its kind's own table, and read nothing else.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from graphql import GraphQLObjectType, get_named_type, is_leaf_type

from conftest import ROOT_LISTS as LISTS
from conftest import Api, plan_nodes, synthetic_database
from soilapi.db.models import DETAIL_MODELS
from soilapi.db.session import connect_args
from soilapi.graphql.schema import schema
from soilapi.services.listing import ORDERS
from soilapi.settings import Settings
from soilapi.vocab import EntityKind

SCALE = 100
PAGE = 20  # a list view's page
# The rows any step of a first page's plan may handle. The kinds the benchmark grows have
# 5,016 (events) to 100,000 (outputs, partner agreements) records at scale 100, so a scan or
# sort of all of them fails; reading all of a small kind's (19 places, once per place
# shown, is 361) passes.
MOST_ROWS = 1_000

CASES = [
    (kind, order, descending)
    for kind, orders in ORDERS.items()
    for order in orders
    for descending in (False, True)
]


def _fields(list_name: str) -> str:
    """Every field a list's records show without arguments: its scalars, and its dates."""
    connection = get_named_type(schema._schema.query_type.fields[list_name].type)
    assert isinstance(connection, GraphQLObjectType)
    record = get_named_type(connection.fields["nodes"].type)
    assert isinstance(record, GraphQLObjectType)
    shown = []
    for name, field in record.fields.items():
        named = get_named_type(field.type)
        if field.args:
            continue
        if is_leaf_type(named):
            shown.append(name)
        elif named.name == "PartialDate":
            shown.append(f"{name} {{ iso }}")
    return " ".join(shown)


@pytest.fixture(scope="module")
async def at_scale(server_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the benchmark's database at scale 100, vacuumed and analysed as
    autovacuum leaves it, with the settings the API's own connections have."""
    async with synthetic_database(server_url, "soilapi_plans_s100", SCALE, 42) as url:
        settings = connect_args(Settings(database_url=url))["server_settings"]
        conn = await asyncpg.connect(url, server_settings=settings)
        try:
            await conn.execute("VACUUM (ANALYZE)")
            yield conn
        finally:
            await conn.close()


def _read(node: dict[str, Any]) -> int:
    """The rows a node handled over all its loops: those it passed on, and those it read
    and dropped by a filter."""
    handled = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
    return int(handled * node["Actual Loops"])


def _named(node: dict[str, Any]) -> str:
    """A plan node as EXPLAIN's text names it: its type, and the table it reads."""
    table = node.get("Relation Name")
    return f"{node['Node Type']} on {table}" if table else str(node["Node Type"])


def _shown(plan: dict[str, Any], depth: int = 0) -> str:
    """The plan's tree, a node per line with the rows it handled."""
    line = f"{'  ' * depth}{_named(plan)}: {_read(plan)} rows"
    return "\n".join([line, *(_shown(child, depth + 1) for child in plan.get("Plans", ()))])


def test_a_page_shows_every_field_of_its_records() -> None:
    """The pages below ask for what a list view shows: the record's own fields, those of
    its kind's table, and its dates."""
    shown = _fields("events").split(" ")
    assert {"id", "name", "category", "attendanceMode", "start", "end"} <= set(shown)


@pytest.mark.parametrize(("kind", "order", "descending"), CASES)
async def test_a_first_page_stops_after_its_rows_at_scale(
    engine_api: Api,
    at_scale: asyncpg.Connection,
    kind: EntityKind,
    order: Any,
    descending: bool,
) -> None:
    name = LISTS[kind]
    query = (
        f"{{ {name}(first: {PAGE}, orderBy: {order.name}, "
        f"descending: {str(descending).lower()}) {{ nodes {{ {_fields(name)} }} }} }}"
    )
    sent = await engine_api.statements(query)
    assert sent, f"no statement for {query}"
    for sql, args in sent:
        found = await at_scale.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *(args or ()))
        plan = json.loads(found)[0]["Plan"]
        ran = [n for n in plan_nodes(plan) if n["Actual Loops"] > 0]  # not a CASE's other kinds
        handled = {_named(n): _read(n) for n in ran}
        over = {node: rows for node, rows in handled.items() if rows > MOST_ROWS}
        assert not over, f"{query} ({engine_api.name}): {over}\n{sql}\n" + _shown(plan)


@pytest.mark.parametrize("kind", list(ORDERS))
async def test_a_whole_lists_count_reads_only_its_kinds_table_at_scale(
    engine_api: Api, at_scale: asyncpg.Connection, kind: EntityKind
) -> None:
    """`totalCount` of a whole list counts its kind's own table: joined to `entities`, the
    100,000 partner agreements at scale 100 took 88 ms to count, against 12 ms alone."""
    name = LISTS[kind]
    sent = await engine_api.statements(f"{{ {name}(first: 0) {{ totalCount }} }}")
    counts = [(sql, args) for sql, args in sent if "count(" in sql]
    assert counts, f"no count for {name} ({engine_api.name})"
    for sql, args in counts:
        found = await at_scale.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *(args or ()))
        plan = json.loads(found)[0]["Plan"]
        read = {n["Relation Name"] for n in plan_nodes(plan) if "Relation Name" in n}
        assert read == {DETAIL_MODELS[kind].__tablename__}, f"{name}: {read}\n{_shown(plan)}"
