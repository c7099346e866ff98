"""The registry's tables.

Every record is a row of `entities` (kind, slug, name, dates) plus a row in its kind's detail
table (joined-table inheritance). One id space lets provenance, names, identifiers, relations,
quantities and statements point at any record with a real foreign key.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from soilapi import vocab
from soilapi.db.base import Base, ProvenanceMixin, enum_column, partial_date

__all__ = ["Base"]  # re-exported: alembic and the loader reach the metadata through models

UUID_PK = sa.Uuid(as_uuid=True)
# date.max and date.min: asyncpg sends them as, and reads back, infinity and -infinity.
FAR_FUTURE = date(9999, 12, 31)
FAR_PAST = date(1, 1, 1)


def undated_last(column: Any) -> Any:
    """`coalesce(column, 'infinity'::date)`: a non-null sort key that puts undated rows last.

    Infinity is what FAR_FUTURE becomes on the wire, so a cursor's key compares equal. It is
    written into the SQL, not bound, so an index on this expression serves a prepared ORDER BY.
    """
    return sa.func.coalesce(column, sa.literal_column("'infinity'::date", sa.Date))


def undated_first(column: Any) -> Any:
    """`coalesce(column, '-infinity'::date)`: undated rows first, last once reversed."""
    return sa.func.coalesce(column, sa.literal_column("'-infinity'::date", sa.Date))


# A column's `info` for a value worked out from other data, by the seed loader or by whoever
# writes the row, rather than written in a seed file (see soilapi.db.attributes).
DERIVED = {"derived": True}


def unset_first(column: Any) -> Any:
    """`coalesce(column, '')`: a non-null text sort key on which rows without a value come
    first; written into the SQL, like `undated_last`, so that an index on it serves the order."""
    return sa.func.coalesce(column, sa.literal_column("''", sa.Text))


def fk(
    target: str, *, nullable: bool = False, index: bool = True, info: dict[str, Any] | None = None
) -> Mapped[uuid.UUID]:
    """A foreign key column; detail rows go with their entity, references are restricted."""
    return mapped_column(
        sa.ForeignKey(target, ondelete="CASCADE" if not nullable else "SET NULL"),
        nullable=nullable,
        index=index,
        info=info,
    )


def opt_fk(target: str) -> Mapped[uuid.UUID | None]:
    """A nullable reference to another row, cleared if that row goes."""
    return mapped_column(sa.ForeignKey(target, ondelete="SET NULL"), nullable=True, index=True)


class SourceDocument(Base):
    """One of the documents the data was transcribed from, kept verbatim."""

    __tablename__ = "source_documents"

    id: Mapped[uuid.UUID] = mapped_column(UUID_PK, primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40), unique=True)
    file_name: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.Text)
    genre: Mapped[str] = mapped_column(sa.Text)
    published_date, published_precision = partial_date("published")
    publisher: Mapped[str | None] = mapped_column(sa.Text)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    content: Mapped[str] = mapped_column(sa.Text)
    line_count: Mapped[int]
    # A source a contributor cited (soilapi.services.writes): a web page read on a day, or
    # the contributor's own statement. Its content is the quoted excerpt.
    url: Mapped[str | None] = mapped_column(sa.Text)
    read_on: Mapped[date | None] = mapped_column(sa.Date)
    stated_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("entities.id", ondelete="SET NULL"), index=True
    )


class Entity(Base):
    """Columns every record shares; `kind` selects the detail table."""

    __tablename__ = "entities"
    __table_args__: tuple[Any, ...] = (
        sa.Index("ix_entities_kind_name_id", "kind", "name", "id"),
        # Each kind's starts and ends in date order, with their precision: the timeline reads
        # a page of them, and counts them, from the index alone.
        sa.Index(
            "ix_entities_kind_start_date_id",
            "kind",
            "start_date",
            "id",
            postgresql_include=["start_precision"],
        ),
        sa.Index(
            "ix_entities_kind_end_date_id",
            "kind",
            "end_date",
            "id",
            postgresql_include=["end_precision"],
        ),
        # "organisations in DE by name": a first page straight from the index.
        sa.Index("ix_entities_kind_country_code_name_id", "kind", "country_code", "name", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID_PK, primary_key=True)
    kind: Mapped[vocab.EntityKind] = mapped_column(enum_column(vocab.EntityKind))
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    name: Mapped[str] = mapped_column(sa.Text)
    acronym: Mapped[str | None] = mapped_column(sa.Text)
    description: Mapped[str | None] = mapped_column(sa.Text)
    country_code: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    start_date, start_precision = partial_date("start")
    end_date, end_precision = partial_date("end")
    # The record's revision number: 0 until a write or the seed loader records one
    # (soilapi.db.history), so that a writer can say which revision it changed.
    revision: Mapped[int] = mapped_column(server_default="0", info=DERIVED)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.text("now()"), info=DERIVED
    )
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.text("now()"), info=DERIVED
    )

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_abstract": True}


# The START orders of every root list, oldest first and newest first (the undated last both
# ways): a first page is the first rows of one of these, read in order, with no sort.
sa.Index("ix_entities_kind_start_order", Entity.kind, undated_last(Entity.start_date), Entity.id)
sa.Index(
    "ix_entities_kind_start_undated_first", Entity.kind, undated_first(Entity.start_date), Entity.id
)


def _detail_pk() -> Mapped[uuid.UUID]:
    return mapped_column(sa.ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True)


class Organization(Entity):
    """Organisations, partnerships, networks and their units."""

    __tablename__ = "organizations"
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.ORGANIZATION}

    id: Mapped[uuid.UUID] = _detail_pk()
    org_class: Mapped[vocab.OrgClass | None] = mapped_column(enum_column(vocab.OrgClass))
    category: Mapped[vocab.OrgCategory | None] = mapped_column(
        enum_column(vocab.OrgCategory), index=True
    )
    is_international_org: Mapped[bool | None]
    jurisdiction_label: Mapped[str | None] = mapped_column(sa.Text)
    purpose: Mapped[str | None] = mapped_column(sa.Text)


class Programme(Entity):
    """Programmes, strategies, laws, treaties and frameworks."""

    __tablename__ = "programmes"
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.PROGRAMME}

    id: Mapped[uuid.UUID] = _detail_pk()
    category: Mapped[vocab.ProgrammeCategory | None] = mapped_column(
        enum_column(vocab.ProgrammeCategory)
    )
    period_start: Mapped[int | None]
    period_end: Mapped[int | None]
    target_year: Mapped[int | None]
    status: Mapped[str | None] = mapped_column(sa.Text)


class Initiative(Entity):
    """Initiatives, projects, missions and UN decades."""

    __tablename__ = "initiatives"
    __table_args__ = (  # the timeline's launches, read from the index alone
        sa.Index(
            "ix_initiatives_launched_date_id",
            "launched_date",
            "id",
            postgresql_include=["launched_precision"],
        ),
    )
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.INITIATIVE}

    id: Mapped[uuid.UUID] = _detail_pk()
    category: Mapped[vocab.InitiativeCategory | None] = mapped_column(
        enum_column(vocab.InitiativeCategory)
    )
    target_year: Mapped[int | None]
    goal: Mapped[str | None] = mapped_column(sa.Text)
    launched_date, launched_precision = partial_date("launched")


class FacilityBlock(Entity):
    """The Core or Global Facilities block of the "4 per 1000" Initiative."""

    __tablename__ = "facility_blocks"
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.FACILITY_BLOCK}

    id: Mapped[uuid.UUID] = _detail_pk()
    facility_kind: Mapped[vocab.FacilityKind] = mapped_column(enum_column(vocab.FacilityKind))
    owner_id: Mapped[uuid.UUID] = fk("organizations.id")
    purpose: Mapped[str | None] = mapped_column(sa.Text)
    development: Mapped[str | None] = mapped_column(sa.Text)
    key_actors_label: Mapped[str | None] = mapped_column(sa.Text)
    key_actors: Mapped[str | None] = mapped_column(sa.Text)
    column_headers: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), default=list)


class Facility(Entity):
    """A facility (CF2, GF1 ...) of a facility block."""

    __tablename__ = "facilities"
    __table_args__ = (
        sa.UniqueConstraint("block_id", "code"),
        sa.Index("ix_facilities_code_id", "code", "id"),  # the CODE order
    )
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.FACILITY}

    id: Mapped[uuid.UUID] = _detail_pk()
    block_id: Mapped[uuid.UUID] = fk("facility_blocks.id")
    code: Mapped[str] = mapped_column(sa.String(16))  # looked up by ix_facilities_code_id
    code_inferred: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int]


class StrategicObjective(Entity):
    """A strategic objective (A1 ... F3), listed under one facility."""

    __tablename__ = "strategic_objectives"
    __table_args__ = (sa.Index("ix_strategic_objectives_label_id", "label", "id"),)  # LABEL order
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.STRATEGIC_OBJECTIVE}

    id: Mapped[uuid.UUID] = _detail_pk()
    label: Mapped[str] = mapped_column(sa.String(8))  # looked up by its (label, id) index
    # The label's first letter, kept for the goalLetters filter.
    goal_letter: Mapped[str] = mapped_column(sa.String(1), index=True, info=DERIVED)
    facility_id: Mapped[uuid.UUID] = fk("facilities.id")
    position: Mapped[int]
    assignment_contested: Mapped[bool] = mapped_column(default=False)
    assignment_note: Mapped[str | None] = mapped_column(sa.Text)


class TaskForce(Entity):
    """The task force of one strategic objective."""

    __tablename__ = "task_forces"
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.TASK_FORCE}

    id: Mapped[uuid.UUID] = _detail_pk()
    objective_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("strategic_objectives.id", ondelete="CASCADE"), unique=True
    )
    explicitly_listed: Mapped[bool] = mapped_column(default=True)


class Alliance(Entity):
    """An alliance of a global facility (none is named in the sources yet)."""

    __tablename__ = "alliances"
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.ALLIANCE}

    id: Mapped[uuid.UUID] = _detail_pk()
    facility_id: Mapped[uuid.UUID] = fk("facilities.id")


class PartnerAgreement(Entity):
    """One item of an organisation's list of partnerships, with its terms."""

    __tablename__ = "partner_agreements"
    __table_args__ = (
        sa.UniqueConstraint("owner_id", "ordinal"),
        # An owner's list in order (ordinal, then id as the tiebreaker of every list's sort):
        # a page is the first rows of this index, with no sort of the owner's whole list.
        sa.Index("ix_partner_agreements_owner_id_ordinal_id", "owner_id", "ordinal", "id"),
        # The root list's default order (ORDINAL) across owners, likewise.
        sa.Index("ix_partner_agreements_ordinal_id", "ordinal", "id"),
    )
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.PARTNER_AGREEMENT}

    id: Mapped[uuid.UUID] = _detail_pk()
    owner_id: Mapped[uuid.UUID] = fk("organizations.id")
    ordinal: Mapped[int]
    raw_text: Mapped[str] = mapped_column(sa.Text)
    list_as_of_date, list_as_of_precision = partial_date("list_as_of")
    jurisdiction_label: Mapped[str | None] = mapped_column(sa.Text)
    context_id: Mapped[uuid.UUID | None] = opt_fk("events.id")
    # The keys of the SIGNED and START orders: the earliest signature among the instruments,
    # and the earliest start (an instrument's signature standing in for a start it lacks);
    # null when no instrument has one. Worked out from the instruments by whoever writes
    # them, the seed loader (soilapi.seed.loader.agreement_dates; the benchmark generator
    # calls it too), and stored with two indexes each (undated last, and undated first for
    # descending lists): computed per query, the key would be a subquery per agreement and
    # every agreement would be sorted for each page (0.95 s at 100,000 agreements, against
    # under 1 ms read from an index, the 4,000th page included).
    earliest_signed_date: Mapped[date | None] = mapped_column(info=DERIVED)
    earliest_start_date: Mapped[date | None] = mapped_column(info=DERIVED)


