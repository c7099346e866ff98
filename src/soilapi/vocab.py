"""Closed vocabularies shared by the database, the seed loader and the GraphQL schema.

Kept as plain enums in one module so that a value added here reaches the column check
constraints (via a migration), the seed validator and the GraphQL enums at once.
"""

import re
from datetime import date
from enum import StrEnum

# A record's slug: lower-case letters and digits in words joined by single hyphens (the seed
# files' rule and the writes').
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class EntityKind(StrEnum):
    """What kind of record an entity row is; selects its detail table."""

    ORGANIZATION = "organization"
    PROGRAMME = "programme"
    INITIATIVE = "initiative"
    FACILITY_BLOCK = "facility_block"
    FACILITY = "facility"
    STRATEGIC_OBJECTIVE = "strategic_objective"
    TASK_FORCE = "task_force"
    ALLIANCE = "alliance"
    PARTNER_AGREEMENT = "partner_agreement"
    AGREEMENT_INSTRUMENT = "agreement_instrument"
    OUTPUT = "output"
    EVENT = "event"
    PERSON = "person"
    POST = "post"
    DOCUMENT = "document"
    CITATION = "citation"
    PLACE = "place"
    SDG_TARGET = "sdg_target"


class DatePrecision(StrEnum):
    """How much of a date the source states."""

    YEAR = "year"
    MONTH = "month"
    DAY = "day"


def partial_iso(day: date, precision: str) -> str:
    """The known part of a date in ISO 8601: "2012", "2013-11" or "2021-05-27".

    The one Python definition: GraphQL's `PartialDate.iso`, revision diffs and the dump use it.
    """
    if precision == DatePrecision.YEAR:
        return f"{day.year:04d}"
    if precision == DatePrecision.MONTH:
        return f"{day.year:04d}-{day.month:02d}"
    return day.isoformat()


class Evidence(StrEnum):
    """How a fact follows from its source text."""

    STATED = "stated"
    DERIVED = "derived"
    INFERRED = "inferred"


class Rank(StrEnum):
    """Whether a reading is the preferred one when the sources allow several."""

    PREFERRED = "preferred"
    NORMAL = "normal"
    DEPRECATED = "deprecated"


class Qualifier(StrEnum):
    """How a stated number relates to the true value."""

    EXACT = "exact"
    MORE_THAN = "more_than"
    AT_LEAST = "at_least"
    APPROXIMATELY = "approximately"
    TARGET = "target"


class OrgClass(StrEnum):
    """W3C ORG class of an organisation."""

    FORMAL = "formal"
    UNIT = "unit"
    COLLABORATION = "collaboration"


class OrgCategory(StrEnum):
    """What an organisation is, as the sources describe it."""

    INTERGOVERNMENTAL_ORGANIZATION = "intergovernmental_organization"
    UN_PROGRAMME = "un_programme"
    SUPRANATIONAL_UNION = "supranational_union"
    EXECUTIVE_BODY = "executive_body"
    INTERGOVERNMENTAL_COMMISSION = "intergovernmental_commission"
    TREATY_BODY = "treaty_body"
    GLOBAL_PARTNERSHIP = "global_partnership"
    REGIONAL_PARTNERSHIP = "regional_partnership"
    SUBREGIONAL_PARTNERSHIP = "subregional_partnership"
    TECHNICAL_NETWORK = "technical_network"
    NETWORK = "network"
    COALITION = "coalition"
    INITIATIVE = "initiative"
    SECRETARIAT = "secretariat"
    GOVERNING_BODY = "governing_body"
    EXPERT_PANEL = "expert_panel"
    DIVISION = "division"
    RESEARCH_PARTNERSHIP = "research_partnership"
    RESEARCH_INSTITUTE = "research_institute"
    DEVELOPMENT_AGENCY = "development_agency"
    SCIENTIFIC_UNION = "scientific_union"
    GOVERNMENT_MINISTRY = "government_ministry"
    REGIONAL_GOVERNMENT = "regional_government"
    WORKING_GROUP = "working_group"
    FOUNDATION = "foundation"
    COMPANY = "company"
    OTHER = "other"


