"""Query limits: abusive documents are refused before any resolver runs, with a code per limit.

Every refusal is checked through HTTP for its code, a message that states the limit, and the
absence of data; every limit is also checked to let a query exactly at it through.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Any

import graphql
import pytest
import sqlalchemy as sa
import strawberry
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.graphql.errors import ErrorCodes, classify
from soilapi.graphql.limits import Cost, ExecutionTimeout, Limits, estimate
from soilapi.graphql.schema import schema
from soilapi.lru import caches

LIMITS = Limits()  # the defaults the API runs with in the tests


def nested(levels: int, leaf: str = "name") -> str:
    """A query `2 * levels + 2` fields deep: gsp's children, their children ..."""
    inner = leaf
    for _ in range(levels):
        inner = f"children(first: 1) {{ nodes {{ {inner} }} }}"
    return f'{{ organization(slug: "gsp") {{ {inner} }} }}'


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(count)) + " }"


def directives(count: int) -> str:
    fields = " ".join(f"a{i}: __typename @include(if: true)" for i in range(count))
    return "{ " + fields + " }"


def tokens(count: int) -> str:
    """A valid document of exactly `count` (at least 10) tokens.

    The same fragment spread over and over (2 tokens each, merged into one field) packs 5000
    tokens into fewer characters than the endpoint accepts.
    """
    spreads, odd = divmod(count - 10, 2)
    return "{ " + "...F " * spreads + "} fragment F on Query { " + "__typename " * (2 + odd) + "}"


COST_QUERY = "{ organizations(first: 10) { nodes { children(first: 5) { nodes { name } } } } }"
# a: 100 + 100 * 100 + 100 * 100 * 48 = 490 100; b: 100 + 100 * 98 = 9 900: exactly 500 000.
AT_NODE_LIMIT = """{
  a: organizations(first: 100) { nodes { children(first: 100) { nodes {
    children(first: 48) { totalCount } } } } }
  b: organizations(first: 100) { nodes { children(first: 98) { totalCount } } }
}"""
OVER_NODE_LIMIT = AT_NODE_LIMIT[:-1] + "places(first: 1) { totalCount } }"
DEEP_PAGES = """
query($n: Int) {
  organizations(first: $n) { nodes {
    children(first: 100) { nodes { children(first: 100) { nodes { name } } } } } }
}
"""
# Aliases inside a fragment count once per use: 4 aliases + 10 aliases x 4 uses.
FRAGMENT_ALIASES = (
    '{ a: organization(slug: "gsp") { ...F } b: organization(slug: "esp") { ...F } '
    'c: organization(slug: "fao") { ...F } d: organization(slug: "inser") { ...F } } '
    "fragment F on Organization { " + " ".join(f"n{i}: name" for i in range(10)) + " }"
)
INTROSPECTION_BOMB = """
{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }
"""
TWO_OPERATIONS = """
query Small { organizations(first: 2) { nodes { name } } }
query Large { organizations(first: 100) { nodes { children(first: 100) { totalCount } } } }
"""


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    errors = body.get("errors")
    assert errors, body
    assert len(errors) == 1, errors
    error: dict[str, Any] = errors[0]
    return error


async def refused(api: Any, query: str, code: str, *phrases: str) -> dict[str, Any]:
    """Post a query that must be refused before execution with `code`; return the error."""
    body = await api.post(query)
    error = only_error(body)
    assert error["extensions"]["code"] == code, error
    for phrase in phrases:
        assert phrase in error["message"], error
    assert body.get("data") is None, body  # nothing ran
    return error


async def test_depth_limit(api: Any) -> None:
    assert (await api.data(nested(7)))["organization"]["children"]  # 16 deep
    error = await refused(api, nested(7, "start { iso }"), "QUERY_TOO_DEEP", "17", "limit is 16")
    assert error["extensions"]["limit"] == 16
    assert error["extensions"]["value"] == 17


