"""The queries GraphiQL opens with, one tab each: what a newcomer can ask, run as shown.

Each is a document (and its variables) on the seed data; tests/test_explorer.py runs every one
and checks it answers without an error. A record the examples point at by global ID (a
neighbourhood starts from one) is named by its seed slug: seed ids are stable, so its ID is
the same on every database the seed loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from soilapi.graphql.ids import encode
from soilapi.seed.loader import entity_id


@dataclass(frozen=True)
class Example:
    """One GraphiQL tab: a document and its variables."""

    query: str
    variables: dict[str, Any] = field(default_factory=dict)

    def tab(self) -> dict[str, str]:
        """The tab as GraphiQL's `defaultTabs` takes it (variables as JSON text)."""
        return {"query": self.query, "variables": json.dumps(self.variables, indent=2)}


WELCOME = Example("""\
# Welcome to soilapi: the global soil-governance network as a graph.
# Press the play button to run this query; open "Docs" for every type and field.
# The other tabs search, and walk the relations around a record.

# What sits under the Global Soil Partnership, level by level?
query UnderTheGSP {
  organization(slug: "gsp") {
    name
    start { iso precision }
    hostedBy { nodes { name } }
    descendants(first: 20) {
      nodes {
        depth
        via
        organization { name acronym start { iso } }
      }
    }
  }
  # Who are the "4 per 1000" Initiative's partners in Germany, and on what terms?
  partnerAgreements(countries: ["DE"]) {
    nodes {
      rawText
      parties { nodes { name } }
      instruments {
        nodes { instrumentType fte signed { iso } start { iso } end { iso } }
      }
    }
  }
}
""")

SEARCH = Example(
    """\
# Search every kind of record at once: names, acronyms, aliases, descriptions, statements and
# the quotes of the sources, ranked, with the passage that matched.
query Search($text: String!) {
  search(query: $text, first: 10) {
    totalCount
    nodes {
      score
      field
      snippet
      node { __typename ... on Entity { slug name } }
    }
  }
  # Which record does a partner system's name mean? `chosen` marks an unambiguous match.
  match(name: "German Ministry of Agriculture (BLE)") {
    score chosen matchType reason matchedName
    node { ... on Entity { slug name } }
  }
}
""",
    {"text": "soil erosion"},
)

NEIGHBOURHOOD = Example(
    """\
# Everything within two relations of the European Soil Partnership, nearest first, with the
# relation that reached each record and where that relation is stated. (The ID is the ESP's:
# `organization(slug: "esp") { id }`; `direction: BOTH` follows relations both ways.)
query Around($id: ID!) {
  neighbourhood(id: $id, depth: 2, first: 20) {
    totalCount
    nodes {
      distance
      direction
      record { __typename ... on Entity { slug name } }
      relation { predicate subject { name } object { name } sources { quote } }
    }
  }
}
""",
    {"id": encode("Organization", entity_id("esp"))},
)

EXAMPLES = (WELCOME, SEARCH, NEIGHBOURHOOD)
