"""Arguments shared by the root fields of several domains."""

from __future__ import annotations

import datetime
from typing import Annotated

from soilapi.errors import InvalidInput
from soilapi.graphql.roots import arg

Slug = Annotated[str, arg("The record's slug (e.g. `gsp`).")]
Countries = Annotated[
    list[str] | None, arg("Only these ISO 3166-1 alpha-2 codes, in upper case (e.g. DE).")
]
StartFrom = Annotated[
    datetime.date | None, arg("Only records whose start date is on or after this day.")
]
StartTo = Annotated[
    datetime.date | None, arg("Only records whose start date is on or before this day.")
]
NameContains = Annotated[
    str | None,
    arg(
        "Only records whose name, acronym or another of their names contains this text "
        "(case and accents aside). `search` finds records by any of their texts, ranked."
    ),
]


def one_of(name: str, value: str | None, other: str, other_value: str | None) -> tuple[str, str]:
    """(column, value) of a lookup by exactly one of two arguments."""
    if (value is None) == (other_value is None):
        raise InvalidInput(f"pass exactly one of `{name}` or `{other}`", field=name)
    return (name, value) if value is not None else (other, other_value or "")
