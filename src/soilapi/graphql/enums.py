"""GraphQL enums built from `soilapi.vocab` (and the root lists' sort enums from
`soilapi.services.listing`), each value with a description for GraphiQL."""

from __future__ import annotations

import enum
from typing import Any

import strawberry

from soilapi import vocab
from soilapi.services import listing
from soilapi.vocab import Order


def _described(source: type[enum.Enum], name: str, description: str, docs: dict[str, str]) -> Any:
    """Copy a vocabulary enum into a strawberry enum whose values carry descriptions."""
    topic = description.split(":", maxsplit=1)[0].rstrip(".")
    members = {
        member.name: strawberry.enum_value(
            member.value,
            description=docs.get(member.value) or f"{topic}: {member.value.replace('_', ' ')}.",
        )
        for member in source
    }
    described = enum.Enum(name, members)  # type: ignore[misc]
    return strawberry.enum(described, name=name, description=description)


DatePrecision = _described(
    vocab.DatePrecision,
    "DatePrecision",
    "How much of a date the source states: `2012` is a YEAR, `November 2013` a MONTH, "
    "`27 May 2021` a DAY.",
    {
        "year": "Only the year is known (stored as 1 January).",
        "month": "Year and month are known (stored as the 1st of the month).",
        "day": "The exact day is known.",
    },
)
Evidence = _described(
    vocab.Evidence,
    "Evidence",
    "How a fact follows from its source excerpt.",
    {
        "stated": "The quoted text says it in so many words.",
        "derived": "Computed from the text: arithmetic or format normalisation "
        '("2,5" → 2.5, signature date + "3 yr." → end date).',
        "inferred": "Read from the page's structure or context, not stated outright.",
    },
)
Rank = _described(
    vocab.Rank,
    "Rank",
    "Which reading to prefer when the sources allow several.",
    {
        "preferred": "The reading this registry follows.",
        "normal": "A plausible reading kept alongside the preferred one.",
        "deprecated": "A reading considered and rejected; kept for the record.",
    },
)
Qualifier = _described(
    vocab.Qualifier,
    "QuantityQualifier",
    'How a stated number relates to the true value ("over 300" is MORE_THAN 300).',
    {
        "exact": "The number as stated.",
        "more_than": 'The true value is above the number ("over", "more than").',
        "at_least": "The true value is the number or more.",
        "approximately": "The number is a rounded estimate.",
        "target": "A goal to reach, not a measured value.",
    },
)
OrgClass = _described(
    vocab.OrgClass,
    "OrganizationClass",
    "The W3C Organization Ontology class of an organisation.",
    {
        "formal": "A formally recognised legal entity (org:FormalOrganization).",
        "unit": "A department, secretariat or organ of another organisation "
        "(org:OrganizationalUnit).",
        "collaboration": "A partnership, network or coalition that is neither a legal entity "
        "nor a unit (org:OrganizationalCollaboration).",
    },
)
OrgCategory = _described(
    vocab.OrgCategory, "OrganizationCategory", "What an organisation is: its category.", {}
)
ProgrammeCategory = _described(
    vocab.ProgrammeCategory,
    "ProgrammeCategory",
    "What kind of programme, strategy, law or treaty: its category.",
    {},
)
InitiativeCategory = _described(
    vocab.InitiativeCategory, "InitiativeCategory", "What kind of initiative: its category.", {}
)
FacilityKind = _described(
    vocab.FacilityKind,
    "FacilityKind",
    'The two facility blocks of the "4 per 1000" Initiative.',
    {
        "core": "Core Facilities (CF): legal and financial support of transformative action.",
        "global": "Global Facilities (GF): scientific and technical assistance.",
    },
)
InstrumentType = _described(
    vocab.InstrumentType,
    "InstrumentType",
    "The legal or practical instrument behind a partner agreement: its type.",
    {
        "grant_agreement": "A grant agreement.",
        "secondment": "Staff seconded to the partner (see `fte`).",
        "memorandum_of_understanding": "A memorandum of understanding (MoU).",
        "memorandum_of_agreement": "A memorandum of agreement (MoA).",
        "hosting_agreement": "An agreement under which one party hosts the other.",
        "funding_agreement": "A funding agreement.",
        "premises": "Offices or premises provided in kind.",
        "invoice": "Services paid against an invoice.",
    },
)
OutputCategory = _described(
    vocab.OutputCategory, "OutputCategory", "What kind of output: its category.", {}
)
EventCategory = _described(vocab.EventCategory, "EventCategory", "What kind of event.", {})
AttendanceMode = _described(
    vocab.AttendanceMode,
    "AttendanceMode",
    "How people attended an event (schema.org eventAttendanceMode).",
    {
        "in_person": "Attended on site only.",
        "online": "Attended online only.",
        "mixed": "A hybrid event: on site and online.",
    },
)
DocumentCategory = _described(
    vocab.DocumentCategory, "DocumentCategory", "What kind of official document.", {}
)
PlaceCategory = _described(vocab.PlaceCategory, "PlaceCategory", "What kind of place.", {})
NameKind = _described(
    vocab.NameKind,
    "NameKind",
    "Why a record has another name.",
    {
        "acronym": "An abbreviation (GSP, ASPir).",
        "alias": "Another name used in the sources.",
        "variant": "A spelling or heading variant of the name, kept as written.",
        "full_name": "The expanded form of the name.",
        "former": "A name the record had before.",
    },
)
IdentifierScheme = _described(
    vocab.IdentifierScheme,
    "IdentifierScheme",
    "Where an identifier comes from.",
    {
        "url": "A web address given in the sources.",
        "fao_document_card": "An FAO document catalogue code (cb1928en).",
        "gsp_highlight": "The id of a Global Soil Partnership highlight page.",
        "document_symbol": "An official UN document symbol (CBD/SBSTTA/24/INF/8).",
    },
)
StatementProperty = _described(
    vocab.StatementProperty,
    "StatementProperty",
    "What a free-text statement says about its record: its property.",
    {
        "alternative_reading": "Another way to read an ambiguous passage of the source.",
        "remark": "What a person said (at an event).",
        "provision": "A provision of a law or agreement.",
    },
)
EntityKind = _described(vocab.EntityKind, "EntityKind", "The type of a record: its kind.", {})
FacetField = _described(
    vocab.Facet,
    "FacetField",
    "What a root list's `facets` count its records by.",
    {
        "kind": "The record's kind, as an EntityKind name (one value: a list holds one kind).",
        "country": "The record's country, an ISO 3166-1 alpha-2 code (DE).",
        "category": "The record's category, as a name of the list's category enum (NETWORK).",
        "instrument_type": "A partner agreement's instruments' types, as InstrumentType names: "
        "an agreement counts once under each type it has, and under none when it has none.",
        "year": "The year of the date the list's START order sorts by: founding "
        "(organisations), publication (outputs), start (events, initiatives), creation "
        "(programmes), the earliest instrument's start or signature (partner agreements).",
    },
)
DateKind = _described(
    vocab.DateKind,
    "DateKind",
    "Which of a record's dates: the vocabulary of every `dated` filter and of the timeline.",
    {
        "signed": "When an agreement instrument was signed (`signed`).",
        "start": "When it began (`start`): founding or establishment (organisations), "
        "creation or signature (programmes), start (events, initiatives, instruments).",
        "launched": "When an initiative or output was launched (`launched`).",
        "published": "When an output was published (its `start`).",
        "end": "When it ended or ends (`end`); for an instrument, possibly derived from its "
        "signature and duration (`endIsDerived`).",
    },
)
TruthValue = _described(
    vocab.TruthValue,
    "TruthValue",
    "A three-valued answer: the sources settle the question either way, or they do not.",
    {
        "true": "Certainly so, from the dates and their precision.",
        "false": "Certainly not so.",
        "unknown": "The sources leave it open: a date is missing, or too coarse to decide.",
    },
)
InForceReason = _described(
    vocab.InForceReason,
    "InForceReason",
    "Why something is, is not, or may be in force on a day; listed from nearest to in force "
    "to farthest (an agreement reports its instrument nearest to in force).",
    {
        "before_start": "FALSE: the day comes before its start (or signature) period began.",
        "after_end": "FALSE: the day comes after its stated end's period closed.",
        "after_derived_end": "FALSE: the day comes after its end, derived from the signature "
        "and the duration (`endIsDerived`), not stated.",
        "start_unknown": "UNKNOWN: no start or signature date is known.",
        "start_imprecise": "UNKNOWN: the day falls within the period of a start known only "
        'to the year or month ("Invoice in 2021", asked about a day of 2021).',
        "end_unknown": "UNKNOWN: it began, and no end is known (an open-ended hosting "
        'agreement, or "Invoice in 2021" asked about 2023).',
        "end_imprecise": "UNKNOWN: the day falls within the period of an end known only to "
        "the year or month.",
        "before_end": "TRUE: it began, and the day is on or before its stated end.",
        "before_derived_end": "TRUE: it began, and the day is on or before its end derived "
        "from the signature and the duration (`endIsDerived`).",
        "no_instruments": "UNKNOWN: an agreement with no instrument, so no dates at all.",
    },
)

