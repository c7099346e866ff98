"""Every order a root list offers is served by an index, both ways, on both engines.

A first page must be read in index order and stop after its rows: a list of 100,000 outputs
sorted newest first took 64 ms to sort where an index scan takes a tenth of a millisecond.
The seed database is small, so the planner might sort it whatever the indexes; with sorts and
sequential scans switched off (`enable_sort`, `enable_seqscan`), a plan still holds a Sort or a
Seq Scan only when no index can give the order. Each first-page statement, as the SQL compiler
and as the resolvers send it, is EXPLAINed that way.
"""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import make_url

from conftest import ROOT_LISTS as LISTS
from conftest import Api, plan_nodes
from soilapi.services.listing import ORDERS
from soilapi.vocab import EntityKind

CASES = [
    (kind, order, descending)
    for kind, orders in ORDERS.items()
    for order in orders
    for descending in (False, True)
]


def test_every_list_with_orders_is_checked() -> None:
    assert set(LISTS) == set(ORDERS)


async def _plan(url: str, sql: str, args: Any, sorts: bool = False) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")
            if not sorts:
                await conn.execute("SET LOCAL enable_sort = off")
            rows = await conn.fetch(f"EXPLAIN (COSTS OFF) {sql}", *(args or ()))
    finally:
        await conn.close()
    return [row[0] for row in rows]


@pytest.mark.parametrize(("kind", "order", "descending"), CASES)
async def test_a_first_page_is_read_in_index_order(
    engine_api: Api, database_url: str, kind: EntityKind, order: Any, descending: bool
) -> None:
    query = (
        f"{{ {LISTS[kind]}(first: 3, orderBy: {order.name}, "
        f"descending: {str(descending).lower()}) {{ nodes {{ id }} }} }}"
    )
    sent = await engine_api.statements(query)
    pages = [(sql, args) for sql, args in sent if "LIMIT" in sql]
    assert pages, f"no page statement for {query}"
    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    for sql, args in pages:
        plan = await _plan(url, sql, args)
        unserved = [line for line in plan if "Sort" in line or "Seq Scan" in line]
        assert not unserved, f"{query} ({engine_api.name}):\n" + "\n".join(plan)


async def test_a_lists_facets_and_totals_read_instruments_from_an_index_alone(
    engine_api: Api, database_url: str
) -> None:
    """The instrument types and FTE of a list's agreements come from the covering index on
    agreement_id, not from the table: a country's 3,352 agreements at scale 100 have their
    instruments anywhere in it (15 ms through the table, 7 ms from the index)."""
    query = """{ partnerAgreements(countries: ["FR"], first: 1) {
        facets { field value count }
        aggregates { fte instruments byInstrumentType { instrumentType count } } } }"""
    sent = await engine_api.statements(query)
    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    reads = []
    for sql, args in sent:
        if "agreement_instruments" in sql:
            plan = await _plan(url, sql, args, sorts=True)
            # (A record's own detail row, by its primary key, is no visit of the instruments.)
            reads += [
                line.strip()
                for line in plan
                if " on agreement_instruments" in line and "pk_agreement_instruments" not in line
            ]
    assert reads, f"no statement read agreement_instruments ({engine_api.name})"
    covered = "Index Only Scan using ix_agreement_instruments_agreement_id_totals"
    assert all(line.startswith(("->  " + covered, covered)) for line in reads), "\n".join(reads)


async def test_a_nested_page_of_one_kind_is_read_from_its_own_index(
    api: Api, database_url: str
) -> None:
    """A page of one kind's records under each parent (an organisation's partner agreements)
    is read in index order from the detail table alone, and stops at its size however many
    records the parent has; `entities` is not read for it (4.2 → 3.6 ms for 50 networks by 10
    agreements at scale 100). Only the page's rows then read their detail row."""
    query = """{ organizations(first: 50) { nodes { partnerAgreements(first: 10) {
        nodes { ordinal rawText listAsOf { iso } } } } } }"""
    sent = await api.statements(query)
    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    (sql, args), *_ = [(sql, args) for sql, args in sent if "partner_agreements" in sql]
    plan = await _plan(url, sql, args)
    shown = "\n".join(plan)
    # The organisations' page reads `entities`; the agreements' page does not.
    assert len([line for line in plan if " on entities" in line]) == 1, shown
    pages = [below for line, below in pairwise(plan) if "->  Limit" in line]
    assert any("Index" in line and " on partner_agreements" in line for line in pages), shown


