"""The timeline: everything dated in a period, across kinds, in date order."""

from __future__ import annotations

from typing import Annotated

import strawberry

from soilapi.graphql import enums
from soilapi.graphql.pagination import After, Before, Connection, First, Last, PageArgs
from soilapi.graphql.query.args import PARTIAL_DATE
from soilapi.graphql.roots import Read, TimelineRead, arg, root_field
from soilapi.graphql.types.timeline import TimelineEntry
from soilapi.services import dates
from soilapi.vocab import DateKind, EntityKind

From = Annotated[
    str | None,
    strawberry.argument(
        name="from", description=f"Start of the period, {PARTIAL_DATE}; from its first day."
    ),
]
To = Annotated[str | None, arg(f"End of the period, {PARTIAL_DATE}; to its last day.")]
On = Annotated[list[enums.DateKind] | None, arg("Only these dates (default: all).")]
Kinds = Annotated[
    list[enums.EntityKind] | None,
    arg("Only records of these kinds (default: every kind that has dates)."),
]


@strawberry.type
class TimeQueries:
    @root_field(
        Connection[TimelineEntry],
        "Everything dated in a period, across kinds, in date order: each entry is one date of "
        "one record (an organisation's START, an output's PUBLISHED, an instrument's SIGNED "
        "...). Dates match the period by overlap, as in `dated` (a YEAR date 2021 is in `from: "
        '"2021-06"`), and sort by their first day, then by DateKind (SIGNED, START, LAUNCHED, '
        "PUBLISHED, END), then by record. A partner agreement's dates are its instruments' "
        "(kind AGREEMENT_INSTRUMENT).",
    )
    @staticmethod
    def timeline(
        from_: From = None,
        to: To = None,
        on: On = None,
        kinds: Kinds = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Read:
        checked = dates.timeline(
            from_,
            to,
            None if on is None else [DateKind(kind.value) for kind in on],
            None if kinds is None else [EntityKind(kind.value) for kind in kinds],
        )
        return TimelineRead(checked, PageArgs(first=first, after=after, last=last, before=before))