_PREDICATES = {
    "sub_organization_of": "Subject is a sub-organisation of the object (ESP of GSP).",
    "unit_of": "Subject is a unit (secretariat, division, panel) of the object.",
    "organ_of": "Subject is an organ of the object treaty (CBD COP of the CBD).",
    "hosted_by": "Subject is hosted by the object (GSP by FAO).",
    "technical_network_of": "Subject is a technical network of the object (INSER of GSP).",
    "operates_within": "Subject operates within the framework of the object.",
    "established_within": "Subject was established within the object (a project).",
    "member_of": "Subject is a member of the object.",
    "part_of": "Subject is part of the object.",
    "located_in": "Subject is located in the object place.",
    "covers_area": "Subject's scope is the object place or region.",
    "prepared_by": "Subject was prepared by the object.",
    "launched_by": "Subject was launched by the object.",
    "launched_at": "Subject was launched at the object event.",
    "endorsed_by": "Subject was endorsed by the object.",
    "endorsed_at": "Subject was endorsed at the object event.",
    "in_response_to": "Subject was created in response to the object.",
    "organized_by": "Subject event was organised by the object.",
    "implemented_by": "Subject is implemented by the object.",
    "implemented_within": "Subject is implemented within the framework of the object.",
    "led_by": "Subject is led by the object (lead partner).",
    "supported_by": "Subject is supported by the object.",
    "reviewed_by": "Subject was reviewed by the object.",
    "funded_by": "Subject is funded by the object.",
    "session_of": "Subject event is a session of the object body.",
    "adopted_at": "Subject document was adopted at the object event.",
    "signed_at": "Subject document was signed at the object event.",
    "founding_document_of": "Subject document founds the object organisation.",
    "issued_by": "Subject was issued by the object.",
    "authored_by": "Subject output was authored by the object.",
    "published_by": "Subject output was published by the object.",
    "produced_under": "Subject output was produced under the object initiative.",
    "specification_of": "Subject gives the technical specification of the object.",
    "summary_of": "Subject summarises the object.",
    "outcome_of": "Subject is the outcome of the object event.",
    "resulted_from": "Subject resulted from the object.",
    "made_available_as": "Subject was made available as the object document.",
    "contained_in": "Subject is contained in the object document.",
    "held_on": "Subject was held on the object day or event.",
    "culminated_at": "Subject culminated at the object event.",
    "cross_cutting_within": "Subject is a cross-cutting initiative within the object.",
    "plan_for": "Subject is a plan of action for the object.",
    "draws_on": "Subject draws on the object.",
    "informed_at": "Information on the subject was received at the object session.",
    "holds_post": "Subject person holds the object post.",
    "speaker_at": "Subject person spoke at the object event (`ordinal` = speaking order).",
    "represented_at": "Subject organisation was represented at the object event.",
    "party_to": "Subject is a party to the object partner agreement.",
    "contributes_to": "Subject contributes to the object SDG target.",
    "cites": "Subject footnote cites the object.",
    "supports_claim_about": "Subject footnote backs a sentence about the object.",
    "requests": "Subject decision requests something of or about the object (see `note`).",
    "invites": "Subject decision invites the object to act (see `note`).",
    "frames": "Subject programme frames the object.",
}
Predicate = _described(
    vocab.Predicate,
    "Predicate",
    'The type of a relation, read as the sentence "subject predicate object".',
    _PREDICATES,
)


