"""Root fields of the "4 per 1000" Initiative: facilities, objectives, partner agreements."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import strawberry

from soilapi.graphql import enums
from soilapi.graphql.pagination import Connection
from soilapi.graphql.query.args import (
    DATED,
    Countries,
    InForceFilter,
    Slug,
    in_force_asked,
    one_of,
)
from soilapi.graphql.roots import Filter, Lookup, Read, arg, enum_values, root_field, root_list
from soilapi.graphql.types.fourper1000 import AgreementList
from soilapi.graphql.types.registry import Facility, PartnerAgreement, StrategicObjective
from soilapi.vocab import EntityKind as K


def _value(member: Any) -> Any:
    return member.value


@strawberry.type
class FourPer1000Queries:
    @root_field(Facility | None, 'A "4 per 1000" facility by slug or by code (`CF3`).')
    @staticmethod
    def facility(
        slug: Annotated[str | None, arg("The facility's slug.")] = None,
        code: Annotated[str | None, arg("The facility's code (CF3, GF1).")] = None,
    ) -> Read:
        return Lookup(K.FACILITY, *one_of("slug", slug, "code", code))

    facilities = root_list(
        K.FACILITY,
        Connection[Facility],
        'The "4 per 1000" facilities.',
        kind=Filter(
            Annotated[enums.FacilityKind | None, arg("Only core or only global facilities.")],
            "facility_kind",
            _value,
        ),
    )

    @root_field(StrategicObjective | None, "A strategic objective by slug or by label (`A1`).")
    @staticmethod
    def strategic_objective(
        slug: Annotated[str | None, arg("The objective's slug.")] = None,
        label: Annotated[str | None, arg("The objective's label (A1 ... F3).")] = None,
    ) -> Read:
        return Lookup(K.STRATEGIC_OBJECTIVE, *one_of("slug", slug, "label", label))

    strategic_objectives = root_list(
        K.STRATEGIC_OBJECTIVE,
        Connection[StrategicObjective],
        'The "4 per 1000" strategic objectives (A1 ... F3).',
        goal_letters=Filter(
            Annotated[
                list[str] | None,
                arg("Only these goal letters: A, B, C, D, E or F (upper case)."),
            ],
            "goal_letters",
        ),
    )

    @root_field(PartnerAgreement | None, "A partner agreement by slug (`4p1000-partner-05`).")
    @staticmethod
    def partner_agreement(slug: Slug) -> Read:
        return Lookup(K.PARTNER_AGREEMENT, "slug", slug)

    partner_agreements = root_list(
        K.PARTNER_AGREEMENT,
        AgreementList,
        'Partner agreements, e.g. the "4 per 1000" Initiative\'s partners in '
        'Germany: `partnerAgreements(countries: ["DE"])`.',
        countries=Filter(Countries, "country_codes"),
        instrument_types=Filter(
            Annotated[
                list[enums.InstrumentType] | None,
                arg("Only agreements with an instrument of these types."),
            ],
            "instrument_types",
            enum_values,
        ),
        active_on=Filter(
            Annotated[
                datetime.date | None,
                strawberry.argument(
                    description="Only agreements with an instrument in force on this day "
                    "(start or signature on or before it, end unknown or on or after it).",
                    deprecation_reason="Counts an unknown end as in force and ignores the "
                    "precision of dates; use `inForce: {on: ..., values: [TRUE]}` (or "
                    "`[TRUE, UNKNOWN]`), which answers as `inForceOn` does.",
                ),
            ],
            "active_on",
        ),
        in_force=Filter(
            Annotated[
                InForceFilter | None,
                arg(
                    "Only agreements whose `inForceOn(date)` answer is one of `values` on "
                    "the day `on`: certainly in force (TRUE), or possibly (UNKNOWN) too."
                ),
            ],
            "in_force",
            in_force_asked,
        ),
        dated=DATED,
    )
