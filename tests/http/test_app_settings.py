"""The settings given to create_app are the ones its requests obey, limits and timeouts included.

The schema is one object per process, so an app's limits travel with each request's context;
two apps with different settings in one process must not see each other's.
"""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.app import create_app
from soilapi.db.session import read_only, reading
from soilapi.graphql.context import Context
from soilapi.graphql.limits import Limits
from soilapi.graphql.schema import build_schema
from soilapi.settings import Settings, get_settings

GRJ = "application/graphql-response+json"
# Small enough to reach with short queries; a list's nodes are still in reach at depth 3.
SMALL = {
    "max_page_size": 5,
    "max_query_depth": 3,
    "max_query_aliases": 2,
    "max_query_directives": 1,
    "max_query_tokens": 40,
    "max_query_nodes": 12,
}
PAGE = "{ organizations(first: %d) { nodes { name } } }"


@asynccontextmanager
async def client(
    engine: AsyncEngine, settings: Settings | None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app built with `settings` (None: create_app's own default)."""
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http
    finally:
        await app.state.version_probe.close()


def settings(**overrides: Any) -> Settings:
    """Settings for a test app: no response cache or rate limiter, so every request runs."""
    base = {"rate_limit_enabled": False, "response_cache_enabled": False}
    return Settings(database_url="postgresql://unused", **(base | overrides))


async def post(http: httpx.AsyncClient, query: str) -> httpx.Response:
    return await http.post("/graphql", json={"query": query}, headers={"accept": GRJ})


def error_of(response: httpx.Response) -> dict[str, Any]:
    errors = response.json().get("errors")
    assert errors, response.text
    assert len(errors) == 1, errors
    found: dict[str, Any] = errors[0]
    return found


@pytest.mark.parametrize(
    ("query", "code", "limit"),
    [
        ('{ organization(slug: "gsp") { children { nodes { name } } } }', "QUERY_TOO_DEEP", 3),
        ("{ a: __typename b: __typename c: __typename }", "TOO_MANY_ALIASES", 2),
        ("{ __typename @include(if: true) __typename @skip(if: false) }", "TOO_MANY_DIRECTIVES", 1),
        ("{ __typename " + "__typename " * 40 + "}", "TOO_MANY_TOKENS", 40),
        (
            "{ organizations(first: 5) { nodes { name } } places(first: 5) { totalCount } "
            "events(first: 3) { totalCount } }",
            "QUERY_TOO_COSTLY",
            12,
        ),
    ],
)
async def test_an_app_with_small_query_limits_enforces_them(
    engine: AsyncEngine, query: str, code: str, limit: int
) -> None:
    async with client(engine, settings(**SMALL)) as http:
        response = await post(http, query)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["extensions"]["code"] == code, error
    assert error["extensions"]["limit"] == limit, error
    assert f"{limit}" in error["message"], error


async def test_an_app_with_a_small_page_size_enforces_it_on_every_list(
    engine: AsyncEngine,
) -> None:
    lists = [
        PAGE,  # a root list (the SQL compiler)
        '{ organization(slug: "gsp") { children(first: %d) { totalCount } } }',  # nested
        '{ organization(slug: "gsp") { relations(first: %d) { totalCount } } }',  # resolvers
        '{ organization(slug: "gsp") { descendants(first: %d) { totalCount } } }',  # a tree
        '{ organization(slug: "gsp") { sources(last: %d) { totalCount } } }',  # `last`
    ]
    async with client(engine, settings(max_page_size=5)) as http:
        for query in lists:
            fits = await post(http, query % 5)
            assert fits.status_code == 200, fits.text
            assert "errors" not in fits.json(), fits.text
            over = error_of(await post(http, query % 6))
            assert over["extensions"]["code"] == "PAGE_SIZE_EXCEEDED", (query, over)
            assert "more than the limit of 5 items" in over["message"]
        # Without `first` a list gets the default page of 20, cut to the limit.
        unsized = await post(http, "{ organizations { nodes { name } pageInfo { hasNextPage } } }")
    page = unsized.json()["data"]["organizations"]
    assert len(page["nodes"]) == 5
    assert page["pageInfo"]["hasNextPage"] is True


async def test_a_page_size_limit_also_caps_the_cost_estimate(engine: AsyncEngine) -> None:
    """A page over the limit counts as the limit, as with the default limit of 100."""
    async with client(engine, settings(max_page_size=5)) as http:
        body = (await post(http, PAGE % 6)).json()
    assert body["extensions"]["cost"]["maxNodes"] == 5


async def test_an_app_with_a_short_execution_timeout_stops_queries(engine: AsyncEngine) -> None:
    async with client(engine, settings(execution_timeout_seconds=1e-9)) as http:
        response = await post(http, PAGE % 3)
    assert response.status_code == 504, response.text
    error = error_of(response)
    assert error["extensions"] == {"code": "TIMEOUT", "limit": 1e-9}
    assert "data" not in response.json()


async def test_the_default_app_keeps_the_default_limits(engine: AsyncEngine) -> None:
    """An app with small limits in the same process changes nothing for one without."""
    async with (
        client(engine, settings(**SMALL)) as small,
        client(engine, settings()) as default,
    ):
        assert "limit of 5 items" in error_of(await post(small, PAGE % 6))["message"]
        answer = await post(default, PAGE % 100)
        assert answer.status_code == 200, answer.text
        over = error_of(await post(default, PAGE % 101))
        assert over["extensions"]["code"] == "PAGE_SIZE_EXCEEDED"
        assert "limit of 100 items" in over["message"]
        deep = await post(default, '{ organization(slug: "gsp") { children { nodes { name } } } }')
        assert "errors" not in deep.json(), deep.text
        aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(30)) + " }"
        assert "errors" not in (await post(default, aliases)).json()
    defaults = Settings.model_construct()
    assert Limits() == Limits.from_settings(defaults)
    assert (Limits().page_size, Limits().depth, Limits().seconds) == (100, 16, 10.0)


async def test_create_app_without_settings_reads_the_environment(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_PAGE_SIZE", "7")
    monkeypatch.setenv("RATE_LIMIT_ENABLED", "false")
    get_settings.cache_clear()
    try:
        async with client(engine, None) as http:
            over = error_of(await post(http, PAGE % 8))
    finally:
        get_settings.cache_clear()
    assert "limit of 7 items" in over["message"]


def test_only_the_entry_points_read_the_process_settings() -> None:
    """get_settings() reads the environment: only the CLI and create_app's default may call it,
    so whatever builds an app decides its settings."""
    package = Path(__file__).resolve().parents[2] / "src" / "soilapi"
    callers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "get_settings":
                callers.add(path.relative_to(package).as_posix())
    assert callers == {"cli.py", "app.py"}


async def test_an_answer_over_max_response_bytes_is_refused_whole(engine: AsyncEngine) -> None:
    """Thirty aliased `sourceDocuments { lines }` made 18 MB from a 3.9 KB request: past
    MAX_RESPONSE_BYTES the client gets RESPONSE_TOO_LARGE and no partial data."""
    aliased = " ".join(f"a{i}: sourceDocuments {{ lines }}" for i in range(30))
    async with client(engine, settings(max_response_bytes=200_000)) as http:
        small = await post(http, "{ sourceDocuments { key } }")
        assert small.status_code == 200
        assert "errors" not in small.json()
        response = await post(http, f"{{ {aliased} }}")
        assert response.status_code == 400
        body = response.json()
        assert "data" not in body
        assert [e["extensions"] for e in body["errors"]] == [
            {"code": "RESPONSE_TOO_LARGE", "limit": 200_000}
        ]
        assert len(response.content) < 1000
        legacy = await http.post("/graphql", json={"query": f"{{ {aliased} }}"})
        assert legacy.status_code == 200
        assert legacy.json()["errors"][0]["extensions"]["code"] == "RESPONSE_TOO_LARGE"


async def test_a_document_bound_anew_obeys_each_requests_page_size(engine: AsyncEngine) -> None:
    """A document sent again is bound from what its first planning kept (soilapi.graphql.
    compiler): a nested page written without variables keeps its binds on the plan, which
    belongs to the schema. The page-size limit comes with each request's context, so the kept
    binds serve only requests of the limit they were made with: unsized, the page is 20
    records by default and 5 where the limit is 5, whichever limit planned the document."""
    schema = build_schema()
    query = """query Partners($slug: String!) {
        organization(slug: $slug) { partnerAgreements { nodes { ordinal } } } }"""

    async def size(page_size: int) -> int:
        async with reading(read_only(engine)) as reader:
            context = Context(reader, Limits(page_size=page_size))
            variables = {"slug": "4p1000"}
            result = await schema.execute(query, variable_values=variables, context_value=context)
        assert result.errors is None, result.errors
        assert result.data is not None
        assert context.compiled is not None  # the SQL compiler answered, not the resolvers
        data = orjson.loads(orjson.dumps(result.data))  # its answers are JSON text fragments
        return len(data["organization"]["partnerAgreements"]["nodes"])

    assert [await size(limit) for limit in (100, 100, 5, 5, 100)] == [20, 20, 5, 5, 20]
