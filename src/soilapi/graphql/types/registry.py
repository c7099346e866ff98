"""Concrete record types and their typed traversals.

The types reference each other in every direction (organisation → agreements → parties →
organisation), so they live in one module; the field factories below keep each traversal to a
single declaration that names the relation and the loader does the rest.
"""

import uuid
from dataclasses import replace
from typing import Any

import strawberry
from strawberry import Parent

from soilapi.graphql import enums, resolve
from soilapi.graphql.pagination import After, Before, Connection, First, Last
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.sqlmark import (
    Children,
    FirstRelated,
    Ref,
    Related,
    column_field,
    date_field,
    reads,
)
from soilapi.graphql.types.entity import Entity, page, paged_field
from soilapi.graphql.types.node import KINDS_BY_TYPE, entity_type
from soilapi.repositories.entities import ChildList, RelationList
from soilapi.repositories.records import Record
from soilapi.vocab import EntityKind as K
from soilapi.vocab import Order
from soilapi.vocab import Predicate as P

# --- field factories ------------------------------------------------------------------------


def _out(*predicates: P) -> RelationList:
    return RelationList(predicates=predicates, incoming=False)


def _in(*predicates: P) -> RelationList:
    return RelationList(predicates=predicates, incoming=True)


def typed(spec: RelationList, node: str) -> RelationList:
    """The relation list keeping only records of the item type `node` (any for `Entity`):
    the field's GraphQL type decides which kinds both engines return."""
    kind = KINDS_BY_TYPE.get(node)
    return replace(spec, kinds=(kind,) if kind is not None else ())


def rel_list(spec: RelationList, node: str, description: str) -> Any:
    """A paged list of records linked by relations of the given types."""
    spec = typed(spec, node)
    return paged_field(
        lambda info, parent, args: resolve.related(info, parent, spec, args),
        node,
        description,
        __name__,
        Related(spec),
    )


def rel_one(spec: RelationList, node: str, description: str) -> Any:
    """The first record linked by relations of the given types, or null."""
    spec = typed(spec, node)

    @reads(FirstRelated(spec))
    async def resolver(root: Parent[Record], info: AnyInfo) -> Any:
        return await resolve.first_related(info, root.id, spec)

    resolver.__annotations__["return"] = f"{node} | None"
    return strawberry.field(resolver=resolver, description=description)


def fk_list(spec: ChildList, node: str, description: str) -> Any:
    """A paged list of records that belong to this one through a foreign key."""
    return paged_field(
        lambda info, parent, args: resolve.children(info, parent, spec, args),
        node,
        description,
        __name__,
        Children(spec),
    )


def fk_one(column: str, node: str, description: str, *, required: bool = False) -> Any:
    """The record a foreign key column points at."""

    @reads(Ref(column))
    async def resolver(root: Parent[Any], info: AnyInfo) -> Any:
        target: uuid.UUID | None = getattr(root, column)
        return await resolve.entity(info, target)

    resolver.__annotations__["return"] = node if required else f"{node} | None"
    return strawberry.field(resolver=resolver, description=description)


ORG_TREE = (P.SUB_ORGANIZATION_OF, P.UNIT_OF, P.TECHNICAL_NETWORK_OF)

# --- organisations and people ------------------------------------------------------------


