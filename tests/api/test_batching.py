"""N+1 guard: the number of SQL statements depends on the query's shape, not on its rows."""

from __future__ import annotations

from typing import Any

DEEP = """
query($orgs: Int!, $facilities: Int!, $agreements: Int!) {
  organizations(first: $orgs) {
    nodes {
      name
      children { nodes { name children { nodes { name } } } }
      sources { nodes { quote document { key } } }
    }
  }
  facilities(first: $facilities) {
    nodes {
      code
      objectives { nodes { label taskForces { nodes { name } } } }
    }
  }
  partnerAgreements(first: $agreements) {
    nodes {
      ordinal
      parties { nodes { name } }
      instruments { nodes { instrumentType signed { iso } } }
    }
  }
}
"""

SIBLINGS = """
{
  a: organization(slug: "gsp") {
    children { nodes { name } }
    sources { nodes { quote } }
  }
  b: organization(slug: "esp") { children { nodes { name } } }
  facilities { nodes { code } }
}
"""

MANY_ROOTS = """
{
  gsp: organization(slug: "gsp") { name parent { name } children { totalCount } }
  esp: organization(slug: "esp") { name parent { name } children { totalCount } }
  alpsp: organization(slug: "alpsp") { name parent { name } children { totalCount } }
  fao: organization(slug: "fao") { name parent { name } children { totalCount } }
  inser: organization(slug: "inser") { name parent { name } children { totalCount } }
}
"""

NODES = """
query($ids: [ID!]!) {
  nodes(ids: $ids) {
    id
    ... on Organization { name parent { slug } sources(first: 1) { nodes { quote } } }
  }
}
"""

ALL_ORGANIZATION_IDS = "{ organizations(first: 100) { nodes { id } } }"

# Measured on the seed data: 19-22 statements for the deep query, whatever the page sizes.
DEEP_STATEMENT_BOUND = 25
# The count is not exactly constant: a level can hit the request's DataLoader cache (a child
# that is also a top-level row needs no new batch) or be empty (no statement at all), so small
# pages can cost up to three statements more or one less. An N+1 would add one or more
# statements per row: 40+ between 5 and 49 organisations.
LEVEL_SLACK = 3


async def run_deep(api: Any, orgs: int, facilities: int, agreements: int) -> tuple[dict, int]:
    variables = {"orgs": orgs, "facilities": facilities, "agreements": agreements}
    data = await api.data(DEEP, variables)
    return data, api.last_statements


def rows(data: dict[str, Any]) -> int:
    """How many records the deep query returned, all levels together."""
    count = 0
    for org in data["organizations"]["nodes"]:
        count += 1 + len(org["sources"]["nodes"])
        for child in org["children"]["nodes"]:
            count += 1 + len(child["children"]["nodes"])
    for facility in data["facilities"]["nodes"]:
        for objective in facility["objectives"]["nodes"]:
            count += 1 + len(objective["taskForces"]["nodes"])
        count += 1
    for agreement in data["partnerAgreements"]["nodes"]:
        count += 1 + len(agreement["parties"]["nodes"]) + len(agreement["instruments"]["nodes"])
    return count


async def test_deep_query_statements_do_not_grow_with_rows(api: Any) -> None:
    big, big_statements = await run_deep(api, orgs=100, facilities=20, agreements=22)
    small, small_statements = await run_deep(api, orgs=5, facilities=5, agreements=5)
    big_rows, small_rows = rows(big), rows(small)
    print(
        f"\ndeep query: {big_rows} records -> {big_statements} statements; "
        f"{small_rows} records -> {small_statements} statements"
    )
    assert len(big["organizations"]["nodes"]) == 49
    assert len(big["facilities"]["nodes"]) == 12
    assert len(big["partnerAgreements"]["nodes"]) == 22
    assert big_rows > 5 * small_rows, "the two runs must differ a lot in size"

    assert big_statements <= DEEP_STATEMENT_BOUND
    assert small_statements <= DEEP_STATEMENT_BOUND
    assert abs(big_statements - small_statements) <= LEVEL_SLACK, "statements track rows"
    assert_complete(big)


