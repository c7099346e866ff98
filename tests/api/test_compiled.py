"""Queries compiled to SQL (soilapi.graphql.compiler): one statement per root field, the same
answers as the resolvers (the `api` client compares every answer with graphql-core's), and the
resolvers take over whenever the compiled statement cannot answer."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from graphql import GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLObjectType
from strawberry.types.arguments import convert_arguments

from soilapi.db import session
from soilapi.db.session import Prepared, statements_sent
from soilapi.graphql import ids
from soilapi.graphql.compiler import argument_plan, converted_arguments
from soilapi.graphql.schema import schema
from soilapi.repositories import json_query

WIDE = """
query Wide($slug: String!) {
  __typename
  organization(slug: $slug) {
    __typename id slug name acronym kind country category orgClass isInternationalOrg
    start { iso year value precision __typename } end { iso }
    parent { name }
    sources(first: 3) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { quote evidence property lines { start end } document { key title } } }
    }
    names { nodes { value kind source { quote lines { start } document { key } } } }
    identifiers { nodes { scheme value } }
    quantities { nodes { metric value qualifier text asOf { iso } } }
    statements { nodes { property ordinal text } }
    children(first: 2) {
      __typename
      totalCount
      nodes { name hostedBy { nodes { slug } } }
      pageInfo { endCursor hasNextPage }
    }
  }
}
"""

FACILITIES = """
{
  facilities(first: 3) {
    edges {
      cursor
      node {
        code codeInferred position
        block { facilityKind columnHeaders owner { slug } }
        objectives(last: 2) {
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          nodes { label goalLetter assignmentContested facility { code } }
        }
      }
    }
  }
}
"""

PARTIES = """
{
  partnerAgreements(first: 10) {
    totalCount
    nodes {
      ordinal rawText listAsOf { iso }
      owner { slug }
      parties {
        nodes {
          __typename
          name
          ... on Organization { category jurisdictionLabel }
          ... on Initiative { goal launched { iso } }
        }
      }
      instruments { nodes { instrumentType fte durationMonths signed { iso } end { iso } } }
    }
  }
}
"""


async def _reads(api: Any) -> int:
    """Statements of the last request beyond those every request runs (the rate limiter's
    bucket update), measured on a query that reads nothing."""
    statements = api.last_statements
    await api.data("{ __typename }")
    return int(statements - api.last_statements)


async def _org_id(api: Any, slug: str) -> str:
    data = await api.data("query($s: String!) { organization(slug: $s) { id } }", {"s": slug})
    found: str = data["organization"]["id"]
    return found


@pytest.mark.parametrize("query", [WIDE, FACILITIES, PARTIES])
async def test_a_nested_query_is_one_statement(api: Any, query: str) -> None:
    """However deep the selection, a root field costs one SQL statement."""
    variables = {"slug": "gsp"} if "$slug" in query else None
    data = await api.data(query, variables)
    assert await _reads(api) == 1
    assert data  # and the answer matched the resolvers' (Api.post)
    # Asked again, the endpoint runs the remembered statement: still one, same answer.
    assert await api.data(query, variables) == data
    assert await _reads(api) == 1


DASHBOARD = """
query($c: [String!], $d: [String!]) {
  german: organizations(countries: $c, first: 2) { totalCount nodes { slug country } }
  other: organizations(countries: $d, first: 3) { nodes { slug country } }
  outputs(orderBy: START, descending: true, first: 2) { nodes { slug start { iso } } }
}
"""


async def test_quick_root_fields_are_answered_by_one_statement(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root fields known to be quick run as one statement: one round trip, and no
    transaction around them (one statement reads one snapshot). Each root field's binds are
    its own, though two of them bind a country list by the same name."""
    monkeypatch.setattr(session, "SIDE_BY_SIDE_SECONDS", 60)  # never worth a connection each
    german = {"c": ["DE"], "d": ["FR"]}
    first = await api.data(DASHBOARD, german)  # its reads never ran: they may be slow
    again = await api.data(DASHBOARD, german)
    assert await _reads(api) == 1
    assert again == first
    assert {n["country"] for n in first["german"]["nodes"]} == {"DE"}
    assert {n["country"] for n in first["other"]["nodes"]} == {"FR"}
    assert len(first["outputs"]["nodes"]) == 2
    # Other values, the same statement (and answers the resolvers agree with: Api.post).
    swapped = await api.data(DASHBOARD, {"c": ["FR"], "d": ["DE"]})
    assert await _reads(api) == 1
    assert swapped["german"]["nodes"] == first["other"]["nodes"][:2]
    assert swapped["other"]["nodes"][:2] == first["german"]["nodes"]


