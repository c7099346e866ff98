"""The suite: seventeen operations, each a `.graphql` file in operations/ (soilapi's) and, where
PostGraphile's schema differs, in operations/postgraphile/ (see bench/README.md for the mapping);
facets, search, name matching, neighbourhoods and the timeline are soilapi's alone.

Most send one fixed body; node_lookups and the `*_varied` ones take variables, gathered per
target by bench/variables.py, and the `*_varied` ones are sent with 1,000 variable sets in
turn, as real clients send one document with other arguments each time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OPERATIONS_DIR = Path(__file__).parent / "operations"
# soilapi runs twice: with its response cache off (the work of every request) and on (warm).
TARGETS = ("floor", "soilapi", "soilapi-cached", "postgraphile")
SOILAPI = ("soilapi", "soilapi-cached")  # an operation's targets when only soilapi has the field


@dataclass(frozen=True)
class Operation:
    """One operation of the suite; `targets` are the servers that can answer it (the others
    are skipped, not failed: PostGraphile and the floor have no facets and no search)."""

    name: str
    title: str
    targets: tuple[str, ...] = TARGETS

    def document(self, target: str) -> str:
        """The GraphQL document a target is sent (all but PostGraphile get soilapi's)."""
        own = OPERATIONS_DIR / "postgraphile" / f"{self.name}.graphql"
        if target != "postgraphile":
            own = OPERATIONS_DIR / f"{self.name}.graphql"
        path = own if own.is_file() else OPERATIONS_DIR / f"{self.name}.graphql"
        return path.read_text(encoding="utf-8")

    def body(self, target: str, variables: dict[str, Any] | None = None) -> bytes:
        """The POST body of one request."""
        payload: dict[str, Any] = {"query": self.document(target)}
        if variables:
            payload["variables"] = variables
        return json.dumps(payload).encode()


OPERATIONS = (
    Operation("list_filtered", "first page of a filtered list (20 German organisations)"),
    Operation("deep_traversal", "GSP → children → children, each with its sources"),
    Operation("facilities_agreements", "4p1000 facilities → objectives → task forces + agreements"),
    Operation("node_lookups", "50 records by global ID"),
    Operation("per_parent_pages", "50 networks x first 10 agreements each"),
    Operation("introspection", "the standard introspection query"),
    Operation("org_tree_varied", "1,000 organisations → children → children"),
    Operation("page_through_varied", "a page of 20 organisations after 1,000 cursors"),
    Operation("node_lookups_varied", "1,000 sets of 20 records by global ID"),
    Operation("apollo_typename", "deep_traversal with __typename everywhere (Apollo Client)"),
    Operation("dashboard", "4 root lists with totalCount, newest first and partner agreements"),
    Operation(
        "faceted_list",
        "German partner agreements: a page, facets and instrument totals",
        SOILAPI,
    ),
    Operation("search_varied", "1,000 searches, first 10 hits", SOILAPI),
    Operation("match_varied", "1,000 organisation names matched", SOILAPI),
    Operation("neighbourhood", "records within two relations of the ESP, nearest first", SOILAPI),
    Operation(
        "neighbourhood_varied", "records within two relations of 1,000 organisations", SOILAPI
    ),
    Operation("timeline", "first page of the 2021 timeline, all kinds", SOILAPI),
    Operation("feed_page", "a page of 100 changes of the feed, with their records", SOILAPI),
)
BY_NAME = {op.name: op for op in OPERATIONS}


def introspection_document() -> str:
    """graphql-core's standard introspection query, as stored in operations/."""
    return BY_NAME["introspection"].document("soilapi")
