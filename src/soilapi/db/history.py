"""The living registry's tables: API keys, revisions (the history and the change feed),
proposals and idempotency records.

A revision is written in the same transaction as the change it records, after the data
version is bumped (soilapi.repositories.history): that bump locks one row until commit, so
revisions are numbered in commit order, and the feed's cursor (the revision id) never has a
gap that a slower transaction fills in later.
"""

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from soilapi import vocab
from soilapi.db.base import Base, enum_column

NOW = sa.text("now()")


class ApiKey(Base):
    """A client's key: only its public prefix and the SHA-256 of its secret are stored."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(as_uuid=True), primary_key=True)
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(sa.String(64))
    role: Mapped[vocab.Role] = mapped_column(enum_column(vocab.Role))
    label: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=NOW)
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class ApiKeyOrganization(Base):
    """An organisation a partner's key acts for."""

    __tablename__ = "api_key_organizations"

    key_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Revision(Base):
    """One change to one record or relation: who, when, the field-level diff, the source.

    `target_id` has no foreign key: a retired record's row is gone, and its history stays.
    """

    __tablename__ = "revisions"
    __table_args__ = (
        sa.UniqueConstraint("target_id", "number"),
        sa.Index("ix_revisions_target_id_id", "target_id", "id"),
        sa.Index("ix_revisions_kind_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    target_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(as_uuid=True))
    # The entity kind, or "relation".
    kind: Mapped[str] = mapped_column(sa.String(40))
    number: Mapped[int]
    operation: Mapped[vocab.Operation] = mapped_column(enum_column(vocab.Operation))
    diff: Mapped[dict[str, Any]] = mapped_column(JSONB)
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    # "key:<prefix>" or "seed:<file>".
    actor: Mapped[str] = mapped_column(sa.Text)
    actor_role: Mapped[str] = mapped_column(sa.String(16))
    # Set when a curator's approval applied someone's proposal.
    approved_by: Mapped[str | None] = mapped_column(sa.Text)
    request_id: Mapped[str | None] = mapped_column(sa.Text)
    data_version: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=NOW)


class ChangeRequest(Base):
    """A partner's change outside its scope, waiting for a curator."""

    __tablename__ = "change_requests"
    __table_args__ = (sa.Index("ix_change_requests_status_created_at", "status", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(as_uuid=True), primary_key=True)
    status: Mapped[vocab.ChangeRequestStatus] = mapped_column(
        enum_column(vocab.ChangeRequestStatus)
    )
    mutation: Mapped[str] = mapped_column(sa.Text)
    input: Mapped[dict[str, Any]] = mapped_column(JSONB)
    target_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid(as_uuid=True), index=True)
    base_revision: Mapped[int | None]
    diff: Mapped[dict[str, Any]] = mapped_column(JSONB)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    proposer: Mapped[str] = mapped_column(sa.Text)
    reviewer: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    revision_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("revisions.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=NOW)
    reviewed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class IdempotencyRecord(Base):
    """The first answer to a write sent with an `idempotencyKey`, per actor."""

    __tablename__ = "idempotency_records"

    actor: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    mutation: Mapped[str] = mapped_column(sa.Text)
    input_sha256: Mapped[str] = mapped_column(sa.String(64))
    outcome: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=NOW)
