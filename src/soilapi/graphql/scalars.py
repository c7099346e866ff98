"""The custom scalars, each with the specification a client's code generator types it by.

Strawberry's `Date` has no `@specifiedBy`, so graphql-codegen and relay type it `unknown`, and
its parser is Python's `date.fromisoformat`, which also takes ISO 8601's basic and week forms
("20210101", "2021-W01-1") that no client library writes or expects. soilapi's `Date` is RFC
3339's `full-date`, exactly: four digits, two, two.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

RFC_3339_FULL_DATE = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, str) and _FULL_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass  # a day the calendar lacks: 2021-02-30
    shown = value if isinstance(value, str) and len(value) <= 40 else type(value).__name__
    raise StrawberryInputCoercionError(
        f'Value cannot represent a Date: "{shown}". Expected a day as YYYY-MM-DD (RFC 3339).'
    )


DATE: ScalarDefinition = replace(
    DateDefinition,
    description="A calendar day, `YYYY-MM-DD` (RFC 3339 `full-date`).",
    specified_by_url=RFC_3339_FULL_DATE,
    parse_value=_parse_date,
)

RFC_3339_DATE_TIME = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
# How an instant is written, by both engines: UTC, always six fractional digits, "Z". The SQL
# compiler writes the same text with `to_char` (soilapi.repositories.json_query.DATE_TIME_SQL);
# tests/api/test_history.py compares the two on every record.
DATE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_date_time(value: dt.datetime) -> str:
    """An instant as RFC 3339 `date-time` in UTC with microseconds (one fixed width, so the
    text sorts as the instants do)."""
    return value.astimezone(dt.UTC).strftime(DATE_TIME_FORMAT)


def _parse_date_time(value: Any) -> dt.datetime:
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None and "T" in value.upper():
            return parsed
    shown = value if isinstance(value, str) and len(value) <= 40 else type(value).__name__
    raise StrawberryInputCoercionError(
        f'Value cannot represent a DateTime: "{shown}". Expected RFC 3339, e.g. '
        '"2025-09-15T08:30:00Z".'
    )


DATE_TIME: ScalarDefinition = replace(
    DateTimeDefinition,
    description="An instant, RFC 3339 `date-time` in UTC with microseconds "
    "(`2025-09-15T08:30:00.000000Z`).",
    specified_by_url=RFC_3339_DATE_TIME,
    serialize=format_date_time,
    parse_value=_parse_date_time,
)

# What the schema is built with: each Python type's GraphQL scalar.
SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {dt.date: DATE, dt.datetime: DATE_TIME}