def assert_complete(data: dict[str, Any]) -> None:
    """The full deep query returns every level of the seed data."""
    orgs = {o["name"]: o for o in data["organizations"]["nodes"]}
    gsp = orgs["Global Soil Partnership"]
    esp = next(c for c in gsp["children"]["nodes"] if c["name"] == "European Soil Partnership")
    assert len(esp["children"]["nodes"]) == 4
    assert {s["document"]["key"] for s in gsp["sources"]["nodes"]} == {"000", "001", "002", "003"}
    objectives = [o for f in data["facilities"]["nodes"] for o in f["objectives"]["nodes"]]
    assert len(objectives) == 24
    assert sum(len(o["taskForces"]["nodes"]) for o in objectives) == 10
    agreements = data["partnerAgreements"]["nodes"]
    assert [a["ordinal"] for a in agreements] == list(range(1, 23))
    assert sum(len(a["parties"]["nodes"]) for a in agreements) == 23
    assert sum(len(a["instruments"]["nodes"]) for a in agreements) == 22


async def test_deep_query_statements_stay_flat_across_sizes(api: Any) -> None:
    measured: dict[tuple[int, int, int], tuple[int, int]] = {}
    for sizes in ((40, 12, 22), (20, 8, 10), (10, 4, 4), (1, 1, 1)):
        data, statements = await run_deep(api, *sizes)
        measured[sizes] = (rows(data), statements)
    # The same query again costs the same: the count is a property of the query.
    await run_deep(api, 20, 8, 10)
    assert api.last_statements == measured[20, 8, 10][1]
    print("\ndeep query (records, statements) by page sizes:", measured)
    counts = [statements for _, statements in measured.values()]
    assert max(counts) <= DEEP_STATEMENT_BOUND, measured
    assert max(counts) - min(counts) <= LEVEL_SLACK, measured


async def test_sibling_root_fields_and_nested_lists_share_one_request(api: Any) -> None:
    body = await api.post(SIBLINGS)
    assert "errors" not in body, body["errors"]
    data = body["data"]
    assert len(data["a"]["children"]["nodes"]) == 5
    assert len(data["a"]["sources"]["nodes"]) == 13
    assert [c["name"] for c in data["b"]["children"]["nodes"]] == [
        "Alpine Subregional Soil Partnership",
        "Eurasian Subregional Soil Partnership",
        "Pyrenean Subregional Soil Partnership",
        "Western Balkan Subregional Soil Partnership",
    ]
    assert [f["code"] for f in data["facilities"]["nodes"]][:3] == ["CF2", "CF3", "CF4"]
    assert len(data["facilities"]["nodes"]) == 12


async def test_many_root_fields_are_batched_together(api: Any) -> None:
    data = await api.data(MANY_ROOTS)
    statements = api.last_statements
    print(f"\nfive root lookups with parent and children: {statements} statements")
    assert data["alpsp"]["parent"] == {"name": "European Soil Partnership"}
    assert data["esp"]["parent"] == {"name": "Global Soil Partnership"}
    assert data["gsp"]["children"] == {"totalCount": 5}
    # Measured 8: slugs, entities, parent pages, parent relations, parent entities, children
    # counts, each batched over the five roots. Unbatched it would be 5 statements per level.
    assert statements <= 10


async def test_nodes_are_loaded_in_batches(api: Any) -> None:
    ids = [n["id"] for n in (await api.data(ALL_ORGANIZATION_IDS))["organizations"]["nodes"]]
    few = await api.data(NODES, {"ids": ids[:3]})
    few_statements = api.last_statements
    many = await api.data(NODES, {"ids": ids})
    many_statements = api.last_statements
    print(f"\nnodes: 3 ids -> {few_statements} statements; {len(ids)} ids -> {many_statements}")
    assert [n["id"] for n in many["nodes"]] == ids
    assert len(few["nodes"]) == 3
    assert many_statements == few_statements