Direction = _described(
    vocab.Direction,
    "Direction",
    "Direction of relations, seen from the record being asked.",
    {
        "outgoing": "This record is the subject (this → other).",
        "incoming": "This record is the object (other → this).",
        "both": "Either end: the relations of both directions, each once.",
    },
)


_DATE_ORDERS = {Order.START, Order.SIGNED}


def _orders(kind: vocab.EntityKind) -> Any:
    """The sort enum of a root list: the orders soilapi.services.listing says it offers."""
    type_name = "".join(word.capitalize() for word in kind.split("_"))
    offered = listing.ORDERS[kind]
    members = {
        order.name: strawberry.enum_value(order, description=text)
        for order, text in offered.items()
    }
    description = f"How a list of {type_name} records is sorted (default: "
    description += f"{listing.default_order(kind).name}); ties go by ID, so pages never overlap."
    if _DATE_ORDERS & set(offered):
        description += " A date known to the year or month sorts as its first day."
    name = f"{type_name}Order"
    orders = enum.Enum(name, members)  # type: ignore[misc]
    return strawberry.enum(orders, name=name, description=description)


# Each root list's sort enum, by the kind it lists.
ORDER_ENUMS: dict[vocab.EntityKind, Any] = {kind: _orders(kind) for kind in listing.ORDERS}

