"""EXPLAIN of the statements a request ran: the development aid that EXPLAIN_QUERIES allows.

Each statement is explained as it was sent, with its own values, in the request's snapshot,
after its answer is complete: so the plan is the one PostgreSQL makes for that exact read,
and explaining changes nothing of the answer. EXPLAIN without ANALYZE plans the statement
and runs none of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from soilapi.db.session import Ran, Reader

__all__ = ["Explained", "Ran", "explain"]


@dataclass(frozen=True)
class Explained:
    """One statement with its plans: PostgreSQL's JSON (for tools such as explain
    visualisers) and its text (for people), or why they could not be had."""

    sql: str
    values: list[Any]
    plan: Any = None
    text: str | None = None
    error: str | None = None


async def explain(reader: Reader, statements: Sequence[Ran]) -> list[Explained]:
    """Every statement of `statements` with its plans, in order.

    A statement that cannot be explained (the request's transaction failed, the database
    went away) keeps its text and gets the error instead: the answer itself stands.
    """
    return [await _explained(reader, ran) for ran in statements]


async def _explained(reader: Reader, ran: Ran) -> Explained:
    values = [_plain(value) for value in ran.values]
    try:
        [json_row] = await reader.fetch_text(f"EXPLAIN (FORMAT JSON) {ran.sql}", ran.values)
        text_rows = await reader.fetch_text(f"EXPLAIN (FORMAT TEXT) {ran.sql}", ran.values)
    # A plan is a diagnosis beside the answer: whatever stops it is reported, not raised.
    except Exception as exc:
        return Explained(ran.sql, values, error=f"{type(exc).__name__}: {exc}")
    plan = json_row[0]
    if isinstance(plan, str):  # json arrives as text unless the connection decodes it
        plan = orjson.loads(plan)
    text = "\n".join(row[0] for row in text_rows)
    return Explained(ran.sql, values, plan=plan, text=text)


def _plain(value: Any) -> Any:
    """A statement's value as JSON can hold it: dates as ISO text, UUIDs and the rest as
    text, lists item by item."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)
