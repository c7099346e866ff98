"""Which engine answers: the SQL compiler when it can plan the whole query, the resolvers
otherwise, and only the resolvers with `QUERY_COMPILER=off` (the `api` client compares every
answer of the suite with the resolvers' answer)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.app import create_app
from soilapi.graphql import execution
from soilapi.settings import Settings

DEEP = """
query Deep($withSources: Boolean!) {
  organization(slug: "gsp") {
    __typename
    name
    ...Named
    sources(first: 2) @include(if: $withSources) { nodes { quote lines { start end } } }
    children(first: 20) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          name
          alias: acronym
          kind
          start { iso precision }
          children(first: 3) { nodes { ... on Organization { slug category } } }
        }
      }
    }
  }
}
fragment Named on Entity { slug acronym }
"""

ANY_KIND = '{ entity(slug: "recsoil") { __typename ... on Initiative { name } } }'


def _runs() -> dict[str, int]:
    return dict(execution.runs)


def _delta(before: dict[str, int]) -> dict[str, int]:
    """The runs since `before`. Through the `api` client, one `compiler_off` run of each
    query is the client's own reference answer."""
    after = _runs()
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


async def test_a_query_of_known_fields_is_compiled(api: Any) -> None:
    before = _runs()
    data = await api.data(DEEP, {"withSources": True})
    assert _delta(before) == {"compiled": 1, "compiler_off": 1}
    org = data["organization"]
    assert list(org) == ["__typename", "name", "slug", "acronym", "sources", "children"]
    assert org["sources"]["nodes"], "the @include branch is answered"
    child = org["children"]["edges"][0]["node"]
    assert list(child) == ["name", "alias", "kind", "start", "children"]


async def test_skipped_fields_stay_out_of_the_answer(api: Any) -> None:
    data = await api.data(DEEP, {"withSources": False})
    assert "sources" not in data["organization"]


async def test_a_field_the_compiler_does_not_know_runs_on_the_resolvers(api: Any) -> None:
    before = _runs()
    data = await api.data(ANY_KIND)
    assert data == {"entity": {"__typename": "Initiative", "name": data["entity"]["name"]}}
    assert _delta(before) == {"resolvers": 1, "compiler_off": 1}


async def test_an_error_deep_in_a_query_is_reported_by_the_resolvers(api: Any) -> None:
    before = _runs()
    body = await api.post(
        '{ organization(slug: "gsp") { name children(first: 2) { nodes {'
        ' name children(after: "not-a-cursor") { nodes { name } } } } } }'
    )
    assert _delta(before) == {"resolvers": 1, "compiler_off": 1}
    paths = [error["path"] for error in body["errors"]]
    assert ["organization", "children", "nodes", 0, "children"] in paths
    assert {error["extensions"]["code"] for error in body["errors"]} == {"INVALID_CURSOR"}
    # Connections are non-null, so the null spreads up to the nullable organization.
    assert body["data"] == {"organization": None}


@pytest.fixture(scope="module")
async def resolvers_only(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """An app configured with QUERY_COMPILER off."""
    settings = Settings(
        database_url="postgresql://unused", response_cache_enabled=False, query_compiler=False
    )
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_the_compiler_can_be_switched_off(
    api: Any, resolvers_only: httpx.AsyncClient
) -> None:
    compiled = await api.data(DEEP, {"withSources": True})
    before = _runs()
    response = await resolvers_only.post(
        "/graphql", json={"query": DEEP, "variables": {"withSources": True}}
    )
    assert _delta(before) == {"compiler_off": 1}
    assert response.json()["data"] == compiled
