"""The `explain` request extension: the SQL a request ran, with EXPLAIN plans, in the answer.

A development aid, as PostGraphile's Ruru shows plans: with EXPLAIN_QUERIES on, a request
that sends `extensions: {"explain": true}` gets `extensions.explain` in its answer, listing
every statement the request ran to answer it (the SQL compiler's, or the resolvers' when they
answered) with its values and PostgreSQL's plan. With the setting off (the default, and
production's) the extension is ignored: a client left in debug mode still gets its answers,
and nothing of the SQL leaves the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from soilapi.repositories import Reader
from soilapi.repositories.explain import Explained, explain

EXTENSION = "explain"


class Malformed(ValueError):
    """`extensions.explain` holds something other than true or false."""


def wanted(extensions: Mapping[str, Any] | None) -> bool:
    """Whether the request asks for its statements to be explained; Malformed when it sends
    the extension with another value (a string "true" would otherwise pass unnoticed)."""
    value = (extensions or {}).get(EXTENSION)
    if value is None or isinstance(value, bool):
        return bool(value)
    raise Malformed(
        f"`extensions.{EXTENSION}` takes true or false, not {type(value).__name__} "
        f'{value!r}: send `{{"{EXTENSION}": true}}` to have the SQL explained.'
    )


async def report(reader: Reader, *, compiled: bool) -> dict[str, Any]:
    """`extensions.explain`: which engine answered, and the statements the request ran since
    `reader.record()`, each with its values and plans (in the request's own snapshot)."""
    statements = await explain(reader, reader.recorded())
    return {
        "engine": "compiler" if compiled else "resolvers",
        "statements": [_entry(statement) for statement in statements],
    }


def _entry(statement: Explained) -> dict[str, Any]:
    entry: dict[str, Any] = {"sql": statement.sql, "values": statement.values}
    if statement.error is not None:
        entry["error"] = statement.error
    else:
        entry["plan"] = statement.plan
        entry["planText"] = statement.text
    return entry