class ProgrammeCategory(StrEnum):
    """Kinds of programmes, strategies, laws and treaties."""

    FUNDING_PROGRAMME = "funding_programme"
    COOPERATION_PROGRAMME = "cooperation_programme"
    TREATY = "treaty"
    STRATEGY = "strategy"
    RESEARCH_PROGRAMME = "research_programme"
    MISSION_FRAMEWORK = "mission_framework"
    DIRECTIVE = "directive"
    AGENDA = "agenda"
    FRAMEWORK = "framework"
    PROGRAMME_OF_WORK = "programme_of_work"
    PLAN_OF_ACTION = "plan_of_action"


class InitiativeCategory(StrEnum):
    """Kinds of initiatives."""

    EU_MISSION = "eu_mission"
    PROJECT = "project"
    CROSS_CUTTING_INITIATIVE = "cross_cutting_initiative"
    INITIATIVE = "initiative"
    PROGRAMME = "programme"
    UN_DECADE = "un_decade"


class FacilityKind(StrEnum):
    """The two facility blocks of the "4 per 1000" Initiative."""

    CORE = "core"
    GLOBAL = "global"


class InstrumentType(StrEnum):
    """Legal or practical instruments that make up a partner agreement."""

    GRANT_AGREEMENT = "grant_agreement"
    SECONDMENT = "secondment"
    MEMORANDUM_OF_UNDERSTANDING = "memorandum_of_understanding"
    MEMORANDUM_OF_AGREEMENT = "memorandum_of_agreement"
    HOSTING_AGREEMENT = "hosting_agreement"
    FUNDING_AGREEMENT = "funding_agreement"
    PREMISES = "premises"
    INVOICE = "invoice"


class OutputCategory(StrEnum):
    """Kinds of outputs produced by initiatives and organisations."""

    REPORT = "report"
    SUMMARY_FOR_POLICYMAKERS = "summary_for_policymakers"
    OUTCOME_DOCUMENT = "outcome_document"
    PROTOCOL = "protocol"
    MAP = "map"
    TECHNICAL_GUIDELINES = "technical_guidelines"
    DATABASE = "database"
    BOOK = "book"
    WEBINAR = "webinar"
    CAMPAIGN = "campaign"
    COMMUNICATION_MATERIAL = "communication_material"
    COMPETITION = "competition"


class EventCategory(StrEnum):
    """Kinds of events."""

    CONFERENCE = "conference"
    LAUNCH_EVENT = "launch_event"
    SYMPOSIUM = "symposium"
    PLENARY_SESSION = "plenary_session"
    OBSERVANCE = "observance"
    SUMMIT = "summit"
    COMMISSION_SESSION = "commission_session"
    COP_MEETING = "cop_meeting"
    ASSEMBLY_SESSION = "assembly_session"
    SUBSIDIARY_BODY_MEETING = "subsidiary_body_meeting"


class AttendanceMode(StrEnum):
    """How people attended an event (schema.org eventAttendanceMode)."""

    IN_PERSON = "in_person"
    ONLINE = "online"
    MIXED = "mixed"


class DocumentCategory(StrEnum):
    """Kinds of official documents."""

    INFORMATION_DOCUMENT = "information_document"
    WORKING_DOCUMENT = "working_document"
    LIMITED_DISTRIBUTION_DRAFT = "limited_distribution_draft"
    SESSION_DOCUMENT = "session_document"
    DECISION = "decision"
    RESOLUTION = "resolution"
    MEMORANDUM_OF_UNDERSTANDING = "memorandum_of_understanding"


class PlaceCategory(StrEnum):
    """Kinds of places."""

    COUNTRY = "country"
    TERRITORY = "territory"
    CITY = "city"
    REGION = "region"


class NameKind(StrEnum):
    """Why an entity has another name."""

    ACRONYM = "acronym"
    ALIAS = "alias"
    VARIANT = "variant"
    FULL_NAME = "full_name"
    FORMER = "former"


class IdentifierScheme(StrEnum):
    """Identifier schemes that appear in the sources."""

    URL = "url"
    FAO_DOCUMENT_CARD = "fao_document_card"
    GSP_HIGHLIGHT = "gsp_highlight"
    DOCUMENT_SYMBOL = "document_symbol"