async def test_alias_limit(api: Any) -> None:
    assert len(await api.data(aliases(30))) == 30
    await refused(api, aliases(31), "TOO_MANY_ALIASES", "31 aliases", "limit is 30")


async def test_aliases_in_fragments_count_per_use(api: Any) -> None:
    await refused(api, FRAGMENT_ALIASES, "TOO_MANY_ALIASES", "44 aliases", "limit is 30")


async def test_directive_limit(api: Any) -> None:
    assert len(await api.data(directives(20))) == 20
    await refused(api, directives(21), "TOO_MANY_DIRECTIVES", "21 directives", "limit is 20")


async def test_token_limit_applies_at_parse_time(api: Any) -> None:
    assert await api.data(tokens(5000)) == {"__typename": "Query"}
    error = await refused(api, tokens(5001), "TOO_MANY_TOKENS", "more than 5000 tokens")
    assert "limit is 5000" in error["message"]


async def test_node_limit_counts_page_sizes_along_each_path(api: Any) -> None:
    body = await api.post(AT_NODE_LIMIT)
    assert "errors" not in body, body["errors"]
    assert body["extensions"]["cost"]["maxNodes"] == 500_000
    error = await refused(
        api, OVER_NODE_LIMIT, "QUERY_TOO_COSTLY", "500001 nodes", "limit is 500000"
    )
    assert error["extensions"]["limit"] == 500_000


async def test_node_limit_reads_page_sizes_from_variables(api: Any) -> None:
    body = await api.post(DEEP_PAGES, {"n": 1})  # 1 + 100 + 10 000
    assert "errors" not in body, body["errors"]
    assert body["extensions"]["cost"]["maxNodes"] == 10_101
    body = await api.post(DEEP_PAGES, {"n": 50})  # 50 + 5 000 + 500 000
    assert only_error(body)["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "505050 nodes" in only_error(body)["message"]
    body = await api.post(DEEP_PAGES)  # no $n: the default page of 20
    assert body["extensions"]["cost"]["maxNodes"] == 20 + 2_000 + 200_000


async def test_a_count_past_any_integer_is_refused_not_a_500(api: Any) -> None:
    """Ten nested pages of 100 (a 363-byte query) make 10^20 nodes, more than a JSON integer
    holds: counting stops at 2^53 - 1 and the query is refused with QUERY_TOO_COSTLY."""
    inner = "name"
    for _ in range(9):
        inner = f"children(first: 100) {{ nodes {{ {inner} }} }}"
    query = f"{{ organizations(first: 100) {{ nodes {{ {inner} }} }} }}"
    assert len(query) == 363
    body = await api.post(query)  # posted as application/json: a 500 fails here
    costly = [e for e in body["errors"] if e["extensions"]["code"] == "QUERY_TOO_COSTLY"]
    assert costly
    assert costly[0]["extensions"]["value"] == 2**53 - 1
    assert body.get("data") is None


async def test_every_list_counts_in_the_cost_not_only_connections(api: Any) -> None:
    """`lines` returned 18 MB for 24 points: a list counts what it declares it may return
    (200 lines), and a list that declares nothing counts a default page (20), like a
    connection asked for no page size."""
    one = estimate(schema, '{ sourceDocument(key: "000") { lines } }')
    assert one.max_nodes == 200
    all_lines = estimate(schema, "{ sourceDocuments { lines } }")
    assert all_lines.max_nodes == 20 + 20 * 200  # a default page of documents, 200 lines each
    aliased = " ".join(f"a{i}: sourceDocuments {{ lines }}" for i in range(30))
    body = await api.post(f"{{ {aliased} }}")
    assert body["extensions"]["cost"]["maxNodes"] == 30 * 4020
    # 6 for the 630 fetches (each alias's documents, then each document's lines), 120 for
    # the 120 600 items it could return.
    assert body["extensions"]["cost"]["pageRequests"] == 30 * 21
    assert body["extensions"]["cost"]["requestedQueryCost"] == 6 + 120


async def test_size_limits_apply_before_validation(api: Any) -> None:
    """2,400 unknown directives once skipped the directive limit, since validation failed
    first and wrote an error for each; now the limit refuses the document alone."""
    query = "{ __typename " + "@nope " * 2400 + "}"
    error = await refused(api, query, "TOO_MANY_DIRECTIVES", "2400 directives")
    assert error["extensions"]["value"] == 2400
    deep_and_invalid = nested(8, "noSuchField")
    await refused(api, deep_and_invalid, "QUERY_TOO_DEEP", "limit is 16")
    many_unknown_aliases = "{ " + " ".join(f"a{i}: nope" for i in range(40)) + " }"
    await refused(api, many_unknown_aliases, "TOO_MANY_ALIASES", "limit is 30")


async def test_a_fragment_cycle_is_still_graphql_cores_error(api: Any) -> None:
    query = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    body = await api.post(query)
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"GRAPHQL_VALIDATION_FAILED"}, body
    assert "Cannot spread fragment" in body["errors"][0]["message"]