sa.Index(
    "ix_partner_agreements_earliest_signed_order",
    undated_last(PartnerAgreement.earliest_signed_date),
    PartnerAgreement.id,
)
sa.Index(
    "ix_partner_agreements_earliest_start_order",
    undated_last(PartnerAgreement.earliest_start_date),
    PartnerAgreement.id,
)
# The same orders descending: newest first, the undated still last.
sa.Index(
    "ix_partner_agreements_earliest_signed_undated_first",
    undated_first(PartnerAgreement.earliest_signed_date),
    PartnerAgreement.id,
)
sa.Index(
    "ix_partner_agreements_earliest_start_undated_first",
    undated_first(PartnerAgreement.earliest_start_date),
    PartnerAgreement.id,
)


class AgreementInstrument(Entity):
    """One instrument (grant, secondment, MoU ...) of a partner agreement."""

    __tablename__ = "agreement_instruments"
    __table_args__ = (
        sa.UniqueConstraint("agreement_id", "ordinal"),
        sa.Index(
            "ix_agreement_instruments_agreement_id_ordinal_id", "agreement_id", "ordinal", "id"
        ),
        # An agreement's instruments with their type and FTE, read from the index alone: the
        # facets and totals of a list of agreements (soilapi.repositories.facets) visit each
        # agreement's instruments, which lie anywhere in the table (3,352 German agreements
        # at scale 100: 15 ms through the table, 7 ms from this index).
        sa.Index(
            "ix_agreement_instruments_agreement_id_totals",
            "agreement_id",
            postgresql_include=["instrument_type", "fte"],
        ),
        sa.Index(  # the timeline's signatures, read from the index alone
            "ix_agreement_instruments_signed_date_id",
            "signed_date",
            "id",
            postgresql_include=["signed_precision"],
        ),
    )
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.AGREEMENT_INSTRUMENT}

    id: Mapped[uuid.UUID] = _detail_pk()
    agreement_id: Mapped[uuid.UUID] = fk("partner_agreements.id", index=False)  # see above
    ordinal: Mapped[int]
    instrument_type: Mapped[vocab.InstrumentType] = mapped_column(
        enum_column(vocab.InstrumentType), index=True
    )
    raw_text: Mapped[str] = mapped_column(sa.Text)
    signed_date, signed_precision = partial_date("signed")
    duration_months: Mapped[int | None]
    fte: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    location_id: Mapped[uuid.UUID | None] = opt_fk("places.id")
    end_is_derived: Mapped[bool] = mapped_column(default=False)
    date_note: Mapped[str | None] = mapped_column(sa.Text)


