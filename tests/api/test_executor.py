"""The level-by-level executor: it answers successful queries itself and leaves errors to
graphql-core's executor, whose answers it must match (the `api` client compares every answer
of the suite with graphql-core's; these tests pin which path ran).
"""

from __future__ import annotations

from typing import Any

from soilapi.graphql import executor

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
  entity(slug: "recsoil") { __typename ... on Initiative { name } ... on Organization { slug } }
}
fragment Named on Entity { slug acronym }
"""


def _runs() -> dict[str, int]:
    return dict(executor.runs)


def _delta(before: dict[str, int]) -> dict[str, int]:
    after = _runs()
    return {
        k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)
    }


async def test_a_successful_query_runs_on_the_fast_path(api: Any) -> None:
    before = _runs()
    data = await api.data(DEEP, {"withSources": True})
    assert _delta(before) == {"fast": 1}
    org = data["organization"]
    assert list(org) == ["__typename", "name", "slug", "acronym", "sources", "children"]
    assert org["__typename"] == "Organization"
    assert org["sources"]["nodes"], "the @include branch is answered"
    assert data["entity"] == {"__typename": "Initiative", "name": data["entity"]["name"]}
    child = org["children"]["edges"][0]["node"]
    assert list(child) == ["name", "alias", "kind", "start", "children"]


async def test_skipped_fields_stay_out_of_the_answer(api: Any) -> None:
    data = await api.data(DEEP, {"withSources": False})
    assert "sources" not in data["organization"]


async def test_an_error_deep_in_a_query_is_answered_by_graphql_core(api: Any) -> None:
    before = _runs()
    body = await api.post(
        '{ organization(slug: "gsp") { name children(first: 2) { nodes {'
        ' name children(after: "not-a-cursor") { nodes { name } } } } } }'
    )
    assert _delta(before) == {"fallback": 1}
    paths = [error["path"] for error in body["errors"]]
    assert ["organization", "children", "nodes", 0, "children"] in paths
    assert {error["extensions"]["code"] for error in body["errors"]} == {"INVALID_CURSOR"}
    # Connections are non-null, so the null spreads up to the nullable organization.
    assert body["data"] == {"organization": None}


async def test_introspection_runs_on_graphql_core(api: Any) -> None:
    before = _runs()
    data = await api.data('{ __type(name: "Organization") { name } }')
    assert data == {"__type": {"name": "Organization"}}
    assert _delta(before) == {"standard": 1}
