"""SQL of API keys: issued, looked up by their public prefix, revoked, listed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection

from soilapi.db.history import ApiKey, ApiKeyOrganization
from soilapi.db.models import Entity
from soilapi.vocab import EntityKind, Role


@dataclass(frozen=True)
class KeyRow:
    """An API key as stored, with the slugs of the organisations it acts for."""

    id: uuid.UUID
    prefix: str
    secret_sha256: str
    role: Role
    label: str
    created_at: datetime
    revoked_at: datetime | None
    organization_ids: tuple[uuid.UUID, ...]
    organization_slugs: tuple[str, ...]


async def organization_ids(conn: AsyncConnection, slugs: Sequence[str]) -> dict[str, uuid.UUID]:
    """The ids of the organisations with these slugs (missing slugs are absent)."""
    rows = await conn.execute(
        sa.select(Entity.slug, Entity.id).where(
            Entity.kind == EntityKind.ORGANIZATION, Entity.slug.in_(slugs)
        )
    )
    return {row.slug: row.id for row in rows}


async def insert(
    conn: AsyncConnection,
    *,
    prefix: str,
    secret_sha256: str,
    role: Role,
    label: str,
    organizations: Sequence[uuid.UUID],
) -> None:
    """Store a new key and the organisations it acts for."""
    key_id = uuid.uuid4()
    await conn.execute(
        sa.insert(ApiKey).values(
            id=key_id, prefix=prefix, secret_sha256=secret_sha256, role=role, label=label
        )
    )
    if organizations:
        await conn.execute(
            sa.insert(ApiKeyOrganization),
            [{"key_id": key_id, "organization_id": org} for org in organizations],
        )


def _select() -> sa.Select[Any]:
    orgs = (
        sa.select(
            ApiKeyOrganization.key_id,
            sa.func.array_agg(aggregate_order_by(Entity.id, Entity.slug)).label("ids"),
            sa.func.array_agg(aggregate_order_by(Entity.slug, Entity.slug)).label("slugs"),
        )
        .join(Entity, Entity.id == ApiKeyOrganization.organization_id)
        .group_by(ApiKeyOrganization.key_id)
        .subquery()
    )
    return sa.select(*ApiKey.__table__.columns, orgs.c.ids, orgs.c.slugs).outerjoin(
        orgs, orgs.c.key_id == ApiKey.id
    )


def _row(found: sa.Row[Any]) -> KeyRow:
    key = found._mapping
    return KeyRow(
        key["id"],
        key["prefix"],
        key["secret_sha256"],
        Role(key["role"]),
        key["label"],
        key["created_at"],
        key["revoked_at"],
        tuple(key["ids"] or ()),
        tuple(key["slugs"] or ()),
    )


async def by_prefix(conn: AsyncConnection, prefix: str) -> KeyRow | None:
    """The key with this public prefix, revoked or not."""
    found = (await conn.execute(_select().where(ApiKey.prefix == prefix))).first()
    return None if found is None else _row(found)


async def every(conn: AsyncConnection) -> list[KeyRow]:
    """Every key, oldest first."""
    rows = await conn.execute(_select().order_by(ApiKey.created_at, ApiKey.prefix))
    return [_row(row) for row in rows]


async def revoke(conn: AsyncConnection, prefix: str) -> bool:
    """Mark the key revoked now; False when no live key has this prefix."""
    done = await conn.execute(
        sa.update(ApiKey)
        .where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
        .values(revoked_at=sa.func.now())
        .returning(ApiKey.id)
    )
    return done.first() is not None
