"""EXPLAIN_QUERIES: a request that sends `extensions: {"explain": true}` gets every SQL
statement it ran, with its values and plans, in `extensions.explain`, on both engines; the
answer itself is unchanged, never cached, and with the setting off the extension is ignored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import app_client
from soilapi.db.session import StatementCounter
from soilapi.graphql.examples import NEIGHBOURHOOD
from soilapi.seed.loader import entity_id
from soilapi.settings import Settings

ESP_CHILDREN = '{ organization(slug: "esp") { name children { nodes { slug } } } }'
ESP_CHILDREN_DATA = {
    "organization": {
        "name": "European Soil Partnership",
        "children": {
            "nodes": [{"slug": "alpsp"}, {"slug": "easp"}, {"slug": "aspir"}, {"slug": "wbsp"}]
        },
    }
}
EXPLAIN = {"explain": True}
# What the settings of every app here share: rate limits that no test reaches.
QUIET = {"database_url": "postgresql://unused", "rate_limit_enabled": False}


@pytest.fixture(scope="module")
async def compiler(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """EXPLAIN_QUERIES on, the SQL compiler first, no response cache."""
    settings = Settings(**QUIET, explain_queries=True, response_cache_enabled=False)
    async with app_client(engine, settings) as http:
        yield http


@pytest.fixture(scope="module")
async def resolvers(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """EXPLAIN_QUERIES on, the resolvers alone (QUERY_COMPILER off)."""
    settings = Settings(
        **QUIET, explain_queries=True, response_cache_enabled=False, query_compiler=False
    )
    async with app_client(engine, settings) as http:
        yield http


@pytest.fixture(scope="module")
async def cached(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """EXPLAIN_QUERIES on, with the response cache (the default)."""
    async with app_client(engine, Settings(**QUIET, explain_queries=True)) as http:
        yield http


@pytest.fixture(scope="module")
async def off(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The documented defaults: EXPLAIN_QUERIES off."""
    async with app_client(engine, Settings(**QUIET, response_cache_enabled=False)) as http:
        yield http


@pytest.fixture(scope="module")
def counter(engine: AsyncEngine) -> Iterator[StatementCounter]:
    return StatementCounter(engine)


async def post(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    extensions: dict[str, Any] | None = None,
) -> httpx.Response:
    body = {"query": query, "variables": variables, "extensions": extensions}
    return await http.post("/graphql", json=body)


async def statements_of(
    http: httpx.AsyncClient, counter: StatementCounter, query: str, variables: Any = None
) -> int:
    """How many statements the request runs without explain, as the engine counts them."""
    before = counter.count
    response = await post(http, query, variables)
    assert "errors" not in response.json()
    return counter.count - before


def relations_in(plan: dict[str, Any]) -> set[str]:
    """The tables a JSON plan's nodes read, at any depth."""
    found = {plan["Relation Name"]} if "Relation Name" in plan else set()
    for inner in plan.get("Plans", []):
        found |= relations_in(inner)
    return found


def check_plans(statement: dict[str, Any]) -> None:
    """A statement's two plans are PostgreSQL's, and of the same tree."""
    assert set(statement) == {"sql", "values", "plan", "planText"}
    [root] = statement["plan"]  # EXPLAIN (FORMAT JSON) is a list of one object
    top = root["Plan"]["Node Type"]
    assert statement["planText"].startswith(top), (top, statement["planText"][:80])
    assert "cost=" in statement["planText"]


async def test_a_compiled_query_lists_its_one_statement_with_its_plan(
    compiler: httpx.AsyncClient, counter: StatementCounter
) -> None:
    expected = await statements_of(compiler, counter, ESP_CHILDREN)
    body = (await post(compiler, ESP_CHILDREN, extensions=EXPLAIN)).json()
    assert body["data"] == ESP_CHILDREN_DATA  # the answer is the same with explain
    report = body["extensions"]["explain"]
    assert report["engine"] == "compiler"
    assert len(report["statements"]) == expected == 1  # one statement builds the whole answer
    [statement] = report["statements"]
    check_plans(statement)
    assert statement["sql"].startswith("SELECT CAST((SELECT (SELECT json_build_object(")
    assert "esp" in statement["values"]  # the slug travels as a value, as sent
    assert relations_in(statement["plan"][0]["Plan"]) >= {"entities", "relations"}
    assert body["extensions"]["cost"]["requestedQueryCost"] > 0  # the others stay


