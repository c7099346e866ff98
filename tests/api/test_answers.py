"""Replays of remembered compiled requests (soilapi.graphql.answers): no GraphQL machinery, the
same answer, the execution time limit kept, and the usual way whenever a replay fails."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import Route

from soilapi.app import create_app
from soilapi.graphql import execution
from soilapi.graphql import ids as global_ids
from soilapi.graphql.answers import Answers
from soilapi.graphql.compiler import Compiled
from soilapi.http.endpoint import GraphQLEndpoint
from soilapi.settings import Settings

QUERY = '{ organization(slug: "esp") { name children(first: 2) { nodes { slug } } } }'
TIME_LIMIT = 0.5


@pytest.fixture
async def served(engine: AsyncEngine) -> AsyncIterator[tuple[httpx.AsyncClient, Answers]]:
    """A client of an app of its own (nothing remembered yet), and the app's Answers."""
    settings = Settings(
        database_url="postgresql://unused",
        rate_limit_enabled=False,
        response_cache_enabled=False,
        execution_timeout_seconds=TIME_LIMIT,
    )
    app = create_app(settings, engine=engine)
    (endpoint,) = [
        route.app
        for route in app.router.routes
        if isinstance(route, Route) and isinstance(route.app, GraphQLEndpoint)
    ]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, endpoint.answers
    await app.state.version_probe.close()


async def ask(http: httpx.AsyncClient) -> httpx.Response:
    accept = "application/graphql-response+json"
    return await http.post("/graphql", json={"query": QUERY}, headers={"accept": accept})


async def test_a_remembered_compiled_request_is_answered_without_graphql(
    served: tuple[httpx.AsyncClient, Answers], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, answers = served
    compiled = execution.runs["compiled"]
    first = await ask(http)
    assert execution.runs["compiled"] == compiled + 1
    assert first.json()["extensions"]["cost"]

    async def no_graphql(*_: Any, **__: Any) -> Any:
        raise AssertionError("a replay parses, validates and executes nothing")

    monkeypatch.setattr(answers.schema, "execute", no_graphql)
    second = await ask(http)
    assert second.status_code == 200
    assert second.json() == first.json()  # the data and `extensions.cost`
    assert "x-cache" not in second.headers  # replayed, not a remembered response


async def test_a_failing_replay_runs_the_request_the_usual_way(
    served: tuple[httpx.AsyncClient, Answers], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, _ = served
    first = await ask(http)

    calls: list[Compiled] = []

    async def broken(self: Compiled, reader: Any) -> dict[str, Any]:
        calls.append(self)
        raise RuntimeError("the statement failed")

    monkeypatch.setattr(Compiled, "answer", broken)
    resolvers = execution.runs["resolvers"]
    second = await ask(http)
    assert second.json() == first.json()
    # The replay failed, then the compiled statement in the usual way: the resolvers answered.
    assert len(calls) == 2
    assert execution.runs["resolvers"] == resolvers + 1


async def test_a_replay_keeps_the_execution_time_limit(
    served: tuple[httpx.AsyncClient, Answers], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, _ = served
    await ask(http)

    calls: list[Compiled] = []

    async def stuck(self: Compiled, reader: Any) -> dict[str, Any]:
        calls.append(self)
        await asyncio.sleep(60)
        raise AssertionError("never reached")

    monkeypatch.setattr(Compiled, "answer", stuck)
    started = time.monotonic()
    answer = await ask(http)
    # The replay gives up after the limit; the usual way then times out too, and says so.
    assert len(calls) == 2
    assert time.monotonic() - started < 10 * TIME_LIMIT
    assert answer.status_code == 504
    assert answer.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"


# --- a known document with new variables ----------------------------------------------------

BY_SLUG = """query($slug: String!, $n: Int) {
  organization(slug: $slug) { name children(first: $n) { nodes { slug } } } }"""


async def post(http: httpx.AsyncClient, variables: dict[str, Any]) -> httpx.Response:
    return await http.post("/graphql", json={"query": BY_SLUG, "variables": variables})


async def test_new_variables_of_a_known_document_are_bound_without_graphql(
    served: tuple[httpx.AsyncClient, Answers], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A front-end's document with other slugs and page sizes: after the first, each is its
    statements with new binds; the answers are those of a full execution."""
    http, answers = served
    full = {slug: (await post(http, {"slug": slug, "n": 2})).json() for slug in ("gsp", "esp")}
    await post(http, {"slug": "fao", "n": 1})  # planned: the document is known from now on

    async def no_graphql(*_: Any, **__: Any) -> Any:
        raise AssertionError("a known document with new variables runs no GraphQL execution")

    monkeypatch.setattr(answers.schema, "execute", no_graphql)
    answers.compiled.clear()  # no replay of the exact requests either
    for slug, expected in full.items():
        assert (await post(http, {"slug": slug, "n": 2})).json() == expected
    monkeypatch.undo()
    # A value the variable's type refuses, and a page over the limit: the usual way reports.
    wrong = (await post(http, {"slug": 7, "n": 2})).json()
    assert "String cannot represent a non string value: 7" in wrong["errors"][0]["message"]
    assert wrong.get("data") is None
    over = (await post(http, {"slug": "gsp", "n": 10_000})).json()
    assert over["errors"][0]["extensions"]["code"] == "PAGE_SIZE_EXCEEDED"


NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"


async def test_a_remembered_request_weighs_what_its_variables_bring(
    served: tuple[httpx.AsyncClient, Answers],
) -> None:
    """The compiled requests kept for replay are bounded in bytes: one bound to 100 IDs
    weighs more than one bound to a single ID, so a client sending long lists fills the
    cache's byte bound before it could fill memory."""
    http, answers = served
    ids = [global_ids.encode("Organization", uuid.UUID(int=i)) for i in range(100)]
    weights = []
    for sent in (ids[:1], ids):
        answers.compiled.clear()
        answer = await http.post("/graphql", json={"query": NODES, "variables": {"ids": sent}})
        assert answer.json()["data"]["nodes"] == [None] * len(sent)
        assert len(answers.compiled) == 1
        weights.append(answers.compiled.bytes)
    one, many = weights
    assert many - one > 100 * 32, f"100 IDs weigh {many - one} bytes more than one"
