"""Record types of programmes, initiatives, outputs, events, documents and citations."""

import strawberry
from strawberry import Parent

from soilapi.graphql import enums
from soilapi.graphql.sqlmark import SameRow, column_field, date_field, reads
from soilapi.graphql.types.entity import Entity
from soilapi.graphql.types.fields import fk_one, incoming, outgoing, rel_list, rel_rows
from soilapi.graphql.types.node import entity_type
from soilapi.graphql.types.values import Provenance
from soilapi.repositories.records import Record
from soilapi.vocab import Predicate as P


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
    parts = rel_list(
        incoming(P.PART_OF), "Entity", "Programmes and initiatives that are part of it."
    )
    part_of = rel_list(outgoing(P.PART_OF), "Entity", "What this programme is part of.")
    funds = rel_list(incoming(P.FUNDED_BY), "Entity", "Projects and initiatives it funds.")
    organs = rel_list(incoming(P.ORGAN_OF), "Organization", "Its organs (COP, Secretariat).")


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

    outputs = rel_list(
        incoming(P.PRODUCED_UNDER), "Output", "Outputs produced under this initiative."
    )
    led_by = rel_list(
        outgoing(P.LED_BY, P.IMPLEMENTED_BY, P.IMPLEMENTED_WITHIN),
        "Entity",
        "Who leads or implements it, or within whose framework it runs.",
    )
    part_of = rel_list(
        outgoing(P.PART_OF, P.CROSS_CUTTING_WITHIN, P.FUNDED_BY),
        "Entity",
        "Programmes it belongs to or is funded by.",
    )
    agreements = rel_list(outgoing(P.PARTY_TO), "PartnerAgreement", "Agreements it is a party to.")


@entity_type(
    description="A report, protocol, map, database, book, webinar, campaign or other output."
)
class Output(Entity):
    category: enums.OutputCategory | None = strawberry.field(description="What kind of output.")
    subtitle: str | None = strawberry.field(description="Subtitle, as written.")

    launched = date_field("launched", "When it was launched, if stated.")

    publication_place = fk_one("publication_place_id", "Place", "Place of publication.")
    authors = rel_list(outgoing(P.AUTHORED_BY), "Entity", "Authors, as credited in the citation.")
    publishers = rel_list(outgoing(P.PUBLISHED_BY), "Entity", "Publishers.")
    prepared_by = rel_list(
        outgoing(P.PREPARED_BY, P.LAUNCHED_BY), "Entity", "Who prepared or launched it."
    )
    initiatives = rel_list(
        outgoing(P.PRODUCED_UNDER), "Initiative", "Initiatives it was made under."
    )
    documents = rel_list(
        outgoing(P.MADE_AVAILABLE_AS, P.CONTAINED_IN),
        "Document",
        "Official documents that carry it.",
    )
    events = rel_list(
        outgoing(P.LAUNCHED_AT, P.OUTCOME_OF, P.HELD_ON, P.CULMINATED_AT, P.PART_OF),
        "Event",
        "Events it was launched at, came out of, or was part of.",
    )
    citations = rel_list(incoming(P.CITES), "Citation", "Footnotes that cite it.")


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
    organizers = rel_list(outgoing(P.ORGANIZED_BY, P.SESSION_OF), "Entity", "Who organised it.")
    speakers = rel_list(
        incoming(P.SPEAKER_AT),
        "Person",
        "Speakers in speaking order; each one's order and role are on `speeches`, their posts "
        "on `Person.posts`, their remarks on `Person.statements`.",
    )
    speeches = rel_rows(
        incoming(P.SPEAKER_AT),
        "Speech",
        "Person",
        "Who spoke, in speaking order, in what role (opening remarks, closing ...).",
    )
    represented_organizations = rel_list(
        incoming(P.REPRESENTED_AT), "Organization", "Organisations represented at the event."
    )
    launched_here = rel_list(incoming(P.LAUNCHED_AT), "Entity", "What was launched at this event.")
    outcomes = rel_list(incoming(P.OUTCOME_OF), "Output", "Outputs that came out of it.")


@strawberry.type(
    description="A person's turn to speak at an event: who, where, when in the order, and in "
    "what role, as the source words it."
)
class Speech:
    speaker = fk_one("subject_id", "Person", "Who spoke.", required=True)
    event = fk_one("object_id", "Event", "The event they spoke at.", required=True)
    order = column_field(
        "ordinal", int | None, "Place in the event's speaking order: 1 spoke first."
    )
    role = column_field(
        "note",
        str | None,
        'What the person did, as the source words it ("opening remarks", "closing").',
    )

    @strawberry.field(description="Where the speech is stated.")
    @reads(SameRow())
    def source(self, root: Parent[Record]) -> Provenance:
        return root  # type: ignore[return-value]


@entity_type(description="An official document, decision or memorandum.")
class Document(Entity):
    symbol: str | None = strawberry.field(description="Official symbol (CBD/SBSTTA/24/INF/8).")
    category: enums.DocumentCategory | None = strawberry.field(description="What kind of document.")
    issued_by = rel_list(outgoing(P.ISSUED_BY), "Entity", "The body or treaty that issued it.")
    adopted_at = rel_list(
        outgoing(P.ADOPTED_AT, P.SIGNED_AT, P.PART_OF), "Event", "Where it was adopted or signed."
    )
    carries = rel_list(
        incoming(P.MADE_AVAILABLE_AS, P.CONTAINED_IN), "Entity", "Outputs and plans it carries."
    )


@entity_type(description="A footnote of a source document.")
class Citation(Entity):
    footnote: int = strawberry.field(description="Footnote number.")
    raw_text: str = strawberry.field(description="The footnote as written.")
    authors_text: str | None = strawberry.field(description="Authors as written.")
    year: int | None = strawberry.field(description="Year as written.")
    place_text: str | None = strawberry.field(description="Place as written.")
    url: str | None = strawberry.field(description="URL given in the footnote.")
    cites = rel_list(outgoing(P.CITES), "Entity", "What the footnote cites.")
    about = rel_list(
        outgoing(P.SUPPORTS_CLAIM_ABOUT), "Entity", "What the sentence it backs is about."
    )