class Output(Entity):
    """Reports, protocols, maps, databases, books, webinars, campaigns."""

    __tablename__ = "outputs"
    __table_args__ = (  # the timeline's launches, read from the index alone
        sa.Index(
            "ix_outputs_launched_date_id",
            "launched_date",
            "id",
            postgresql_include=["launched_precision"],
        ),
    )
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.OUTPUT}

    id: Mapped[uuid.UUID] = _detail_pk()
    category: Mapped[vocab.OutputCategory | None] = mapped_column(
        enum_column(vocab.OutputCategory), index=True
    )
    subtitle: Mapped[str | None] = mapped_column(sa.Text)
    publication_place_id: Mapped[uuid.UUID | None] = opt_fk("places.id")
    launched_date, launched_precision = partial_date("launched")


class Event(Entity):
    """Conferences, launches, symposia, sessions and observances."""

    __tablename__ = "events"
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.EVENT}

    id: Mapped[uuid.UUID] = _detail_pk()
    category: Mapped[vocab.EventCategory | None] = mapped_column(
        enum_column(vocab.EventCategory), index=True
    )
    place_id: Mapped[uuid.UUID | None] = opt_fk("places.id")
    attendance_mode: Mapped[vocab.AttendanceMode | None] = mapped_column(
        enum_column(vocab.AttendanceMode)
    )
    is_implied: Mapped[bool] = mapped_column(default=False)


