"""Record types of the "4 per 1000" Initiative's structure: facility blocks, facilities,
objectives, task forces, alliances, partner agreements and their instruments."""

import strawberry

from soilapi import vocab
from soilapi.graphql import enums, resolve
from soilapi.graphql.facets import FacetedConnection
from soilapi.graphql.limits import MOST_ITEMS, OWN_READ
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.sqlmark import Totals, column_field, date_field, reads
from soilapi.graphql.types.entity import Entity
from soilapi.graphql.types.fields import fk_list, fk_one, incoming, rel_list
from soilapi.graphql.types.node import entity_type
from soilapi.graphql.types.time import in_force_field
from soilapi.repositories.entities import ChildList
from soilapi.vocab import EntityKind as K
from soilapi.vocab import Order
from soilapi.vocab import Predicate as P


@entity_type(
    description='The Core or Global Facilities block of the "4 per 1000" Initiative, with the '
    "purpose, development and key-actor text of its header."
)
class FacilityBlock(Entity):
    facility_kind: enums.FacilityKind = strawberry.field(description="Core or global.")
    purpose: str | None = strawberry.field(description="The block's Purpose line.")
    development: str | None = strawberry.field(description="The block's Development line.")
    key_actors_label: str | None = strawberry.field(
        description='Heading of the key-actor line ("Key Stakeholders" / "Key actors").'
    )
    key_actors: str | None = strawberry.field(description="The key-actor line.")
    column_headers: list[str] = strawberry.field(description="Column headers of the table.")
    owner = fk_one("owner_id", "Organization", "The organisation.", required=True)
    facilities = fk_list(
        ChildList(K.FACILITY, "block_id", Order.ORDINAL), "Facility", "Facilities in table order."
    )


@entity_type(description="A facility (CF2 ... GF6) of a facility block.")
class Facility(Entity):
    code: str = strawberry.field(description="Code (CF3, GF1).")
    code_inferred: bool = strawberry.field(
        description="True when the code is missing in the source and inferred from its place."
    )
    position: int = strawberry.field(description="Position in the source table.")
    block = fk_one("block_id", "FacilityBlock", "The block.", required=True)
    objectives = fk_list(
        ChildList(K.STRATEGIC_OBJECTIVE, "facility_id", Order.ORDINAL),
        "StrategicObjective",
        "Strategic objectives listed under the facility, in table order.",
    )
    alliances = fk_list(
        ChildList(K.ALLIANCE, "facility_id", Order.NAME), "Alliance", "Alliances (none named)."
    )


@entity_type(description="A strategic objective (A1 ... F3) of the strategic plan.")
class StrategicObjective(Entity):
    label: str = strawberry.field(description="Label (A1).")
    goal_letter: str = strawberry.field(description="Goal letter, the label's first letter.")
    position: int = strawberry.field(description="Position within its facility.")
    assignment_contested: bool = strawberry.field(
        description="True when the sources disagree on the facility."
    )
    assignment_note: str | None = strawberry.field(description="Why the assignment is unsure.")
    facility = fk_one("facility_id", "Facility", "The facility.", required=True)
    task_forces = fk_list(
        ChildList(K.TASK_FORCE, "objective_id", Order.NAME),
        "TaskForce",
        "The task force of this objective (at most one).",
    )


@entity_type(description="The task force of one strategic objective.")
class TaskForce(Entity):
    explicitly_listed: bool = strawberry.field(
        description="True when the source lists it (the Global Facilities column header)."
    )
    objective = fk_one("objective_id", "StrategicObjective", "Its objective.", required=True)


@entity_type(description="An alliance of a global facility.")
class Alliance(Entity):
    facility = fk_one("facility_id", "Facility", "The facility.", required=True)


