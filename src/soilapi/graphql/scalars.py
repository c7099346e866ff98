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
from strawberry.schema.types.base_scalars import DateDefinition
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

# What the schema is built with: each Python type's GraphQL scalar.
SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {dt.date: DATE}