class Person(Entity):
    """A named person."""

    __tablename__ = "people"
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.PERSON}

    id: Mapped[uuid.UUID] = _detail_pk()
    honorific: Mapped[str | None] = mapped_column(sa.Text)
    given_name: Mapped[str | None] = mapped_column(sa.Text)
    family_name: Mapped[str | None] = mapped_column(sa.Text)
    name_order_uncertain: Mapped[bool] = mapped_column(default=False)


class Post(Entity):
    """A position in an organisation (Director, Secretary ...)."""

    __tablename__ = "posts"
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.POST}

    id: Mapped[uuid.UUID] = _detail_pk()
    organization_id: Mapped[uuid.UUID] = fk("organizations.id")
    label: Mapped[str] = mapped_column(sa.Text)


class Document(Entity):
    """An official document, decision or memorandum, with its symbol if it has one."""

    __tablename__ = "documents"
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.DOCUMENT}

    id: Mapped[uuid.UUID] = _detail_pk()
    symbol: Mapped[str | None] = mapped_column(sa.Text, unique=True)
    category: Mapped[vocab.DocumentCategory | None] = mapped_column(
        enum_column(vocab.DocumentCategory)
    )


# The SYMBOL order: documents without a symbol first.
sa.Index("ix_documents_symbol_order", unset_first(Document.symbol), Document.id)