async def test_cost_is_reported_in_extensions(api: Any) -> None:
    body = await api.post(COST_QUERY)
    assert "errors" not in body, body["errors"]
    assert body["extensions"]["cost"] == {
        "requestedQueryCost": 1,
        "maxNodes": 60,
        "pageRequests": 11,
        "selections": 5,
    }


async def test_request_cost_counts_pages_of_100_like_github(api: Any) -> None:
    body = await api.post(DEEP_PAGES, {"n": 1})
    # 1 request for the organizations, 1 for their children, 100 for the grandchildren: 1
    # point; and 10 for the 10 101 nodes they could return.
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1 + 10
    cost = estimate(schema, AT_NODE_LIMIT)
    # a: 1 + 100 + 100 * 100 page requests; b: 1 + 100.
    assert cost.requests == (1 + 100 + 10_000) + (1 + 100)
    # 10 202 / 100, rounded; 500 000 nodes / 1000; 12 selections / 100.
    assert cost.requested_query_cost == 102 + 500 + 0


async def test_a_long_document_pays_for_its_selections(api: Any) -> None:
    """A document repeating one field fetches one page, but is long to check: each 100 field
    selections it writes cost a point."""
    body = await api.post("{ organizations(first: 1) { nodes { " + "name " * 500 + "} } }")
    cost = body["extensions"]["cost"]
    assert (cost["selections"], cost["maxNodes"]) == (502, 1)
    assert cost["requestedQueryCost"] == 1 + 5


async def test_standard_introspection_passes_every_limit(api: Any) -> None:
    query = graphql.get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
    )
    body = await api.post(query)
    assert "errors" not in body, body["errors"]
    assert any(t["name"] == "Organization" for t in body["data"]["__schema"]["types"])


async def test_introspection_cannot_fan_out_without_bound(api: Any) -> None:
    error = await refused(api, INTROSPECTION_BOMB, "QUERY_TOO_COMPLEX", "3 or more deep")
    assert "limit is 2" in error["message"]


async def test_typos_get_no_suggestions(api: Any) -> None:
    typos = {
        '{ organization(slug: "gsp") { nam } }': "nam",
        "{ organizations(frist: 1) { totalCount } }": "frist",
        "{ organizations(orderBy: NAM) { totalCount } }": "NAM",
        "query($o: OrganizationOrder) { organizations(orderBy: $o) { totalCount } }": "NAM",
    }
    for query, typo in typos.items():
        error = only_error(await api.post(query, {"o": "NAM"} if "$o" in query else None))
        assert typo in error["message"], error
        assert "Did you mean" not in error["message"], error