async def test_root_fields_too_long_together_run_one_by_one(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root fields whose statement together would be too long to stay prepared (PostgreSQL
    would parse and plan it at every run) run one after another, each prepared on its own."""
    monkeypatch.setattr(session, "SIDE_BY_SIDE_SECONDS", 60)
    selection = WIDE.split("organization(slug: $slug)", 1)[1].rsplit("}", 1)[0]
    slugs = ["gsp", "esp", "fao", "gsp", "esp", "fao", "gsp", "esp"]
    roots = " ".join(f"o{i}: organization(slug: $slug{i}) {selection}" for i in range(len(slugs)))
    declared = ", ".join(f"$slug{i}: String!" for i in range(len(slugs)))
    query = f"query({declared}) {{ {roots} }}"
    variables = {f"slug{i}": slug for i, slug in enumerate(slugs)}
    first = await api.data(query, variables)
    with statements_sent(api.engine) as all_sent:
        again = await api.data(query, variables)
    sent = [sql for sql, _ in all_sent if sql.startswith("SELECT CAST((SELECT")]
    assert again == first
    assert [first[f"o{i}"]["slug"] for i in range(len(slugs))] == slugs
    assert len(sent) == len(slugs)
    assert sum(len(sql) for sql in sent) > session.MAX_CACHEABLE_STATEMENT_BYTES


async def test_root_fields_that_cannot_share_a_statement_run_one_by_one(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two searches' statements name their parts alike: they cannot be one statement, and
    run one after another in one snapshot instead."""
    monkeypatch.setattr(session, "SIDE_BY_SIDE_SECONDS", 60)
    query = """
    query($q: String!, $r: String!) {
      a: search(query: $q, first: 2) { nodes { node { id } } }
      b: search(query: $r, first: 2) { nodes { node { id } } }
    }"""
    words = {"q": "soil partnership", "r": "erosion"}
    first = await api.data(query, words)
    again = await api.data(query, words)
    assert again == first
    assert len(first["a"]["nodes"]) == 2
    assert await _reads(api) == 2  # one after another (BEGIN and ROLLBACK are not counted)


async def test_a_page_size_is_written_into_a_statement_unless_it_binds_a_filter(
    api: Any,
) -> None:
    """A statement has its page size in its text, so that PostgreSQL plans it once (a bound
    LIMIT made it plan again at every run), and another page size is another statement; a
    cursor stays bound. One that binds a filter's values (here a country) keeps its size bound
    too, so that PostgreSQL goes on planning it for the values at hand."""
    plain = "query($n: Int!) { organizations(first: $n) { nodes { slug } } }"
    dated = "query($n: Int!) { timeline(first: $n) { nodes { dateKind } } }"
    filtered = (
        "query($n: Int!, $c: [String!]) "
        "{ organizations(first: $n, countries: $c) { nodes { slug } } }"
    )
    after = "query($n: Int!, $a: String) { organizations(first: $n, after: $a) { nodes { slug } } }"
    paged = "query($n: Int!) { organizations(first: $n) { pageInfo { endCursor } } }"
    cursor = (await api.data(paged, {"n": 3}))["organizations"]
    with statements_sent(api.engine) as all_sent:
        three = await api.data(plain, {"n": 3})
        four = await api.data(plain, {"n": 4})
        german = await api.data(filtered, {"n": 2, "c": ["DE"]})
        timeline = await api.data(dated, {"n": 2})
        later = await api.data(after, {"n": 2, "a": cursor["pageInfo"]["endCursor"]})
    sent = [  # the compiled root fields' statements
        (sql, list(args or ())) for sql, args in all_sent if sql.startswith("SELECT CAST((SELECT")
    ]
    assert [len(three["organizations"]["nodes"]), len(four["organizations"]["nodes"])] == [3, 4]
    assert len(german["organizations"]["nodes"]) == 2
    assert len(timeline["timeline"]["nodes"]) == 2
    assert later["organizations"]["nodes"][0] == four["organizations"]["nodes"][3]
    (
        (three_sql, three_args),
        (four_sql, four_args),
        (german_sql, german_args),
        dated_run,
        (
            after_sql,
            after_args,
        ),
    ) = sent
    assert "LIMIT 4::INTEGER" in three_sql
    assert "LIMIT 5::INTEGER" in four_sql
    assert [three_args, four_args] == [[], []]
    assert "LIMIT 3::INTEGER" in after_sql
    assert len(after_args) == 2  # the cursor's name and id
    assert "LIMIT $" in german_sql
    assert sorted(map(str, german_args)) == ["2", "3", "DE"]  # the size, LIMIT, country
    # The timeline's page comes from its repository with a bound LIMIT, written in too.
    assert "LIMIT 3::INTEGER" in dated_run[0]
    assert dated_run[1] == []


async def test_wide_selection_reads_every_kind_of_field(api: Any) -> None:
    data = (await api.data(WIDE, {"slug": "esp"}))["organization"]
    assert data["__typename"] == "Organization"
    assert data["parent"] == {"name": "Global Soil Partnership"}
    assert data["start"]["__typename"] == "PartialDate"
    sources = data["sources"]
    assert len(sources["edges"]) <= 3
    assert sources["pageInfo"]["startCursor"] == sources["edges"][0]["cursor"]
    assert sources["pageInfo"]["endCursor"] == sources["edges"][-1]["cursor"]


async def test_cursors_of_compiled_pages_walk_the_whole_list(api: Any) -> None:
    """Pages read with compiled statements and with the resolvers follow the same cursors.

    `relations` is not compiled, so the second query of each step runs through the
    resolvers: a cursor made in SQL must work there, and the other way round.
    """
    compiled = """
    query($after: String) {
      organization(slug: "gsp") {
        children(first: 2, after: $after) {
          edges { cursor node { slug } }
          pageInfo { hasNextPage }
        }
      }
    }"""
    resolved = compiled.replace(
        "}\n      }\n    }",
        "}\n        relations(first: 1) { nodes { predicate } }\n      }\n    }",
    )
    assert "relations" in resolved
    everything = await api.data('{ organization(slug: "gsp") { children { nodes { slug } } } }')
    expected = [n["slug"] for n in everything["organization"]["children"]["nodes"]]
    assert len(expected) > 2
    walked: list[str] = []
    after = None
    for step in range(10):
        query = compiled if step % 2 == 0 else resolved
        page = (await api.data(query, {"after": after}))["organization"]["children"]
        walked += [edge["node"]["slug"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["edges"][-1]["cursor"]
    assert walked == expected


async def test_last_and_before_page_backwards(api: Any) -> None:
    query = """
    query($before: String) {
      organization(slug: "gsp") {
        sources(last: 2, before: $before) {
          edges { cursor node { quote } }
          pageInfo { hasNextPage hasPreviousPage startCursor }
        }
      }
    }"""
    last = (await api.data(query, {"before": None}))["organization"]["sources"]
    assert last["pageInfo"]["hasNextPage"] is False
    assert last["pageInfo"]["hasPreviousPage"] is True
    before = await api.data(query, {"before": last["pageInfo"]["startCursor"]})
    page = before["organization"]["sources"]
    assert page["pageInfo"]["hasNextPage"] is True
    assert await _reads(api) == 1
    seen = {e["cursor"] for e in last["edges"]}
    assert not seen & {e["cursor"] for e in page["edges"]}


async def test_nodes_answer_null_for_unknown_and_mistyped_ids(api: Any) -> None:
    org = await _org_id(api, "gsp")
    _, raw = ids.decode(org)
    person_named = ids.encode("Person", raw)  # the GSP's id under another type
    unknown = ids.encode("Organization", uuid.UUID(int=0))
    query = """
    query($ids: [ID!]!) {
      nodes(ids: $ids) { __typename id ... on Entity { slug kind } ... on Organization { acronym } }
    }"""
    data = await api.data(query, {"ids": [org, person_named, unknown, org]})
    first, mistyped, missing, again = data["nodes"]
    assert first == again
    assert first["slug"] == "gsp"
    assert first["acronym"] == "GSP"
    assert mistyped is None
    assert missing is None
    assert await _reads(api) == 1


async def test_records_of_any_kind_are_written_with_their_own_type_names(api: Any) -> None:
    """A position open to several kinds, selecting the same fields of each, is written as one
    object per record whose ID takes its type name from the record's kind (the api client
    also compares every answer with the resolvers')."""
    agreements = await api.data(
        "{ partnerAgreements(first: 25) { nodes { parties { nodes { __typename id name } } } } }"
    )
    parties = [p for a in agreements["partnerAgreements"]["nodes"] for p in a["parties"]["nodes"]]
    assert {p["__typename"] for p in parties} == {"Organization", "Initiative"}
    assert all(ids.decode(p["id"])[0] == p["__typename"] for p in parties)
    gsp, recsoil = await _org_id(api, "gsp"), await _id_of(api, "recsoil")
    query = """query($ids: [ID!]!) {
      nodes(ids: $ids) { id ... on Entity { slug kind } }
      named: nodes(ids: $ids) { ... on Entity { slug } }
    }"""
    data = await api.data(query, {"ids": [gsp, recsoil]})
    assert data["nodes"] == [
        {"id": gsp, "slug": "gsp", "kind": "ORGANIZATION"},
        {"id": recsoil, "slug": "recsoil", "kind": "INITIATIVE"},
    ]
    assert data["named"] == [{"slug": "gsp"}, {"slug": "recsoil"}]


async def _id_of(api: Any, slug: str) -> str:
    found = await api.data(f'{{ entity(slug: "{slug}") {{ id }} }}')
    return str(found["entity"]["id"])


async def test_a_failing_compiled_statement_falls_back_to_the_resolvers(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement that fails aborts the transaction; the request restarts it and the
    resolvers answer, so the client sees the right data and no error."""
    broken = Prepared(sa.select(sa.literal(1) / 0))
    monkeypatch.setattr(json_query, "statement", lambda plan: broken)
    # Two root fields: two statements, so they share a snapshot transaction, which the
    # failure aborts (a lone statement runs outside one).
    query = """{
      organization(slug: "esp") { name children { nodes { slug } } }
      fao: organization(slug: "fao") { name }
    }"""
    data = await api.data(query)
    assert data["organization"]["name"] == "European Soil Partnership"
    assert data["fao"]["name"]
    assert await _reads(api) > 1  # the failed statement, then the resolvers' reads


MIXED = """
query Mixed($category: OrganizationCategory!, $from: String, $first: Int = 3, $after: String) {
  organizations(
    categories: [$category, SUBREGIONAL_PARTNERSHIP]
    dated: {from: $from, on: [START]}
    orderBy: NAME
    first: $first
    after: $after
  ) {
    nodes { slug category }
    pageInfo { endCursor }
  }
}
"""


async def test_a_document_sent_again_reads_its_new_variables_and_keeps_its_literals(
    api: Any,
) -> None:
    """The same document with other variables (some inside a list or an input, one left to
    its default) answers as the document with those values written in: the literals and
    defaults read when it was first planned, the variables read anew each time."""
    answers = []
    for variables in (
        {"category": "REGIONAL_PARTNERSHIP", "from": None},
        {"category": "GLOBAL_PARTNERSHIP", "from": "2012", "first": 2},
        {"category": "GLOBAL_PARTNERSHIP", "from": "2014", "first": 2},
        {"category": "REGIONAL_PARTNERSHIP", "from": None, "first": 1},
    ):
        answer = (await api.data(MIXED, variables))["organizations"]
        assert "resolvers" not in api.last_runs  # the compiler planned it, or bound it anew
        first = variables.get("first", 3)
        since = variables["from"]
        written = (
            MIXED.split("\n", 2)[2]
            .replace("$category", str(variables["category"]))
            .replace("$from", "null" if since is None else f'"{since}"')
            .replace("first: $first", f"first: {first}")
            .replace("after: $after", "")
        )
        assert answer == (await api.data("query {\n" + written))["organizations"]
        categories = {node["category"] for node in answer["nodes"]}
        assert len(answer["nodes"]) == first
        assert categories <= {variables["category"], "SUBREGIONAL_PARTNERSHIP"}
        answers.append(answer["nodes"])
    assert len({str(nodes) for nodes in answers}) == len(answers), "each variable set counted"
    # The page after the last answer: the cursor is a variable too.
    after = {"category": "REGIONAL_PARTNERSHIP", "from": None, "first": 1}
    after["after"] = answer["pageInfo"]["endCursor"]
    following = (await api.data(MIXED, after))["organizations"]["nodes"]
    assert following
    assert following != answer["nodes"]


PAGED = """
query Paged($first: Int!, $after: String) {
  organizations(
    categories: [REGIONAL_PARTNERSHIP, SUBREGIONAL_PARTNERSHIP]
    orderBy: NAME
    descending: true
    first: $first
    after: $after
  ) {
    nodes { slug category }
    pageInfo { endCursor hasNextPage }
  }
}
"""


async def test_a_list_paged_by_variables_keeps_its_literal_filter_and_order(api: Any) -> None:
    """A root list whose only variables are its page arguments keeps what its literals read
    (filters, order, direction) from its first bind, and reads each new page size and cursor:
    walked two or three at a time, it lists what the literal document lists in one page, and
    a bad cursor is still reported as the resolvers report it."""
    literal = (
        PAGED.split("\n", 2)[2].replace("first: $first", "first: 50").replace("after: $after", "")
    )
    whole = (await api.data("query {\n" + literal))["organizations"]["nodes"]
    assert len(whole) > 3
    walked: list[Any] = []
    variables: dict[str, Any] = {"first": 2, "after": None}
    while True:
        page = (await api.data(PAGED, variables))["organizations"]
        assert "resolvers" not in api.last_runs  # the compiler bound it anew
        walked += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        variables = {"first": 5 - variables["first"], "after": page["pageInfo"]["endCursor"]}
    assert walked == whole
    refused = await api.post(PAGED, {"first": 2, "after": "not-a-cursor"})
    assert refused["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"


def _fields_with_arguments() -> list[Any]:
    return [
        field
        for type_ in schema._schema.type_map.values()
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__")
        for field in type_.fields.values()
        if field.args and "strawberry-definition" in field.extensions
    ]


def test_arguments_are_converted_as_strawberry_converts_them() -> None:
    """The compiler reads a field's arguments as its resolver receives them: for every
    argument of the schema, `converted_arguments` gives what strawberry's own conversion gives
    (a scalar or enum as it is, a list of them copied, an input built), and only inputs take
    strawberry's slower way."""
    fields = _fields_with_arguments()
    assert len(fields) > 100
    slow = []
    nulls = 0
    for field in fields:
        definition = field.extensions["strawberry-definition"]
        given: dict[str, Any] = {}
        python_names: dict[str, str] = {}
        for name, argument, how in argument_plan(definition, schema):
            graphql_type = field.args[name].type
            if isinstance(graphql_type, GraphQLNonNull):
                graphql_type = graphql_type.of_type
            if how.startswith("converted"):
                slow.append(name)
                assert isinstance(graphql_type, GraphQLInputObjectType), (field.ast_node, name)
                if how == "converted unless null":  # null, the default of a list's filter
                    assert not isinstance(field.args[name].type, GraphQLNonNull)
                    given[name] = None
                    python_names[name] = argument.python_name
                    nulls += 1
                continue
            # Values strawberry cannot tell from any other: returned as they are, or copied.
            items = [object(), object()]
            given[name] = items if isinstance(graphql_type, GraphQLList) else items[0]
            python_names[name] = argument.python_name
        ours = converted_arguments(field, given, schema)
        theirs = convert_arguments(
            given,
            definition.arguments,
            scalar_registry=schema.schema_converter.scalar_registry,
            config=schema.config,
        )
        assert ours == theirs
        for name, value in given.items():
            if isinstance(value, list):  # a copy: graphql-core shares its defaults
                assert ours[python_names[name]] is not value
    assert len(slow) < 50  # inputs of mutations, and date filters
    assert nulls >= 5  # the date filters of the root lists