@entity_type(
    description="An organisation, partnership, network or unit (GSP, ESP, FAO, INSER ...)."
)
class Organization(Entity):
    org_class: enums.OrgClass | None = strawberry.field(
        description="W3C ORG class: formal organisation, unit or collaboration."
    )
    category: enums.OrgCategory | None = strawberry.field(description="What the organisation is.")
    is_international_org: bool | None = strawberry.field(
        description="True for intergovernmental or international organisations."
    )
    jurisdiction_label: str | None = strawberry.field(
        description='Country or status label as written in the source ("IO", "France Martinique").'
    )
    purpose: str | None = strawberry.field(description="Purpose as stated in the sources.")

    parent = rel_one(
        _out(*ORG_TREE),
        "Organization",
        "The organisation this one sits under (sub-organisation, unit or technical network).",
    )
    children = rel_list(
        _in(*ORG_TREE),
        "Organization",
        "Organisations directly under this one: sub-organisations, units, technical networks.",
    )

    @strawberry.field(description="All organisations above this one, nearest first.")
    async def ancestors(
        self,
        root: Parent[Record],
        info: AnyInfo,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection["TreeEntry"]:
        return await resolve.tree(info, root.id, True, page(first, after, last, before))

    @strawberry.field(description="All organisations below this one, level by level.")
    async def descendants(
        self,
        root: Parent[Record],
        info: AnyInfo,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection["TreeEntry"]:
        return await resolve.tree(info, root.id, False, page(first, after, last, before))

    hosted_by = rel_list(_out(P.HOSTED_BY), "Organization", "Organisations that host this one.")
    hosts = rel_list(_in(P.HOSTED_BY), "Organization", "Organisations this one hosts.")
    operates_within = rel_list(
        _out(P.OPERATES_WITHIN), "Organization", "Frameworks this organisation operates within."
    )
    agreements = rel_list(
        _out(P.PARTY_TO),
        "PartnerAgreement",
        "Partner agreements this organisation is a party to (with their instruments).",
    )
    partner_agreements = fk_list(
        ChildList(K.PARTNER_AGREEMENT, "owner_id", Order.ORDINAL),
        "PartnerAgreement",
        "The organisation's own list of partner agreements, in list order.",
    )
    facility_blocks = fk_list(
        ChildList(K.FACILITY_BLOCK, "owner_id", Order.NAME),
        "FacilityBlock",
        'Facility blocks the organisation runs (the "4 per 1000" Core and Global Facilities).',
    )
    posts = fk_list(
        ChildList(K.POST, "organization_id", Order.NAME), "Post", "Posts in this organisation."
    )
    authored = rel_list(_in(P.AUTHORED_BY), "Output", "Outputs this organisation authored.")
    published = rel_list(_in(P.PUBLISHED_BY), "Output", "Outputs this organisation published.")
    organized_events = rel_list(_in(P.ORGANIZED_BY), "Event", "Events it organised.")
    represented_at = rel_list(
        _out(P.REPRESENTED_AT), "Event", "Events where the organisation was represented."
    )
    implements = rel_list(
        _in(P.IMPLEMENTED_BY, P.LED_BY, P.IMPLEMENTED_WITHIN),
        "Initiative",
        "Initiatives it implements or leads, or that run within its framework.",
    )


@strawberry.type(description="One organisation in a hierarchy walk, with its distance.")
class TreeEntry:
    depth: int = strawberry.field(description="1 for direct children or the parent, 2 next...")
    via: enums.Predicate = strawberry.field(
        description="The relation that links this organisation to the level before it."
    )
    organization: Organization = strawberry.field(description="The organisation.")


@entity_type(description="A named person.")
class Person(Entity):
    honorific: str | None = strawberry.field(description='Honorific as written ("Mr.", "Ms.").')
    given_name: str | None = strawberry.field(description="Given name, when certain.")
    family_name: str | None = strawberry.field(description="Family name, when certain.")
    name_order_uncertain: bool = strawberry.field(
        description="True when the source does not make clear which name is the family name."
    )
    posts = rel_list(_out(P.HOLDS_POST), "Post", "Posts the person holds.")
    spoke_at = rel_list(_out(P.SPEAKER_AT), "Event", "Events the person spoke at.")


@entity_type(description="A position in an organisation (Director, Secretary ...).")
class Post(Entity):
    label: str = strawberry.field(description="Title of the post as written.")
    organization = fk_one("organization_id", "Organization", "Where the post is.", required=True)
    holders = rel_list(_in(P.HOLDS_POST), "Person", "People who hold the post.")


@entity_type(description="A country, territory, city or region.")
class Place(Entity):
    category: enums.PlaceCategory | None = strawberry.field(description="What kind of place.")
    iso3166_1: str | None = strawberry.field(description="ISO 3166-1 alpha-2 code.")
    iso3166_2: str | None = strawberry.field(description="ISO 3166-2 subdivision code.")
    parent = fk_one("parent_id", "Place", "The place this one lies in.")
    children = fk_list(ChildList(K.PLACE, "parent_id", Order.NAME), "Place", "Places within.")
    located_here = rel_list(_in(P.LOCATED_IN), "Entity", "Records located in this place.")


@entity_type(description="A Sustainable Development Goal target.")
class SdgTarget(Entity):
    goal: int = strawberry.field(description="Goal number (15).")
    target: str = strawberry.field(description='Target code ("15.3").')
    contributors = rel_list(_in(P.CONTRIBUTES_TO), "Entity", "Records that contribute to it.")


# --- programmes, initiatives, outputs, events, documents ---------------------------------


@entity_type(
    description="A programme, strategy, law, treaty or framework (Interreg Alpine Space, the "
    "Alpine Convention, EU Missions, the Soil Monitoring Law, the CBD ...)."
)
class Programme(Entity):
    category: enums.ProgrammeCategory | None = strawberry.field(
        description="What kind of programme."
    )
    period_start: int | None = strawberry.field(description="First year of the current period.")
    period_end: int | None = strawberry.field(description="Last year of the current period.")
    target_year: int | None = strawberry.field(description="Year its goal is set for.")
    status: str | None = strawberry.field(description="Status as stated (e.g. draft).")
    parts = rel_list(_in(P.PART_OF), "Entity", "Programmes and initiatives that are part of it.")
    part_of = rel_list(_out(P.PART_OF), "Entity", "What this programme is part of.")
    funds = rel_list(_in(P.FUNDED_BY), "Entity", "Projects and initiatives it funds.")
    organs = rel_list(_in(P.ORGAN_OF), "Organization", "Its organs (COP, Secretariat).")


@entity_type(
    description="An initiative, project, mission or UN decade (RECSOIL, Global Soil Doctors, "
    "the International Initiative for Soil Biodiversity, Links4Soils ...)."
)
class Initiative(Entity):
    category: enums.InitiativeCategory | None = strawberry.field(
        description="What kind of initiative."
    )
    target_year: int | None = strawberry.field(description="Year its goal is set for.")
    goal: str | None = strawberry.field(description="Its goal as stated.")

    launched = date_field("launched", "When it was launched, if stated.")

    outputs = rel_list(_in(P.PRODUCED_UNDER), "Output", "Outputs produced under this initiative.")
    led_by = rel_list(
        _out(P.LED_BY, P.IMPLEMENTED_BY, P.IMPLEMENTED_WITHIN),
        "Entity",
        "Who leads or implements it, or within whose framework it runs.",
    )
    part_of = rel_list(
        _out(P.PART_OF, P.CROSS_CUTTING_WITHIN, P.FUNDED_BY),
        "Entity",
        "Programmes it belongs to or is funded by.",
    )
    agreements = rel_list(_out(P.PARTY_TO), "PartnerAgreement", "Agreements it is a party to.")


@entity_type(
    description="A report, protocol, map, database, book, webinar, campaign or other output."
)
class Output(Entity):
    category: enums.OutputCategory | None = strawberry.field(description="What kind of output.")
    subtitle: str | None = strawberry.field(description="Subtitle, as written.")

    launched = date_field("launched", "When it was launched, if stated.")

    publication_place = fk_one("publication_place_id", "Place", "Place of publication.")
    authors = rel_list(_out(P.AUTHORED_BY), "Entity", "Authors, as credited in the citation.")
    publishers = rel_list(_out(P.PUBLISHED_BY), "Entity", "Publishers.")
    prepared_by = rel_list(
        _out(P.PREPARED_BY, P.LAUNCHED_BY), "Entity", "Who prepared or launched it."
    )
    initiatives = rel_list(_out(P.PRODUCED_UNDER), "Initiative", "Initiatives it was made under.")
    documents = rel_list(
        _out(P.MADE_AVAILABLE_AS, P.CONTAINED_IN), "Document", "Official documents that carry it."
    )
    events = rel_list(
        _out(P.LAUNCHED_AT, P.OUTCOME_OF, P.HELD_ON, P.CULMINATED_AT, P.PART_OF),
        "Event",
        "Events it was launched at, came out of, or was part of.",
    )
    citations = rel_list(_in(P.CITES), "Citation", "Footnotes that cite it.")


@entity_type(description="A conference, launch, symposium, session or observance.")
class Event(Entity):
    category: enums.EventCategory | None = strawberry.field(description="What kind of event.")
    attendance_mode: enums.AttendanceMode | None = strawberry.field(
        description="In person, online or both."
    )
    is_implied: bool = strawberry.field(
        description="True when the event is only implied (e.g. by a document symbol)."
    )
    place = fk_one("place_id", "Place", "Where it took place.")
    organizers = rel_list(_out(P.ORGANIZED_BY, P.SESSION_OF), "Entity", "Who organised it.")
    speakers = rel_list(
        _in(P.SPEAKER_AT),
        "Person",
        "Speakers in speaking order; their posts are on `Person.posts`, their remarks on "
        "`Person.statements`.",
    )
    represented_organizations = rel_list(
        _in(P.REPRESENTED_AT), "Organization", "Organisations represented at the event."
    )
    launched_here = rel_list(_in(P.LAUNCHED_AT), "Entity", "What was launched at this event.")
    outcomes = rel_list(_in(P.OUTCOME_OF), "Output", "Outputs that came out of it.")


@entity_type(description="An official document, decision or memorandum.")
class Document(Entity):
    symbol: str | None = strawberry.field(description="Official symbol (CBD/SBSTTA/24/INF/8).")
    category: enums.DocumentCategory | None = strawberry.field(description="What kind of document.")
    issued_by = rel_list(_out(P.ISSUED_BY), "Entity", "The body or treaty that issued it.")
    adopted_at = rel_list(
        _out(P.ADOPTED_AT, P.SIGNED_AT, P.PART_OF), "Event", "Where it was adopted or signed."
    )
    carries = rel_list(
        _in(P.MADE_AVAILABLE_AS, P.CONTAINED_IN), "Entity", "Outputs and plans it carries."
    )


@entity_type(description="A footnote of a source document.")
class Citation(Entity):
    footnote: int = strawberry.field(description="Footnote number.")
    raw_text: str = strawberry.field(description="The footnote as written.")
    authors_text: str | None = strawberry.field(description="Authors as written.")
    year: int | None = strawberry.field(description="Year as written.")
    place_text: str | None = strawberry.field(description="Place as written.")
    url: str | None = strawberry.field(description="URL given in the footnote.")
    cites = rel_list(_out(P.CITES), "Entity", "What the footnote cites.")
    about = rel_list(_out(P.SUPPORTS_CLAIM_ABOUT), "Entity", "What the sentence it backs is about.")


# --- the "4 per 1000" structure ------------------------------------------------------------


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
    parties = rel_list(_in(P.PARTY_TO), "Entity", "The partner(s): organisations or initiatives.")
    instruments = fk_list(
        ChildList(K.AGREEMENT_INSTRUMENT, "agreement_id", Order.ORDINAL),
        "AgreementInstrument",
        "The instruments (grant, secondment, MoU ...) in the order written.",
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