@entity_type(description="One item of an organisation's list of partnerships, with its terms.")
class PartnerAgreement(Entity):
    ordinal: int = strawberry.field(description="Position in the list (1-22).")
    raw_text: str = strawberry.field(description="The list item, verbatim.")
    jurisdiction_label: str | None = strawberry.field(
        description='Country label as written ("France", "IO", "French").'
    )

    list_as_of = date_field("list_as_of", 'Date of the list ("updated in October 2022").')

    owner = fk_one("owner_id", "Organization", "Whose list it is.", required=True)
    context = fk_one("context_id", "Event", "Event the item is listed under (UNFSS 2021).")
    parties = rel_list(
        incoming(P.PARTY_TO), "Entity", "The partner(s): organisations or initiatives."
    )
    instruments = fk_list(
        ChildList(K.AGREEMENT_INSTRUMENT, "agreement_id", Order.ORDINAL),
        "AgreementInstrument",
        "The instruments (grant, secondment, MoU ...) in the order written.",
    )
    in_force_on = in_force_field(
        "agreement",
        "Whether the agreement is in force on a day: as much as its most in-force instrument "
        "(TRUE over UNKNOWN over FALSE); UNKNOWN without instruments.",
    )


@entity_type(description="One instrument of a partner agreement, with its dates and terms.")
class AgreementInstrument(Entity):
    ordinal: int = strawberry.field(description="Position within the agreement.")
    instrument_type: enums.InstrumentType = strawberry.field(description="What the instrument is.")
    raw_text: str = strawberry.field(description="The instrument as written.")
    duration_months: int | None = strawberry.field(description='Duration ("3 yr." = 36).')
    end_is_derived: bool = strawberry.field(
        description="True when `end` is computed from signature date + duration, not stated."
    )
    date_note: str | None = strawberry.field(description="When a date's role is unclear.")

    fte = column_field(
        "fte", float | None, "Full-time equivalents seconded (secondments only).", float
    )
    signed = date_field("signed", "Signature date.")

    agreement = fk_one("agreement_id", "PartnerAgreement", "The agreement.", required=True)
    location = fk_one("location_id", "Place", "Where premises are (offices).")
    in_force_on = in_force_field("instrument", "Whether the instrument is in force on a day.")


@strawberry.type(description="How many instruments of one type the agreements of a list have.")
class InstrumentTypeCount:
    instrument_type: enums.InstrumentType = strawberry.field(description="The type.")
    count: int = strawberry.field(description="Instruments of this type.")


@strawberry.type(
    description="Totals over the instruments of every agreement a list holds: every filter "
    "applied, all pages. An agreement kept for one instrument (`instrumentTypes`, `activeOn`) "
    "brings all of its instruments."
)
class AgreementAggregates:
    fte: float = strawberry.field(
        description="Full-time equivalents seconded, summed over the instruments (secondments "
        "state them); 0 when none is stated."
    )
    instruments: int = strawberry.field(description="How many instruments they have.")
    by_instrument_type: list[InstrumentTypeCount] = strawberry.field(
        description="Instruments per type, the most frequent first (ties by type); a type "
        "none of them has is left out.",
        metadata={MOST_ITEMS: len(vocab.InstrumentType)},
    )


@strawberry.type(
    name="PartnerAgreementFacetedConnection",
    description="A page of partner agreements, with `facets` and `aggregates` over the whole "
    "list, all pages.",
)
class AgreementList(FacetedConnection[PartnerAgreement]):
    @strawberry.field(
        description="Totals over the instruments of the whole list's agreements (every filter "
        "applied, all pages): FTE seconded and instruments per type. Read in one statement, "
        "only when selected.",
        metadata={OWN_READ: True},
    )
    @reads(Totals())
    async def aggregates(self, info: AnyInfo) -> AgreementAggregates:
        # The total first, then a row per type (soilapi.repositories.facets.totals_query).
        total, *types = await resolve.agreement_totals(info, self.filter)
        return AgreementAggregates(
            fte=total["fte"],
            instruments=total["count"],
            by_instrument_type=[
                InstrumentTypeCount(
                    instrument_type=enums.InstrumentType[row["instrument_type"]],
                    count=row["count"],
                )
                for row in types
            ],
        )