SearchField = _described(
    vocab.SearchField,
    "SearchField",
    "Which text of a record a search hit matched.",
    {
        "name": "Its preferred name.",
        "acronym": "Its acronym, or a name the sources give as one.",
        "alias": "Another of its names: an alias, a spelling variant, a full or former name.",
        "description": "Its description.",
        "statement": "One of its statements (aims, provisions, remarks ...).",
        "source_quote": "The quote of one of its sources.",
    },
)
SearchLanguage = _described(
    vocab.SearchLanguage,
    "SearchLanguage",
    "The language a search query is written in: how its words are stemmed and which stop "
    "words are left out. Only English today; names in other languages will come with a "
    "language of their own, and this argument is where a client will say which it means.",
    {"english": "English: Snowball stemming (erode, eroded, eroding), English stop words."},
)
MatchType = _described(
    vocab.MatchType,
    "MatchType",
    "How a name given to `match` met a candidate's name (ROR's affiliation matching types).",
    {
        "exact": "The whole name given, a country in it aside, is one of its names (case, "
        "accents and punctuation aside).",
        "phrase": "A part of the name given, between commas or brackets, is one of its names.",
        "common_terms": "Most or all of the words are the same, in any order.",
        "fuzzy": "Close to one of its names by trigram similarity: typos, variant spellings, "
        "or the name given within a longer name.",
        "acronym": "An acronym in the name given is its acronym; never chosen on its own.",
    },
)

Operation = _described(
    vocab.Operation,
    "Operation",
    "What a revision did to its record.",
    {
        "create": "The record or relation was added.",
        "update": "Some of its fields changed (the diff lists them).",
        "retire": "It was retired: it left every list and lookup; its history stays, and the "
        "change feed carries it as a tombstone.",
    },
)
ActorRole = _described(
    vocab.ActorRole,
    "ActorRole",
    "In what capacity a change was made.",
    {
        "partner": "A partner's API key, acting for its organisations.",
        "curator": "A curator's API key.",
        "admin": "An administrator's API key.",
        "seed": "The seed loader, from the registry's own data files.",
    },
)
# The kinds of record a revision can be about: every EntityKind, and relations.
_RECORD_KINDS = enum.Enum(  # type: ignore[misc]
    "RecordKindValues",
    {**{kind.name: kind.value for kind in vocab.EntityKind}, "RELATION": vocab.RELATION_KIND},
)
RecordKind = _described(
    _RECORD_KINDS,
    "RecordKind",
    "What a revision is about: a record of one kind (as EntityKind), or a RELATION.",
    {"relation": "A typed relation between two records."},
)
ChangeRequestStatus = _described(
    vocab.ChangeRequestStatus,
    "ChangeRequestStatus",
    "Where a partner's proposal stands.",
    {
        "pending": "Waiting for a curator.",
        "approved": "Applied, as a revision credited to the proposer and the approver.",
        "rejected": "Not applied; the curator's reason says why.",
    },
)
