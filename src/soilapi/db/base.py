"""Declarative base with a naming convention, so alembic emits stable constraint names."""

import uuid
from datetime import date
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from soilapi.vocab import DatePrecision, Evidence

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Deterministic ids: the same slug gets the same id in every database, so global IDs that
# clients store keep working after a reload of the seed data.
ID_NAMESPACE = uuid.UUID("6f1c2c8e-4d0b-5b1e-9a52-50117a91a001")


def stable_id(*parts: object) -> uuid.UUID:
    """Derive a row id from its natural key."""
    return uuid.uuid5(ID_NAMESPACE, "\x1f".join(str(p) for p in parts))


def enum_column(enum: type[StrEnum]) -> sa.Enum:
    """Store an enum as its lower-case value in a VARCHAR (no PG type to migrate)."""
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=40,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """Base of every model."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def partial_date(prefix: str) -> tuple[Mapped[date | None], Mapped[DatePrecision | None]]:
    """A nullable date column pair: the first day of the period and its precision."""
    return (
        mapped_column(f"{prefix}_date", sa.Date, nullable=True),
        mapped_column(f"{prefix}_precision", enum_column(DatePrecision), nullable=True),
    )


class ProvenanceMixin:
    """Inline provenance for rows backed by exactly one excerpt of a source document."""

    document_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("source_documents.id", ondelete="CASCADE"), index=True
    )
    line_start: Mapped[int]
    line_end: Mapped[int]
    quote: Mapped[str] = mapped_column(sa.Text)
    evidence: Mapped[Evidence] = mapped_column(enum_column(Evidence))