async def test_a_nested_page_reads_detail_rows_only_for_their_fields(
    api: Api, database_url: str
) -> None:
    """A nested page looks its records' detail rows up after its LIMIT only when the records
    show a field of theirs. 25 agreements and 10 facility blocks with their facilities, by
    name only, cost PostgreSQL 0.33 → 0.29 ms at bench scale 100 without those lookups."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)

    async def looked_up(fields: str) -> bool:
        query = f"""{{ organizations(first: 5) {{ nodes {{ partnerAgreements(first: 3) {{
            nodes {{ {fields} }} }} }} }} }}"""
        sent = await api.statements(query)
        (sql, args), *_ = [(sql, args) for sql, args in sent if "partner_agreements" in sql]
        return any("pk_partner_agreements" in line for line in await _plan(url, sql, args))

    assert not await looked_up("name slug")
    assert await looked_up("name rawText")


async def _json_plan(url: str, sql: str, args: Any) -> dict[str, Any]:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")
            found = await conn.fetchval(f"EXPLAIN (COSTS OFF, FORMAT JSON) {sql}", *(args or ()))
    finally:
        await conn.close()
    plan: dict[str, Any] = json.loads(found)[0]["Plan"]
    return plan


def _scans(node: dict[str, Any], table: str) -> bool:
    return any(n.get("Relation Name") == table for n in plan_nodes(node))


async def test_a_relation_lists_page_is_chosen_before_any_record_is_read(
    engine_api: Api, database_url: str
) -> None:
    """A page of a record's children is chosen on the relations alone (their order and kinds
    are theirs: soilapi.db.models.Relation), so only the page's rows read their record: at
    scale 100 the GSP's first 20 of 707 children read 707 records and sorted them before."""
    query = '{ organization(slug: "gsp") { children(first: 2) { nodes { name } } } }'
    sent = await engine_api.statements(query)
    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    plans = [await _json_plan(url, sql, args) for sql, args in sent if "relations" in sql]
    assert plans, f"no statement read relations ({engine_api.name})"
    for plan in plans:
        # Wherever relations are paged (a LIMIT over them), no record is read under the LIMIT.
        limits = [n for n in plan_nodes(plan) if n["Node Type"] == "Limit"]
        pages = [n for n in limits if _scans(n, "relations")]
        assert pages, json.dumps(plan, indent=1)
        assert all(not _scans(page, "entities") for page in pages), json.dumps(plan, indent=1)


async def test_a_root_lists_records_read_their_detail_rows_in_one_join(
    api: Api, database_url: str
) -> None:
    """A page of organisations with their category reads `organizations` once, joined to
    the page after its LIMIT, not in a subquery per record: on a table as small as the
    seed's, PostgreSQL runs such a subquery as a scan of the whole table, once per record
    (0.29 → 0.18 ms of PostgreSQL CPU for 11 records at bench scale 1)."""
    query = "{ organizations(first: 20) { nodes { name category } } }"
    sent = await api.statements(query)
    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    # The compiler's statement (the resolvers' follow, for the client's comparison).
    sql, args = next((sql, args) for sql, args in sent if "json_build_object" in sql)
    plan = await _json_plan(url, sql, args)
    per_record = [n for n in plan_nodes(plan) if n.get("Parent Relationship") == "SubPlan"]
    assert not any(_scans(n, "organizations") for n in per_record), json.dumps(plan, indent=1)
    assert _scans(plan, "organizations")
