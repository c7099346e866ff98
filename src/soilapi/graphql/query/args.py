"""Arguments shared by the root fields of several domains."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import strawberry

from soilapi.errors import InvalidInput
from soilapi.graphql import enums
from soilapi.graphql.roots import Filter, arg
from soilapi.services.dates import DatesAsked, InForceAsked
from soilapi.vocab import DateKind, TruthValue

Slug = Annotated[str, arg("The record's slug (e.g. `gsp`).")]
Countries = Annotated[
    list[str] | None, arg("Only these ISO 3166-1 alpha-2 codes, in upper case (e.g. DE).")
]
NameContains = Annotated[
    str | None,
    arg(
        "Only records whose name, acronym or another of their names contains this text "
        "(case and accents aside). `search` finds records by any of their texts, ranked."
    ),
]

PARTIAL_DATE = "a date written as precisely as you mean it: `2021`, `2021-06` or `2021-06-15`"


@strawberry.input(
    description="Which dates to match, and the range they must fall in. Dates are partial "
    "(a YEAR, a MONTH or a DAY) and match by overlap: a date matches when its period shares "
    'a day with the range from the first day of `from` to the last day of `to`. "2021-01" '
    "(a MONTH) lies within 2021; 2021 (a YEAR) overlaps June 2021, since the sources do not "
    "rule out that it fell in June. With neither bound, records that have one of the dates."
)
class DateFilter:
    from_: str | None = strawberry.field(
        name="from",
        default=None,
        description=f"Start of the range, {PARTIAL_DATE}; from its first day.",
    )
    to: str | None = strawberry.field(
        default=None, description=f"End of the range, {PARTIAL_DATE}; to its last day."
    )
    on: list[enums.DateKind] | None = strawberry.field(
        default=None,
        description="Which dates count; a record matches when one of them does. Default: "
        "every date the records have (an agreement's are its instruments').",
    )


def dates_asked(value: DateFilter) -> DatesAsked:
    """The `dated` argument as the services read it."""
    on = None if value.on is None else tuple(DateKind(kind.value) for kind in value.on)
    return DatesAsked(value.from_, value.to, on)


DATED = Filter(
    Annotated[
        DateFilter | None,
        arg(
            'Only records with a date in a range: `dated: {from: "2021", to: "2021-06", '
            "on: [START]}`. Partial dates match by overlap (see DateFilter)."
        ),
    ],
    "dated",
    dates_asked,
)


@strawberry.input(
    description="Whether agreements are in force on a day, as `inForceOn` answers it: TRUE, "
    "FALSE or UNKNOWN, with precision counted and unknown ends left UNKNOWN."
)
class InForceFilter:
    on: datetime.date = strawberry.field(description="The day asked about.")
    values: list[enums.TruthValue] = strawberry.field(
        default_factory=lambda: [enums.TruthValue.TRUE],
        description="The answers to keep: [TRUE] (the default) for agreements certainly in "
        "force, [TRUE, UNKNOWN] to add those the sources leave open.",
    )


def in_force_asked(value: InForceFilter) -> InForceAsked:
    """The `inForce` argument as the services read it."""
    return InForceAsked(value.on, tuple(TruthValue(answer.value) for answer in value.values))


def day_from(date_kind: str, what: str) -> Any:
    """A deprecated `...From` day argument, kept for the clients that send it."""
    return Annotated[
        datetime.date | None,
        strawberry.argument(
            description=f"Only records whose {what} date (its first day) is on or after this day.",
            deprecation_reason=f'Use `dated: {{from: "...", on: [{date_kind}]}}`, which takes '
            "partial dates and matches them by their precision.",
        ),
    ]


def day_to(date_kind: str, what: str) -> Any:
    """A deprecated `...To` day argument, kept for the clients that send it."""
    return Annotated[
        datetime.date | None,
        strawberry.argument(
            description=f"Only records whose {what} date (its first day) is on or before this day.",
            deprecation_reason=f'Use `dated: {{to: "...", on: [{date_kind}]}}`, which takes '
            "partial dates and matches them by their precision.",
        ),
    ]


def one_of(name: str, value: str | None, other: str, other_value: str | None) -> tuple[str, str]:
    """(column, value) of a lookup by exactly one of two arguments."""
    if (value is None) == (other_value is None):
        raise InvalidInput(f"pass exactly one of `{name}` or `{other}`", field=name)
    return (name, value) if value is not None else (other, other_value or "")
