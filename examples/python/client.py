"""Ask soilapi from Python with httpx: a query with variables, and an error with its code.

    pip install httpx
    python client.py [GRAPHQL_URL]          (default: a local `make run`)

GraphQL over HTTP is one POST of JSON, so plain httpx is all a script needs; a client library
such as gql earns its place once you want documents checked against the schema before they
are sent, or subscriptions.
"""

from __future__ import annotations

import sys
from typing import Any

import httpx

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/graphql"

# Which "4 per 1000" partnerships were signed most recently?
LATEST = """
query Latest($first: Int!, $countries: [String!]) {
  partnerAgreements(orderBy: SIGNED, descending: true, first: $first, countries: $countries) {
    nodes {
      name
      instruments { nodes { instrumentType signed { iso } } }
    }
  }
}
"""


class GraphQLError(Exception):
    """An answer's errors; `codes` holds their `extensions.code` (the README's table)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.codes = [error.get("extensions", {}).get("code") for error in errors]
        pairs = zip(errors, self.codes, strict=True)
        super().__init__("; ".join(f"{error['message']} ({code})" for error, code in pairs))


def ask(client: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    """The data of an answer; GraphQLError when it has errors."""
    answer = client.post(URL, json={"query": query, "variables": variables}).json()
    if answer.get("errors"):
        raise GraphQLError(answer["errors"])
    data: dict[str, Any] = answer["data"]
    return data


def main() -> None:
    with httpx.Client(timeout=10) as client:
        data = ask(client, LATEST, first=3)
        for agreement in data["partnerAgreements"]["nodes"]:
            for instrument in agreement["instruments"]["nodes"]:
                signed = (instrument["signed"] or {}).get("iso", "undated")
                print(f"{signed}  {agreement['name']}: {instrument['instrumentType']}")
        try:
            ask(client, LATEST, first=3, countries=["France"])
        except GraphQLError as error:
            print(f"refused: {error}")


if __name__ == "__main__":
    main()