async def test_a_resolver_only_query_lists_every_statement_with_its_plan(
    compiler: httpx.AsyncClient, counter: StatementCounter
) -> None:
    """`neighbourhood` is not compiled: the resolvers answer it, a batched statement per
    level, and every one of them is listed, in the order they ran."""
    query, variables = NEIGHBOURHOOD.query, NEIGHBOURHOOD.variables
    expected = await statements_of(compiler, counter, query, variables)
    body = (await post(compiler, query, variables, EXPLAIN)).json()
    assert "errors" not in body
    assert body["data"]["neighbourhood"]["totalCount"] == 28
    report = body["extensions"]["explain"]
    assert report["engine"] == "resolvers"
    statements = report["statements"]
    assert len(statements) == expected == 4
    for statement in statements:
        check_plans(statement)
    walk = statements[0]
    assert walk["sql"].startswith("WITH RECURSIVE walk(")
    assert walk["values"][0] == str(entity_id("esp"))  # the ID's record, as a uuid's text
    assert relations_in(walk["plan"][0]["Plan"]) >= {"entities", "relations"}
    # Then the records reached, the relations that reached them, and the relations' ends.
    later = [relations_in(s["plan"][0]["Plan"]) for s in statements[1:]]
    assert later[0] >= {"entities"}
    assert later[1] == {"relations"}
    assert later[2] >= {"entities"}


async def test_the_resolvers_explain_a_compilable_query_level_by_level(
    resolvers: httpx.AsyncClient, counter: StatementCounter
) -> None:
    """With QUERY_COMPILER off the same query is the resolvers': the slug's lookup, the
    record, its children (a SQLAlchemy statement and raw reads alike are listed)."""
    expected = await statements_of(resolvers, counter, ESP_CHILDREN)
    body = (await post(resolvers, ESP_CHILDREN, extensions=EXPLAIN)).json()
    assert body["data"] == ESP_CHILDREN_DATA
    report = body["extensions"]["explain"]
    assert report["engine"] == "resolvers"
    assert len(report["statements"]) == expected == 3
    lookup, record, children = report["statements"]
    for statement in report["statements"]:
        check_plans(statement)
    assert lookup["values"] == [["esp"]]
    assert relations_in(lookup["plan"][0]["Plan"]) == {"entities"}
    assert record["values"] == [[str(entity_id("esp"))]]
    assert "relations" in relations_in(children["plan"][0]["Plan"])


async def test_an_answer_with_no_statement_lists_none(compiler: httpx.AsyncClient) -> None:
    body = (await post(compiler, "{ __typename }", extensions=EXPLAIN)).json()
    assert body["data"] == {"__typename": "Query"}
    assert body["extensions"]["explain"] == {"engine": "compiler", "statements": []}


async def test_with_the_setting_off_the_extension_is_ignored(
    off: httpx.AsyncClient, compiler: httpx.AsyncClient
) -> None:
    asked = (await post(off, ESP_CHILDREN, extensions=EXPLAIN)).json()
    plain = (await post(compiler, ESP_CHILDREN)).json()
    assert asked == plain
    assert "explain" not in asked["extensions"]
    # Even a value that the setting on refuses: off, nothing reads the extension.
    odd = await post(off, ESP_CHILDREN, extensions={"explain": "yes"})
    assert odd.status_code == 200
    assert odd.json() == plain


async def test_a_malformed_explain_is_refused(compiler: httpx.AsyncClient) -> None:
    body = {"query": ESP_CHILDREN, "extensions": {"explain": "yes"}}
    headers = {"accept": "application/graphql-response+json"}
    refused = await compiler.post("/graphql", json=body, headers=headers)
    assert refused.status_code == 400
    [error] = refused.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert error["message"] == (
        "`extensions.explain` takes true or false, not str 'yes': send "
        '`{"explain": true}` to have the SQL explained.'
    )
    answered = await post(compiler, ESP_CHILDREN, extensions={"explain": False})
    assert answered.json()["data"] == ESP_CHILDREN_DATA
    assert "explain" not in answered.json()["extensions"]


async def test_explained_answers_are_never_cached_nor_served_from_the_cache(
    cached: httpx.AsyncClient,
) -> None:
    # A plain answer is remembered ...
    first, second = await post(cached, ESP_CHILDREN), await post(cached, ESP_CHILDREN)
    assert second.headers.get("x-cache") == "hit"
    # ... and not served to a request that asks for explain, which runs its statements.
    for _ in range(2):
        explained = await post(cached, ESP_CHILDREN, extensions=EXPLAIN)
        assert "x-cache" not in explained.headers
        assert explained.json()["data"] == ESP_CHILDREN_DATA
        assert len(explained.json()["extensions"]["explain"]["statements"]) == 1
    # The explained answers were not remembered in its place either.
    again = await post(cached, ESP_CHILDREN)
    assert again.headers.get("x-cache") == "hit"
    assert again.content == first.content
    assert "explain" not in again.json()["extensions"]


async def test_an_explained_get_has_no_validator_and_is_not_stored(
    cached: httpx.AsyncClient,
) -> None:
    params = {"query": ESP_CHILDREN, "extensions": '{"explain": true}'}
    headers = {"accept": "application/graphql-response+json"}
    for _ in range(2):
        response = await cached.get("/graphql", params=params, headers=headers)
        assert response.status_code == 200
        assert "etag" not in response.headers
        assert response.headers["cache-control"] == "no-store"
        assert response.json()["extensions"]["explain"]["engine"] == "compiler"
    plain = await cached.get("/graphql", params={"query": ESP_CHILDREN}, headers=headers)
    assert "etag" in plain.headers
    assert "explain" not in plain.json()["extensions"]
