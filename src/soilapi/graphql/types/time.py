"""Whether agreements, instruments and relations are in force on a day.

"In force" is three-valued and worked out in SQL (soilapi.repositories.dates.in_force_reason)
from the same conditions as the `inForce` filter of `partnerAgreements`
(soilapi.repositories.dates.certainties), so the field and the filter answer alike.
"""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Parent

from soilapi import vocab
from soilapi.graphql import enums, resolve
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.types.values import PartialDate, partial
from soilapi.repositories.dates import InForceRow
from soilapi.repositories.records import Record

if TYPE_CHECKING:
    from soilapi.graphql.types.fourper1000 import AgreementInstrument

RULES = (
    "TRUE when it certainly began by that day (its start, or its signature when no start is "
    "stated, known precisely enough) and its stated or derived end is on or after the day; "
    "FALSE when the day comes before its start's period or after its end's; UNKNOWN "
    "otherwise: no start, no end, or a start or end known only to the year or month whose "
    "period holds the day. `reason` says which."
)


@strawberry.type(
    description="Whether something is in force on a day: TRUE, FALSE or UNKNOWN, why, and "
    f"the dates the answer was worked out from. {RULES}"
)
class InForce:
    value: enums.TruthValue = strawberry.field(description="The answer: TRUE, FALSE or UNKNOWN.")
    reason: enums.InForceReason = strawberry.field(
        description="Why: which date settles the answer, or which is missing or too coarse."
    )
    start: PartialDate | None = strawberry.field(
        description="The start the answer counts from: the stated start, else the signature "
        "(`startIsSignature`)."
    )
    start_is_signature: bool = strawberry.field(
        description="True when no start is stated and the signature stands in for it."
    )
    end: PartialDate | None = strawberry.field(description="The end the answer counts to.")
    end_is_derived: bool = strawberry.field(
        description="True when the end is derived (signature + duration), not stated: the "
        "answer rests on that derivation."
    )
    instrument_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(
        description="The instrument whose dates give the answer: for an agreement, its "
        "instrument nearest to in force (TRUE over UNKNOWN over FALSE, then in the order of "
        "InForceReason, then the first listed); for an instrument, itself; null for "
        "relations and agreements without instruments."
    )
    async def instrument(
        self, info: AnyInfo
    ) -> (
        Annotated[AgreementInstrument, strawberry.lazy("soilapi.graphql.types.fourper1000")] | None
    ):
        return await resolve.entity(info, self.instrument_id)  # type: ignore[no-any-return]


NO_INSTRUMENTS = InForce(
    value=vocab.TruthValue.UNKNOWN,
    reason=vocab.InForceReason.NO_INSTRUMENTS,
    start=None,
    start_is_signature=False,
    end=None,
    end_is_derived=False,
    instrument_id=None,
)


def answer(row: InForceRow | None) -> InForce:
    """The GraphQL answer of a row of soilapi.repositories.dates.in_force_on (None: an
    agreement without instruments)."""
    if row is None:
        return NO_INSTRUMENTS
    return InForce(
        value=vocab.IN_FORCE_VALUES[row.reason],
        reason=row.reason,
        start=partial(row.start, row.start_precision),
        start_is_signature=row.start_is_signature,
        end=partial(row.end, row.end_precision),
        end_is_derived=row.end_is_derived,
        instrument_id=row.instrument_id,
    )


Day = Annotated[datetime.date, strawberry.argument(description="The day asked about.")]


def in_force_field(what: str, description: str) -> Any:
    """An `inForceOn(date:)` field of agreements, instruments or relations (`what`): one
    statement per list level, whatever the number of records."""

    async def resolver(root: Parent[Record], info: AnyInfo, date: Day) -> InForce:
        return answer(await resolve.in_force(info, what, root.id, date))

    return strawberry.field(resolver=resolver, description=f"{description} {RULES}")
