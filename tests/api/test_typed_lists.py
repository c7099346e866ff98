"""A typed connection returns records of its type only, whatever else the document asks.

The GSP's `implements` relations include its 2020 campaign, which is an output: it used to
come back inside an `InitiativeConnection` as an `Initiative` of kind OUTPUT, as a null in a
non-null list once `category` was selected, or as a null `organization` with INTERNAL_SERVER_ERROR
when anything else in the document sent the query to the resolvers. The `api` client compares
each answer with graphql-core's executor with the SQL compiler off.
"""

from __future__ import annotations

from typing import Any

import pytest

IMPLEMENTS = """
{
  organization(slug: "gsp") {
    implements(first: 100) { totalCount nodes { __typename slug kind category } }
    %s
  }
}
"""

RELATED_OUTPUTS = """
{
  organization(slug: "gsp") {
    relations(direction: INCOMING, predicates: [IMPLEMENTED_BY, LED_BY, IMPLEMENTED_WITHIN],
              first: 100) {
      nodes { predicate subject { __typename slug kind } }
    }
  }
}
"""


@pytest.mark.parametrize(
    "elsewhere",
    ["", "ledBy: parent { name }", "relations(first: 1) { nodes { predicate } }"],
    ids=["alone", "with-parent", "with-relations"],
)
async def test_implements_lists_initiatives_only(api: Any, elsewhere: str) -> None:
    data = await api.data(IMPLEMENTS % elsewhere)
    implements = data["organization"]["implements"]
    kinds = {node["kind"] for node in implements["nodes"]}
    assert kinds == {"INITIATIVE"}
    assert {node["__typename"] for node in implements["nodes"]} == {"Initiative"}
    assert implements["totalCount"] == len(implements["nodes"])


async def test_the_left_out_output_is_still_reachable_through_relations(api: Any) -> None:
    """The typed list drops the output; the generic relations keep every kind."""
    typed = await api.data(IMPLEMENTS % "")
    generic = await api.data(RELATED_OUTPUTS)
    subjects = [n["subject"] for n in generic["organization"]["relations"]["nodes"]]
    outputs = [s for s in subjects if s["kind"] == "OUTPUT"]
    assert outputs, "the seed data holds an output among the GSP's implementers"
    assert all(s["__typename"] == "Output" for s in outputs)
    initiatives = {s["slug"] for s in subjects if s["kind"] == "INITIATIVE"}
    listed = {n["slug"] for n in typed["organization"]["implements"]["nodes"]}
    assert listed == initiatives