class Citation(Entity):
    """A footnote of a source document."""

    __tablename__ = "citations"
    __table_args__ = (sa.UniqueConstraint("source_document_id", "footnote"),)
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.CITATION}

    id: Mapped[uuid.UUID] = _detail_pk()
    # The document whose footnote this is: the one the record's first source excerpt is from.
    source_document_id: Mapped[uuid.UUID] = fk("source_documents.id", info=DERIVED)
    footnote: Mapped[int]
    raw_text: Mapped[str] = mapped_column(sa.Text)
    authors_text: Mapped[str | None] = mapped_column(sa.Text)
    year: Mapped[int | None]
    place_text: Mapped[str | None] = mapped_column(sa.Text)
    url: Mapped[str | None] = mapped_column(sa.Text)


class Place(Entity):
    """Countries, territories, cities and regions."""

    __tablename__ = "places"
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.PLACE}

    id: Mapped[uuid.UUID] = _detail_pk()
    category: Mapped[vocab.PlaceCategory | None] = mapped_column(enum_column(vocab.PlaceCategory))
    iso3166_1: Mapped[str | None] = mapped_column(sa.String(2))
    iso3166_2: Mapped[str | None] = mapped_column(sa.String(6))
    # Deferred so a batch of places can be written in any order within one transaction.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("places.id", ondelete="SET NULL", deferrable=True, initially="DEFERRED"),
        nullable=True,
        index=True,
    )


class SdgTarget(Entity):
    """A Sustainable Development Goal target."""

    __tablename__ = "sdg_targets"
    __mapper_args__ = {"polymorphic_identity": vocab.EntityKind.SDG_TARGET}

    id: Mapped[uuid.UUID] = _detail_pk()
    goal: Mapped[int]
    target: Mapped[str] = mapped_column(sa.String(8), unique=True)


class EntitySource(Base):
    """One excerpt of a source document that backs a record (or one of its fields)."""

    __tablename__ = "entity_sources"

    id: Mapped[uuid.UUID] = mapped_column(UUID_PK, primary_key=True)
    entity_id: Mapped[uuid.UUID] = fk("entities.id")
    property: Mapped[str | None] = mapped_column(sa.Text)
    document_id: Mapped[uuid.UUID] = fk("source_documents.id")
    line_start: Mapped[int]
    line_end: Mapped[int]
    quote: Mapped[str] = mapped_column(sa.Text)
    evidence: Mapped[vocab.Evidence] = mapped_column(enum_column(vocab.Evidence))


class EntityName(ProvenanceMixin, Base):
    """Another name of a record: acronym, alias, spelling variant."""

    __tablename__ = "entity_names"

    id: Mapped[uuid.UUID] = mapped_column(UUID_PK, primary_key=True)
    entity_id: Mapped[uuid.UUID] = fk("entities.id")
    value: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[vocab.NameKind] = mapped_column(enum_column(vocab.NameKind))


