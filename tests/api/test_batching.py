"""N+1 guard: the number of SQL statements depends on the query's shape, not on its rows.

Every test runs on both engines (`engine_api`): the SQL compiler (one statement per root field
it can plan; the resolvers answer what it cannot) and the resolvers alone (QUERY_COMPILER off:
graphql-core with one batched DataLoader statement per list level). Each asserts its own
bound per engine, measured on the seed data, and that a run returning many more rows costs no
more statements than a small one.

Every request also runs one statement before the query: the rate limiter's bucket update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conftest import Api

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

# Records of several types, source documents among them: the compiler leaves source
# documents to the resolvers, so on both engines the resolvers load these nodes.
MIXED_NODES = """
query($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename
    id
    ... on SourceDocument { key lineCount }
    ... on Organization { slug parent { slug } sources(first: 2) { nodes { document { key } } } }
    ... on Facility { code objectives { nodes { label } } }
  }
}
"""

MIXED_IDS = """
{
  organizations(first: 100) { nodes { id } }
  facilities(first: 100) { nodes { id } }
  sourceDocuments { id }
}
"""

# Relation rows both ways under a list of organisations, their ends (loaded by id), the ends'
# own lists, and the document of each relation's source.
RELATIONS = """
query($n: Int!) {
  organizations(first: $n) {
    nodes {
      slug
      out: relations(direction: OUTGOING, first: $n) {
        totalCount
        nodes {
          predicate
          subject { slug }
          object { slug ... on Organization { children(first: $n) { nodes { slug } } } }
          sources { quote document { key } }
        }
      }
      in: relations(
        direction: INCOMING
        predicates: [SUB_ORGANIZATION_OF, UNIT_OF, TECHNICAL_NETWORK_OF]
        first: $n
      ) {
        nodes { predicate subject { slug sources(first: $n) { nodes { quote } } } }
      }
    }
  }
}
"""

# The tree walk (a recursive CTE) both ways under a list of organisations, and lists of the
# organisations it reaches.
TREE = """
query($n: Int!) {
  organizations(first: $n) {
    nodes {
      slug
      ancestors(first: $n) {
        totalCount
        nodes { depth via organization { slug children(first: $n) { nodes { slug } } } }
      }
      descendants(first: $n) {
        totalCount
        nodes { depth organization { slug parent { slug } } }
      }
    }
  }
}
"""

# `entity` (any kind by slug) twice, with lists nested under it.
ENTITY = """
query($n: Int!) {
  gsp: entity(slug: "gsp") { ...Lists }
  esp: entity(slug: "esp") { ...Lists }
}
fragment Lists on Entity {
  slug
  sources(first: $n) { nodes { quote document { key } } }
  relations(direction: INCOMING, first: $n) { nodes { subject { slug } } }
  ... on Organization {
    children(first: $n) {
      nodes { slug sources(first: $n) { nodes { quote } } children(first: $n) { nodes { slug } } }
    }
  }
}
"""

# Source documents from the root fields and as the `document` of provenance at two depths.
DOCUMENTS = """
query($n: Int!) {
  sourceDocuments { key title lineCount lines(start: 1, end: 2) }
  sourceDocument(key: "002") { key title published { iso } }
  organizations(first: $n) {
    nodes {
      sources(first: $n) { nodes { quote document { key title } } }
      names(first: $n) { nodes { value source { document { key } } } }
    }
  }
}
"""

# A cursor no list issued, deep inside: the compiler leaves the query to the resolvers, which
# report the error at every `parent` (nullable, so the rest of the answer stays).
BAD_CURSOR = """
query($n: Int!) {
  organizations(first: $n) {
    nodes {
      slug
      sources(first: $n) { nodes { document { key } } }
      parent { slug children(after: "not-a-cursor") { nodes { slug } } }
    }
  }
}
"""


@dataclass(frozen=True)
class Bound:
    """The most statements a query may cost on each engine, whatever its page sizes."""

    compiled: int
    resolvers: int

    def of(self, api: Api) -> int:
        """The bound of the engine `api` runs on."""
        return self.compiled if api.name == "compiled" else self.resolvers


# Where the bounds come from, counted on the seed data (+1 in each: the rate limiter):
# - compiled: one statement per root field; a query the compiler cannot plan (relations, the
#   tree walk, `entity`, source documents, an error) runs on the resolvers for the resolvers'
#   count, plus nothing: planning reads nothing.
# - resolvers: one batched statement per list level (pages; totals, IDs and other ends of
#   relations loaded by id; provenance documents), whatever the number of parents.
# Deep query, compiled 4: 3 root fields. Resolvers 12: 3 root lists; children,
# grandchildren, sources, their documents; objectives, task forces; parties, instruments.
DEEP_BOUND = Bound(compiled=4, resolvers=12)
# Two slug lookups and a list. Compiled 4: 3 root fields. Resolvers 6: slugs, entities,
# both lookups' children in one page statement, sources, facilities.
SIBLINGS_BOUND = Bound(compiled=4, resolvers=6)
# Five slug lookups. Compiled 6: 5 root fields. Resolvers 6: slugs, entities, parents,
# children's pages, children's counts, each batched over the five (unbatched: 5 per level).
MANY_ROOTS_BOUND = Bound(compiled=6, resolvers=6)
# nodes(ids:) of organisations. Compiled 2: 1 root field. Resolvers 4: entities, parents,
# sources.
NODES_BOUND = Bound(compiled=2, resolvers=4)
# nodes(ids:) with source documents, which only the resolvers read (so on both engines): source
# documents, entities, facilities' objectives, parents, sources, sources' documents.
MIXED_NODES_BOUND = Bound(compiled=7, resolvers=7)
# Resolvers on both engines, 11: organisations; both relation lists (one statement per list),
# outgoing totals; the relations' ends by id; provenance documents; the incoming subjects'
# sources; the objects' children. The ends take two statements, and with many objects so do
# their children: graphql-core reaches a level through different paths a tick apart, and each
# tick's loads make one batch.
RELATIONS_BOUND = Bound(compiled=11, resolvers=11)
# Resolvers on both engines, 11: organisations; ancestors' and descendants' pages; their
# organisations by id; parents and children of those; each walk's totalCount in two statements
# (roots with an empty walk get there a tick before the others).
TREE_BOUND = Bound(compiled=11, resolvers=11)
# Resolvers on both engines, 10: slugs, entities; children, sources, relations; grandchildren,
# children's sources; documents, relations' subjects.
ENTITY_BOUND = Bound(compiled=10, resolvers=10)
# Resolvers on both engines, 6: sourceDocuments and sourceDocument (one statement for both);
# organisations, their sources and names; the documents of both, by id.
DOCUMENTS_BOUND = Bound(compiled=6, resolvers=6)
# Resolvers on both engines, 5: organisations, sources, parents, documents; the bad cursor
# fails before any statement.
BAD_CURSOR_BOUND = Bound(compiled=5, resolvers=5)


@dataclass
class Sizes:
    """A query run with a small `$n` and a large one."""

    small: dict[str, Any]
    big: dict[str, Any]
    few: int  # statements of the small run
    many: int  # statements of the big run


def count_objects(value: Any) -> int:
    """How many objects an answer holds, all levels together."""
    if isinstance(value, list):
        return sum(count_objects(item) for item in value)
    if isinstance(value, dict):
        return 1 + sum(count_objects(item) for item in value.values())
    return 0


def answered_by(api: Api) -> str:
    """Which executor answered the last request: "compiled", "resolvers" (the compiler could
    not plan it) or "compiler_off"."""
    return ",".join(api.last_runs)


async def two_sizes(api: Api, query: str, few: int, many: int) -> Sizes:
    """Run `query` with `$n` = few, then many; the big answer must be much bigger."""
    small = await api.data(query, {"n": few})
    small_statements = api.last_statements
    big = await api.data(query, {"n": many})
    run = Sizes(small, big, small_statements, api.last_statements)
    print(
        f"\n{api.name} ({answered_by(api)}): {count_objects(small)} objects -> {run.few} "
        f"statements; {count_objects(big)} objects -> {run.many}"
    )
    assert count_objects(big) > 3 * count_objects(small), "the runs must differ a lot in size"
    return run


async def run_deep(api: Api, orgs: int, facilities: int, agreements: int) -> tuple[dict, int]:
    variables = {"orgs": orgs, "facilities": facilities, "agreements": agreements}
    data = await api.data(DEEP, variables)
    return data, api.last_statements


# The resolvers' count of the deep query is not exactly constant: a level can be empty (the
# first facility's objectives have no task forces: no statement) or come from the request's
# DataLoader cache (all 49 organisations at the top: every grandchild's page was read as a
# child's). Measured 11-12; the compiler's is always 4. An N+1 would add one or more
# statements per row: 40+ between 5 and 49 organisations.
LEVEL_SLACK = 1


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


async def test_deep_query_statements_do_not_grow_with_rows(engine_api: Api) -> None:
    big, big_statements = await run_deep(engine_api, orgs=100, facilities=20, agreements=22)
    small, small_statements = await run_deep(engine_api, orgs=5, facilities=5, agreements=5)
    big_rows, small_rows = rows(big), rows(small)
    print(
        f"\n{engine_api.name} deep query: {big_rows} records -> {big_statements} statements; "
        f"{small_rows} records -> {small_statements} statements"
    )
    assert len(big["organizations"]["nodes"]) == 49
    assert len(big["facilities"]["nodes"]) == 12
    assert len(big["partnerAgreements"]["nodes"]) == 22
    assert big_rows > 5 * small_rows, "the two runs must differ a lot in size"

    assert big_statements <= DEEP_BOUND.of(engine_api)
    assert small_statements <= DEEP_BOUND.of(engine_api)
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


async def test_deep_query_statements_stay_flat_across_sizes(engine_api: Api) -> None:
    measured: dict[tuple[int, int, int], tuple[int, int]] = {}
    for sizes in ((40, 12, 22), (20, 8, 10), (10, 4, 4), (1, 1, 1)):
        data, count = await run_deep(engine_api, *sizes)
        measured[sizes] = (rows(data), count)
    # The same query again costs the same: the count is a property of the query.
    await run_deep(engine_api, 20, 8, 10)
    assert engine_api.last_statements == measured[20, 8, 10][1]
    print(f"\n{engine_api.name} deep query (records, statements) by page sizes:", measured)
    counts = [count for _, count in measured.values()]
    assert max(counts) <= DEEP_BOUND.of(engine_api), measured
    assert max(counts) - min(counts) <= LEVEL_SLACK, measured


async def test_sibling_root_fields_and_nested_lists_share_one_request(engine_api: Api) -> None:
    body = await engine_api.post(SIBLINGS)
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
    assert engine_api.last_statements <= SIBLINGS_BOUND.of(engine_api)


async def test_many_root_fields_are_batched_together(engine_api: Api) -> None:
    data = await engine_api.data(MANY_ROOTS)
    count = engine_api.last_statements
    print(f"\n{engine_api.name} five root lookups with parent and children: {count} statements")
    assert data["alpsp"]["parent"] == {"name": "European Soil Partnership"}
    assert data["esp"]["parent"] == {"name": "Global Soil Partnership"}
    assert data["gsp"]["children"] == {"totalCount": 5}
    assert count <= MANY_ROOTS_BOUND.of(engine_api)


async def test_nodes_are_loaded_in_batches(engine_api: Api) -> None:
    all_ids = await engine_api.data(ALL_ORGANIZATION_IDS)
    ids = [n["id"] for n in all_ids["organizations"]["nodes"]]
    few = await engine_api.data(NODES, {"ids": ids[:3]})
    few_statements = engine_api.last_statements
    many = await engine_api.data(NODES, {"ids": ids})
    many_statements = engine_api.last_statements
    print(
        f"\n{engine_api.name} ({answered_by(engine_api)}) nodes: 3 ids -> {few_statements} "
        f"statements; {len(ids)} ids -> {many_statements}"
    )
    assert [n["id"] for n in many["nodes"]] == ids
    assert len(few["nodes"]) == 3
    assert many_statements == few_statements
    assert many_statements <= NODES_BOUND.of(engine_api)


async def test_nodes_of_several_types_are_loaded_in_batches(engine_api: Api) -> None:
    found = await engine_api.data(MIXED_IDS)
    ids = [n["id"] for n in found["sourceDocuments"]]
    ids += [n["id"] for n in found["facilities"]["nodes"]]
    ids += [n["id"] for n in found["organizations"]["nodes"]][:40]
    few = await engine_api.data(MIXED_NODES, {"ids": [ids[0], ids[4], ids[-1]]})
    few_statements = engine_api.last_statements
    many = await engine_api.data(MIXED_NODES, {"ids": ids})
    many_statements = engine_api.last_statements
    print(
        f"\n{engine_api.name} ({answered_by(engine_api)}) nodes of three types: 3 ids -> "
        f"{few_statements} statements; {len(ids)} ids -> {many_statements}"
    )
    assert [n["__typename"] for n in few["nodes"]] == ["SourceDocument", "Facility", "Organization"]
    assert [n["id"] for n in many["nodes"]] == ids
    assert [n["key"] for n in many["nodes"][:4]] == ["000", "001", "002", "003"]
    # With all ids the documents of the organisations' sources are among the nodes already
    # read (the request's DataLoader cache): one statement fewer, never more.
    assert few_statements - 1 <= many_statements <= few_statements
    assert few_statements <= MIXED_NODES_BOUND.of(engine_api)


async def test_relations_statements_do_not_grow_with_rows(engine_api: Api) -> None:
    run = await two_sizes(engine_api, RELATIONS, few=2, many=50)
    orgs = {org["slug"]: org for org in run.big["organizations"]["nodes"]}
    assert len(orgs) == 49
    assert {r["subject"]["slug"] for r in orgs["gsp"]["in"]["nodes"]} == {
        "esp",
        "inser",
        "gsp-secretariat",
        "gsp-plenary-assembly",
        "itps",
    }
    assert all(len(o["out"]["nodes"]) == o["out"]["totalCount"] for o in orgs.values())
    assert run.many <= RELATIONS_BOUND.of(engine_api)
    # Slack 1: with 50 organisations the objects' children take two statements, as the ends
    # themselves do (see RELATIONS_BOUND): one more for the level, not one per row.
    assert 0 <= run.many - run.few <= 1


async def test_tree_walk_statements_do_not_grow_with_rows(engine_api: Api) -> None:
    run = await two_sizes(engine_api, TREE, few=2, many=50)
    orgs = {org["slug"]: org for org in run.big["organizations"]["nodes"]}
    assert len(orgs) == 49
    ancestors = orgs["alpsp"]["ancestors"]
    assert [(a["depth"], a["organization"]["slug"]) for a in ancestors["nodes"]] == [
        (1, "esp"),
        (2, "gsp"),
    ]
    assert orgs["gsp"]["descendants"]["totalCount"] == 9
    assert run.many == run.few
    assert run.many <= TREE_BOUND.of(engine_api)


async def test_entity_statements_do_not_grow_with_rows(engine_api: Api) -> None:
    run = await two_sizes(engine_api, ENTITY, few=1, many=50)
    assert len(run.big["gsp"]["children"]["nodes"]) == 5
    assert len(run.big["esp"]["children"]["nodes"]) == 4
    assert run.many == run.few
    assert run.many <= ENTITY_BOUND.of(engine_api)


async def test_source_document_statements_do_not_grow_with_rows(engine_api: Api) -> None:
    run = await two_sizes(engine_api, DOCUMENTS, few=2, many=50)
    assert [d["key"] for d in run.big["sourceDocuments"]] == ["000", "001", "002", "003"]
    assert run.big["sourceDocument"]["key"] == "002"
    documents = {
        source["document"]["key"]
        for org in run.big["organizations"]["nodes"]
        for source in org["sources"]["nodes"]
    }
    assert documents == {"000", "001", "002", "003"}
    assert run.many == run.few
    assert run.many <= DOCUMENTS_BOUND.of(engine_api)


async def test_aliased_source_documents_are_read_once(engine_api: Api) -> None:
    """Each `sourceDocument(key:)` alias reads nothing more: the request reads the documents
    once (it read them once per alias, up to the 30 aliases a query may hold)."""
    measured = {}
    for count in (1, 12):
        aliases = " ".join(
            f'd{i}: sourceDocument(key: "00{i % 4}") {{ key }}' for i in range(count)
        )
        data = await engine_api.data(f"{{ sourceDocuments {{ key }} {aliases} }}")
        assert data["d0"] == {"key": "000"}
        measured[count] = engine_api.last_statements
    assert measured[12] == measured[1], measured


async def test_an_error_deep_inside_costs_no_statement_per_row(engine_api: Api) -> None:
    measured = {}
    for n in (2, 50):
        body = await engine_api.post(BAD_CURSOR, {"n": n})
        assert {e["extensions"]["code"] for e in body["errors"]} == {"INVALID_CURSOR"}
        assert all(e["path"][-2:] == ["parent", "children"] for e in body["errors"])
        orgs = body["data"]["organizations"]["nodes"]
        assert len(orgs) == min(n, 49)
        assert all(org["parent"] is None for org in orgs)
        measured[n] = (len(orgs), len(body["errors"]), engine_api.last_statements)
    print(
        f"\n{engine_api.name} ({answered_by(engine_api)}) bad cursor "
        f"(organisations, errors, statements): {measured}"
    )
    assert measured[50][1] > 5 * measured[2][1], "one error per organisation with a parent"
    assert measured[50][2] == measured[2][2]
    assert measured[50][2] <= BAD_CURSOR_BOUND.of(engine_api)
