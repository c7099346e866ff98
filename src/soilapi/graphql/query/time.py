"""The timeline: everything dated in a period, across kinds, in date order."""

from __future__ import annotations

from typing import Annotated

import strawberry

from soilapi.graphql import enums, resolve
from soilapi.graphql.pagination import After, Before, Connection, First, Last, PageArgs
from soilapi.graphql.query.args import PARTIAL_DATE
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.roots import arg
from soilapi.graphql.types.time import TimelineEntry
from soilapi.services import dates
from soilapi.vocab import DateKind, EntityKind


@strawberry.type
class TimeQueries:
    @strawberry.field(
        description="Everything dated in a period, across kinds, in date order: each entry "
        "is one date of one record (an organisation's START, an output's PUBLISHED, an "
        "instrument's SIGNED ...). Dates match the period by overlap, as in `dated` (a YEAR "
        'date 2021 is in `from: "2021-06"`), and sort by their first day, then by DateKind '
        "(SIGNED, START, LAUNCHED, PUBLISHED, END), then by record. A partner agreement's "
        "dates are its instruments' (kind AGREEMENT_INSTRUMENT)."
    )
    async def timeline(
        self,
        info: AnyInfo,
        from_: Annotated[
            str | None,
            strawberry.argument(
                name="from", description=f"Start of the period, {PARTIAL_DATE}; from its first day."
            ),
        ] = None,
        to: Annotated[
            str | None, arg(f"End of the period, {PARTIAL_DATE}; to its last day.")
        ] = None,
        on: Annotated[
            list[enums.DateKind] | None,
            arg("Only these dates (default: all)."),
        ] = None,
        kinds: Annotated[
            list[enums.EntityKind] | None,
            arg("Only records of these kinds (default: every kind that has dates)."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[TimelineEntry]:
        checked = dates.timeline(
            from_,
            to,
            None if on is None else [DateKind(kind.value) for kind in on],
            None if kinds is None else [EntityKind(kind.value) for kind in kinds],
        )
        page = PageArgs(first=first, after=after, last=last, before=before)
        return await resolve.timeline(info, checked, page)