class EntityIdentifier(ProvenanceMixin, Base):
    """An identifier of a record in an outside scheme (URL, catalogue code, symbol)."""

    __tablename__ = "entity_identifiers"
    __table_args__ = (sa.Index("ix_entity_identifiers_scheme_value", "scheme", "value"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID_PK, primary_key=True)
    entity_id: Mapped[uuid.UUID] = fk("entities.id")
    scheme: Mapped[vocab.IdentifierScheme] = mapped_column(enum_column(vocab.IdentifierScheme))
    value: Mapped[str] = mapped_column(sa.Text)


class Relation(ProvenanceMixin, Base):
    """A typed, optionally time-bounded edge "subject predicate object"."""

    __tablename__ = "relations"
    # A relation list reads one end's relations through these; a walk of the graph
    # (soilapi.repositories.graph) reads everything it needs of a relation, the other end, its
    # rank and its id, from them alone (an index-only scan): at bench scale 100 two levels
    # around the ESP touch 7,700 pages instead of 16,900. A relation list's page is chosen
    # from them alone too: its order (ordinal, the other end's name, id) and its kinds are here.
    __table_args__ = (
        sa.Index(
            "ix_relations_subject_predicate",
            "subject_id",
            "predicate",
            postgresql_include=["object_id", "rank", "id", "ordinal", "object_name", "object_kind"],
        ),
        sa.Index(
            "ix_relations_object_predicate",
            "object_id",
            "predicate",
            postgresql_include=[
                "subject_id",
                "rank",
                "id",
                "ordinal",
                "subject_name",
                "subject_kind",
            ],
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID_PK, primary_key=True)
    subject_id: Mapped[uuid.UUID] = fk("entities.id", index=False)
    predicate: Mapped[vocab.Predicate] = mapped_column(enum_column(vocab.Predicate))
    object_id: Mapped[uuid.UUID] = fk("entities.id", index=False)
    ordinal: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(sa.Text)
    start_date, start_precision = partial_date("start")
    end_date, end_precision = partial_date("end")
    rank: Mapped[vocab.Rank] = mapped_column(enum_column(vocab.Rank))
    revision: Mapped[int] = mapped_column(server_default="0")  # as Entity.revision
    # The name and kind of each end, copied from `entities` by triggers (migration
    # 9d013874c7c6: on a relation's insert or change of ends, and on a record's rename), so
    # that a relation list sorts by the other end's name and keeps its kinds without reading
    # every record its parent relates to: the first 20 of the GSP's 707 children at bench
    # scale 100 were 707 lookups in `entities` and a sort, and are now 21. Never written by
    # anyone else (FetchedValue: SQLAlchemy leaves them out of its INSERTs).
    subject_name: Mapped[str] = mapped_column(
        sa.Text, server_default=sa.FetchedValue(), info=DERIVED
    )
    subject_kind: Mapped[vocab.EntityKind] = mapped_column(
        enum_column(vocab.EntityKind), server_default=sa.FetchedValue(), info=DERIVED
    )
    object_name: Mapped[str] = mapped_column(
        sa.Text, server_default=sa.FetchedValue(), info=DERIVED
    )
    object_kind: Mapped[vocab.EntityKind] = mapped_column(
        enum_column(vocab.EntityKind), server_default=sa.FetchedValue(), info=DERIVED
    )


class Quantity(ProvenanceMixin, Base):
    """A number stated about a record, with its qualifier ("over 300") and date."""

    __tablename__ = "quantities"

    id: Mapped[uuid.UUID] = mapped_column(UUID_PK, primary_key=True)
    subject_id: Mapped[uuid.UUID] = fk("entities.id")
    metric: Mapped[str] = mapped_column(sa.Text)
    value: Mapped[Decimal] = mapped_column(sa.Numeric)
    qualifier: Mapped[vocab.Qualifier] = mapped_column(enum_column(vocab.Qualifier))
    unit: Mapped[str | None] = mapped_column(sa.Text)
    as_of_date, as_of_precision = partial_date("as_of")
    text: Mapped[str | None] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.Text)


class Statement(ProvenanceMixin, Base):
    """A free-text fact about a record: an aim, objective, provision or remark."""

    __tablename__ = "statements"

    id: Mapped[uuid.UUID] = mapped_column(UUID_PK, primary_key=True)
    subject_id: Mapped[uuid.UUID] = fk("entities.id")
    property: Mapped[vocab.StatementProperty] = mapped_column(enum_column(vocab.StatementProperty))
    ordinal: Mapped[int | None]
    text: Mapped[str] = mapped_column(sa.Text)


class QualityNote(ProvenanceMixin, Base):
    """A known gap or artefact of the sources, recorded instead of invented data."""

    __tablename__ = "quality_notes"

    id: Mapped[uuid.UUID] = mapped_column(UUID_PK, primary_key=True)
    subject_id: Mapped[uuid.UUID | None] = opt_fk("entities.id")
    code: Mapped[str] = mapped_column(sa.Text)
    note: Mapped[str] = mapped_column(sa.Text)


# Each kind's model, as its `polymorphic_identity` declares it.
DETAIL_MODELS: dict[vocab.EntityKind, type[Entity]] = {
    vocab.EntityKind(str(mapper.polymorphic_identity)): mapper.class_
    for mapper in Entity.__mapper__.self_and_descendants
    if mapper.class_ is not Entity
}

from soilapi.db.cache import DataVersion  # noqa: E402, F401 - on Base.metadata for alembic
from soilapi.db.history import ApiKey  # noqa: E402, F401 - on Base.metadata for alembic
from soilapi.db.ratelimit import RateLimitBucket  # noqa: E402, F401 - on Base.metadata for alembic
from soilapi.db.search import SearchEntry, SearchWord  # noqa: E402, F401 - on Base.metadata for alembic