class Predicate(StrEnum):
    """Typed relations between entities, read as "subject predicate object"."""

    SUB_ORGANIZATION_OF = "sub_organization_of"
    UNIT_OF = "unit_of"
    ORGAN_OF = "organ_of"
    HOSTED_BY = "hosted_by"
    TECHNICAL_NETWORK_OF = "technical_network_of"
    OPERATES_WITHIN = "operates_within"
    ESTABLISHED_WITHIN = "established_within"
    MEMBER_OF = "member_of"
    PART_OF = "part_of"
    LOCATED_IN = "located_in"
    COVERS_AREA = "covers_area"
    PREPARED_BY = "prepared_by"
    LAUNCHED_BY = "launched_by"
    LAUNCHED_AT = "launched_at"
    ENDORSED_BY = "endorsed_by"
    ENDORSED_AT = "endorsed_at"
    IN_RESPONSE_TO = "in_response_to"
    ORGANIZED_BY = "organized_by"
    IMPLEMENTED_BY = "implemented_by"
    IMPLEMENTED_WITHIN = "implemented_within"
    LED_BY = "led_by"
    SUPPORTED_BY = "supported_by"
    REVIEWED_BY = "reviewed_by"
    FUNDED_BY = "funded_by"
    SESSION_OF = "session_of"
    ADOPTED_AT = "adopted_at"
    SIGNED_AT = "signed_at"
    FOUNDING_DOCUMENT_OF = "founding_document_of"
    ISSUED_BY = "issued_by"
    AUTHORED_BY = "authored_by"
    PUBLISHED_BY = "published_by"
    PRODUCED_UNDER = "produced_under"
    SPECIFICATION_OF = "specification_of"
    SUMMARY_OF = "summary_of"
    OUTCOME_OF = "outcome_of"
    RESULTED_FROM = "resulted_from"
    MADE_AVAILABLE_AS = "made_available_as"
    CONTAINED_IN = "contained_in"
    HELD_ON = "held_on"
    CULMINATED_AT = "culminated_at"
    CROSS_CUTTING_WITHIN = "cross_cutting_within"
    PLAN_FOR = "plan_for"
    DRAWS_ON = "draws_on"
    INFORMED_AT = "informed_at"
    HOLDS_POST = "holds_post"
    SPEAKER_AT = "speaker_at"
    REPRESENTED_AT = "represented_at"
    PARTY_TO = "party_to"
    CONTRIBUTES_TO = "contributes_to"
    CITES = "cites"
    SUPPORTS_CLAIM_ABOUT = "supports_claim_about"
    REQUESTS = "requests"
    INVITES = "invites"
    FRAMES = "frames"


class Direction(StrEnum):
    """Which way relations are followed from a record: as their subject, object, or either."""

    OUTGOING = "outgoing"
    INCOMING = "incoming"
    BOTH = "both"


class StatementProperty(StrEnum):
    """Kinds of free-text facts attached to an entity."""

    AIM = "aim"
    PURPOSE = "purpose"
    OBJECTIVE = "objective"
    PROVISION = "provision"
    FOCUS = "focus"
    REMARK = "remark"
    ACTIVITY = "activity"
    NOTE = "note"
    ALTERNATIVE_READING = "alternative_reading"


# The goals of the "4 per 1000" strategic objectives: an objective's label is its goal letter
# and a number (A1 ... F3).
GOAL_LETTERS = ("A", "B", "C", "D", "E", "F")


class Order(StrEnum):
    """Sort keys a list can use; each ends with the id so the order is total."""

    NAME = "name"
    START = "start"
    CODE = "code"
    LABEL = "label"
    ORDINAL = "ordinal"
    SYMBOL = "symbol"
    SIGNED = "signed"
    # Never offered to clients: the date orders with undated rows before every date, which a
    # descending list reverses into newest first with the undated still last (see
    # soilapi.services.listing.sort_key).
    START_UNDATED_FIRST = "start_undated_first"
    SIGNED_UNDATED_FIRST = "signed_undated_first"