def test_estimate_prices_the_named_operation_and_refused_documents_at_1() -> None:
    assert estimate(schema, COST_QUERY) == Cost(max_nodes=60, requests=11, selections=5)
    assert estimate(schema, TWO_OPERATIONS, operation_name="Small").max_nodes == 2
    assert estimate(schema, TWO_OPERATIONS, operation_name="Large").max_nodes == 10_100
    for refused_document in ("{ organizations { ", OVER_NODE_LIMIT, tokens(5001)):
        assert estimate(schema, refused_document).requested_query_cost == 1


def test_a_document_is_measured_once_for_all_slugs_and_ids_of_one_count() -> None:
    """Varied variables (other slugs, cursors, ids) cost a lookup; only a page size or a list's
    length changes the measure, and so the cost."""
    query = """query($slug: String!, $n: Int, $ids: [ID!]!) {
      organization(slug: $slug) { children(first: $n) { nodes { name } } }
      nodes(ids: $ids) { id } }"""

    def costs_measured() -> int:
        (figures,) = [f for f in caches() if f.name == "costs"]
        return figures.misses

    def price(slug: str, n: int, ids: list[str]) -> Cost:
        return estimate(schema, query, {"slug": slug, "n": n, "ids": ids})

    first = price("gsp", 5, ["a", "b"])
    before = costs_measured()
    assert price("esp", 5, ["c", "d"]) == first == Cost(max_nodes=5 + 2, requests=2, selections=6)
    assert price("fao", 5, ["e", "f"]) == first
    assert costs_measured() == before
    assert price("gsp", 7, ["a", "b"]) == Cost(max_nodes=7 + 2, requests=2, selections=6)
    assert price("gsp", 5, ["a", "b", "c"]) == Cost(max_nodes=5 + 3, requests=2, selections=6)
    assert costs_measured() == before + 2


def test_fragment_bombs_are_measured_quickly() -> None:
    """Each fragment used twice by the one before: 2^60 paths, measured once per fragment."""
    levels = 60
    fragments = [
        f"fragment F{i} on Organization {{ children(first: 2) {{ nodes {{ ...F{i + 1} }} }} "
        f"again: children(first: 2) {{ nodes {{ ...F{i + 1} }} }} }}"
        for i in range(levels)
    ]
    query = '{ organization(slug: "gsp") { ...F0 } }\n' + "\n".join(fragments)
    query += f"\nfragment F{levels} on Organization {{ name }}"
    started = time.perf_counter()
    unbounded = Limits(depth=10**6, aliases=10**40, nodes=10**40)
    cost = estimate(schema, query, limits=unbounded)
    # Counted path by path, 2^60 paths would never finish: the bound tells a measure once per
    # fragment (well under a second) from that, with room for a busy machine (it took 1.4 s
    # once, under a full test run beside other work).
    assert time.perf_counter() - started < 10
    assert cost.max_nodes == 2**53 - 1  # 2^60 paths and more: counting saturates


@strawberry.type
class Slow:
    @strawberry.field
    async def nap(self) -> str:
        await asyncio.sleep(5)
        return "awake"


async def test_execution_timeout_stops_the_query_with_code_timeout() -> None:
    slow = strawberry.Schema(
        query=Slow, extensions=[ErrorCodes, partial(ExecutionTimeout, seconds=0.05)]
    )
    started = time.perf_counter()
    result = await slow.execute("{ nap }")
    assert time.perf_counter() - started < 1
    assert result.data is None
    assert result.errors is not None
    (error,) = result.errors
    assert error.extensions == {"code": "TIMEOUT", "limit": 0.05}
    assert "limit of 0.05 s" in error.message


async def test_statement_timeout_is_a_timeout_not_an_internal_error(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(sa.text("SET LOCAL statement_timeout = 20"))
        with pytest.raises(DBAPIError) as caught:
            await conn.execute(sa.text("SELECT pg_sleep(2)"))
    seen = graphql.GraphQLError("boom", path=["organizations"], original_error=caught.value)
    error = classify(seen)
    assert error.extensions is not None
    assert error.extensions["code"] == "TIMEOUT"
    assert "statement timeout" in error.message
    assert "pg_sleep" not in error.message
