"""The response cache: repeated reads come from memory, and never outlive the data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.app import create_app
from soilapi.db.session import StatementCounter
from soilapi.repositories.cache import bump_data_version
from soilapi.settings import Settings

GSP_NAME = "query($slug: String!) { organization(slug: $slug) { name } }"


@pytest.fixture
async def http(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url="postgresql://unused", rate_limit_enabled=False)
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await app.state.version_probe.close()


async def ask(http: httpx.AsyncClient, slug: str, query: str = GSP_NAME) -> httpx.Response:
    body = {"query": query, "variables": {"slug": slug}}
    return await http.post("/graphql", json=body)


async def test_a_repeated_query_is_answered_from_memory(http: httpx.AsyncClient) -> None:
    first, second = await ask(http, "gsp"), await ask(http, "gsp")
    assert "x-cache" not in first.headers
    assert second.headers["x-cache"] == "hit"
    assert second.json() == first.json()
    assert second.json()["data"]["organization"]["name"] == "Global Soil Partnership"
    other = await ask(http, "esp")  # other variables: another entry
    assert "x-cache" not in other.headers
    assert other.json()["data"]["organization"]["name"] == "European Soil Partnership"


async def test_a_variable_past_64_bits_is_answered_and_remembered(
    http: httpx.AsyncClient,
) -> None:
    """The cache key of a request holds its variables; one the fast encoder refuses (an
    integer past 64 bits, which JSON allows) is keyed all the same, by the slower one."""
    body = {"query": GSP_NAME, "variables": {"slug": "gsp", "unused": 2**70}}
    first = await http.post("/graphql", json=body)
    second = await http.post("/graphql", json=body)
    assert first.status_code == second.status_code == 200
    assert first.json()["data"] == {"organization": {"name": "Global Soil Partnership"}}
    assert second.headers["x-cache"] == "hit"
    assert second.json() == first.json()


async def test_a_write_retires_every_cached_answer(
    http: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await ask(http, "gsp")
    assert (await ask(http, "gsp")).headers["x-cache"] == "hit"
    rename = sa.text("UPDATE entities SET name = :name WHERE slug = 'gsp'")
    try:
        # Another process writes: it changes the data and bumps the version in one transaction.
        async with engine.begin() as conn:
            await conn.execute(rename, {"name": "Renamed for the test"})
            await bump_data_version(conn)
        fresh = await ask(http, "gsp")
        assert "x-cache" not in fresh.headers
        assert fresh.json()["data"]["organization"]["name"] == "Renamed for the test"
    finally:
        async with engine.begin() as conn:
            await conn.execute(rename, {"name": "Global Soil Partnership"})
            await bump_data_version(conn)
    assert (await ask(http, "gsp")).json()["data"]["organization"]["name"] == (
        "Global Soil Partnership"
    )


async def test_answers_with_errors_are_not_cached(http: httpx.AsyncClient) -> None:
    query = '{ organizations(after: "not-a-cursor") { totalCount } }'
    for _ in range(2):
        answer = await http.post("/graphql", json={"query": query})
        assert answer.json()["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
        assert "x-cache" not in answer.headers


@pytest.fixture
async def uncached(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url="postgresql://unused", rate_limit_enabled=False, response_cache_enabled=False
    )
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await app.state.version_probe.close()


async def test_introspection_is_answered_from_memory_even_without_the_cache(
    uncached: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    query = {"query": '{ __schema { queryType { name } } __type(name: "Facility") { name } }'}
    first = await uncached.post("/graphql", json=query)
    # The schema cannot change under a running server, whatever the data does.
    async with engine.begin() as conn:
        await bump_data_version(conn)
    second = await uncached.post("/graphql", json=query)
    assert "x-cache" not in first.headers
    assert second.headers["x-cache"] == "hit"
    assert second.content == first.content
    assert first.json()["data"]["__type"] == {"name": "Facility"}


@pytest.mark.parametrize(
    ("query", "schema_only"),
    [
        ("{ __typename }", True),
        ("query Q { ...Meta } fragment Meta on Query { __schema { queryType { name } } }", True),
        ('{ ... on Query { __type(name: "Facility") { name } } }', True),
        ('{ __typename organization(slug: "gsp") { __typename name } }', False),
        ('{ organization(slug: "gsp") { __typename name } }', False),
        # "__type" appears in the text, but only as a string and an alias
        ('{ __type: organization(slug: "__type") { name } }', False),
    ],
)
async def test_schema_answers_are_decided_by_the_root_fields(
    uncached: httpx.AsyncClient, query: str, schema_only: bool
) -> None:
    """Only a document whose root fields are all meta-fields is kept for the server's life,
    and only such a document is looked up among the schema's answers (the `schema_answers`
    figures of /metrics): `__typename` inside a selection, as Apollo Client sends it, costs
    no lookup."""

    # This app's own cache: the process's totals also count other tests' apps, one of which
    # was seen to look up twice while this test ran.
    app = uncached._transport.app  # type: ignore[attr-defined]
    (route,) = [r for r in app.router.routes if getattr(r, "path", None) == "/graphql"]

    def lookups() -> int:
        figures = route.endpoint.answers.schema_answers.figures()
        return int(figures.hits + figures.misses)

    before = lookups()
    answers = [await uncached.post("/graphql", json={"query": query}) for _ in range(2)]
    assert all(a.status_code == 200 for a in answers)
    assert [a.headers.get("x-cache") for a in answers] == [None, "hit" if schema_only else None]
    assert lookups() - before == (2 if schema_only else 0)


async def test_each_operation_of_a_document_is_decided_by_its_own_root_fields(
    uncached: httpx.AsyncClient,
) -> None:
    """The decision is remembered per text and operation: the same document run as its
    meta-only operation is kept, and run as its other one is not, in either order."""
    query = 'query Data { organization(slug: "gsp") { name } } query Meta { __typename }'

    async def cached(operation: str) -> list[str | None]:
        body = {"query": query, "operationName": operation}
        answers = [await uncached.post("/graphql", json=body) for _ in range(2)]
        assert all(a.status_code == 200 for a in answers)
        return [a.headers.get("x-cache") for a in answers]

    assert await cached("Data") == [None, None]
    assert await cached("Meta") == [None, "hit"]
    assert await cached("Data") == [None, None]


async def test_a_query_that_also_reads_data_is_never_kept(uncached: httpx.AsyncClient) -> None:
    query = {"query": '{ __type(name: "Facility") { name } organization(slug: "gsp") { name } }'}
    for _ in range(2):
        response = await uncached.post("/graphql", json=query)
        assert "x-cache" not in response.headers
        assert response.json()["data"]["organization"]["name"] == "Global Soil Partnership"


# Apollo Client adds `__typename` to every selection: such a query is as fast a hit.
@pytest.mark.parametrize(
    "query",
    [GSP_NAME, GSP_NAME.replace("{ name }", "{ __typename name }")],
    ids=["fields", "with-typename"],
)
async def test_a_hit_opens_no_session(
    http: httpx.AsyncClient, engine: AsyncEngine, query: str
) -> None:
    """A hit asks only for the current version, on a connection shared by all requests."""
    counter = StatementCounter(engine)
    await ask(http, "gsp", query)
    for _ in range(100):  # the version reader connects in the background after the first ask
        counter.count = 0
        hit = (await ask(http, "gsp", query)).headers.get("x-cache") == "hit"
        if hit and counter.count == 0:
            break
        await asyncio.sleep(0.05)
    counter.count = 0
    hits = [await ask(http, "gsp", query) for _ in range(5)]
    assert [h.headers.get("x-cache") for h in hits] == ["hit"] * 5
    assert counter.count == 0
    assert hits[-1].json()["data"]["organization"]["name"] == "Global Soil Partnership"