class Facet(StrEnum):
    """Fields a root list can count its records by (soilapi.services.facets says which list
    offers which)."""

    KIND = "kind"
    COUNTRY = "country"
    CATEGORY = "category"
    INSTRUMENT_TYPE = "instrument_type"
    YEAR = "year"


class SearchField(StrEnum):
    """Which text of a record a search hit matched (soilapi.db.models.SearchEntry)."""

    NAME = "name"
    ACRONYM = "acronym"
    ALIAS = "alias"
    DESCRIPTION = "description"
    STATEMENT = "statement"
    SOURCE_QUOTE = "source_quote"


# The fields that name a record: typos and partial words are matched on these (trigrams), and
# `match` looks only at them.
NAME_FIELDS = (SearchField.NAME, SearchField.ACRONYM, SearchField.ALIAS)


class SearchLanguage(StrEnum):
    """The language a search query is written in: how its words are stemmed."""

    ENGLISH = "english"


class MatchType(StrEnum):
    """How a name given to `match` met a record's name (after ROR's affiliation matching)."""

    EXACT = "exact"
    PHRASE = "phrase"
    COMMON_TERMS = "common_terms"
    FUZZY = "fuzzy"
    ACRONYM = "acronym"


class DateKind(StrEnum):
    """Which of a record's dates: the vocabulary of the `dated` filter and of the timeline.

    The order is the timeline's order among entries of the same first day: a signature
    comes before the start it opens, an end after everything else of that day.
    """

    SIGNED = "signed"
    START = "start"
    LAUNCHED = "launched"
    PUBLISHED = "published"
    END = "end"


class TruthValue(StrEnum):
    """A three-valued answer: the sources settle it either way, or they do not."""

    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"


class InForceReason(StrEnum):
    """Why something is, is not, or may be in force on a day.

    In order of how near to "in force" each leaves a record: an agreement reports the reason
    of its instrument nearest to in force (one that began and has no known end before one
    that may not have begun).
    """

    BEFORE_END = "before_end"
    BEFORE_DERIVED_END = "before_derived_end"
    END_UNKNOWN = "end_unknown"
    END_IMPRECISE = "end_imprecise"
    START_IMPRECISE = "start_imprecise"
    START_UNKNOWN = "start_unknown"
    NO_INSTRUMENTS = "no_instruments"
    BEFORE_START = "before_start"
    AFTER_END = "after_end"
    AFTER_DERIVED_END = "after_derived_end"


# The answer each reason gives, as `inForceOn` reports it (the SQL works both out from the
# same conditions: soilapi.repositories.dates.certainties).
IN_FORCE_VALUES: dict[InForceReason, TruthValue] = {
    InForceReason.BEFORE_START: TruthValue.FALSE,
    InForceReason.AFTER_END: TruthValue.FALSE,
    InForceReason.AFTER_DERIVED_END: TruthValue.FALSE,
    InForceReason.START_UNKNOWN: TruthValue.UNKNOWN,
    InForceReason.START_IMPRECISE: TruthValue.UNKNOWN,
    InForceReason.END_UNKNOWN: TruthValue.UNKNOWN,
    InForceReason.END_IMPRECISE: TruthValue.UNKNOWN,
    InForceReason.NO_INSTRUMENTS: TruthValue.UNKNOWN,
    InForceReason.BEFORE_END: TruthValue.TRUE,
    InForceReason.BEFORE_DERIVED_END: TruthValue.TRUE,
}


class Role(StrEnum):
    """What an API key may do (README "For partners")."""

    PARTNER = "partner"  # change its organisations' records; propose anything else
    CURATOR = "curator"  # change anything; review proposals
    ADMIN = "admin"  # a curator who also manages keys


class Operation(StrEnum):
    """What a revision did to its record."""

    CREATE = "create"
    UPDATE = "update"
    RETIRE = "retire"


class ChangeRequestStatus(StrEnum):
    """Where a proposal stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ActorRole(StrEnum):
    """Who made a revision: a key's role, or the seed loader (a revision's `actor_role`)."""

    PARTNER = "partner"
    CURATOR = "curator"
    ADMIN = "admin"
    SEED = "seed"


# What a revision's `kind` holds besides an EntityKind: a change to a relation.
RELATION_KIND = "relation"
