"""SQL of writes: rows locked, read, inserted, updated and deleted in the writer's
transaction. The rules (who may, what is valid, what is recorded) live in
soilapi.services.writes; nothing here commits.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from soilapi import vocab
from soilapi.db import models as m
from soilapi.db.history import ChangeRequest, IdempotencyRecord
from soilapi.repositories.entities import HIERARCHY

Row = dict[str, Any]

# How a partner's organisation owns other records: "org PARTY_TO agreement" (the org is the
# subject), "output AUTHORED_BY org" and the like (the org is the object).
OWNED_AS_SUBJECT = (vocab.Predicate.PARTY_TO,)
OWNED_AS_OBJECT = (
    vocab.Predicate.AUTHORED_BY,
    vocab.Predicate.ORGANIZED_BY,
    vocab.Predicate.PUBLISHED_BY,
    vocab.Predicate.PREPARED_BY,
    vocab.Predicate.ISSUED_BY,
    vocab.Predicate.LAUNCHED_BY,
)


def _table(name: str) -> sa.Table:
    return m.Base.metadata.tables[name]


ENTITIES = _table("entities")
RELATIONS = _table("relations")
DOCUMENTS = _table("source_documents")
SOURCES = _table("entity_sources")
IDEMPOTENCY = _table(str(IdempotencyRecord.__tablename__))
CHANGE_REQUESTS = _table(str(ChangeRequest.__tablename__))


def _detail(kind: vocab.EntityKind) -> sa.Table:
    return _table(str(m.DETAIL_MODELS[kind].__tablename__))


async def lock_entity(conn: AsyncConnection, entity_id: uuid.UUID) -> Row | None:
    """The record's columns (shared and its kind's), its row locked until commit."""
    base = ENTITIES
    found = (
        await conn.execute(sa.select(base).where(base.c.id == entity_id).with_for_update())
    ).first()
    if found is None:
        return None
    row = dict(found._mapping)
    detail = _detail(vocab.EntityKind(row["kind"]))
    more = (await conn.execute(sa.select(detail).where(detail.c.id == entity_id))).first()
    return {**(dict(more._mapping) if more else {}), **row}


async def kinds_of(conn: AsyncConnection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The kind of each live record among `ids`."""
    base = ENTITIES
    rows = await conn.execute(sa.select(base.c.id, base.c.kind).where(base.c.id.in_(ids)))
    return {row.id: row.kind for row in rows}


async def slug_owner(conn: AsyncConnection, slug: str) -> uuid.UUID | None:
    """The record that has this slug, if any."""
    base = ENTITIES
    return (await conn.execute(sa.select(base.c.id).where(base.c.slug == slug))).scalar()


async def insert_entity(
    conn: AsyncConnection, kind: vocab.EntityKind, base: Row, detail: Row
) -> None:
    """Insert a record: its shared row, then its kind's row."""
    await conn.execute(sa.insert(ENTITIES).values(base))
    await conn.execute(sa.insert(_detail(kind)).values(detail))


async def update_entity(
    conn: AsyncConnection, kind: vocab.EntityKind, entity_id: uuid.UUID, base: Row, detail: Row
) -> None:
    """Overwrite the given columns of a record (shared ones in `base`, its kind's in `detail`)."""
    if base:
        table = ENTITIES
        await conn.execute(sa.update(table).where(table.c.id == entity_id).values(base))
    if detail:
        table = _detail(kind)
        await conn.execute(sa.update(table).where(table.c.id == entity_id).values(detail))


async def delete_entity(conn: AsyncConnection, entity_id: uuid.UUID) -> None:
    """Remove a retired record; its names, sources and relations go with it (ON DELETE)."""
    table = ENTITIES
    await conn.execute(sa.delete(table).where(table.c.id == entity_id))


async def relations_touching(conn: AsyncConnection, entity_id: uuid.UUID) -> list[Row]:
    """Every relation with the record at either end, locked (retiring it removes them)."""
    table = RELATIONS
    rows = await conn.execute(
        sa.select(table)
        .where(sa.or_(table.c.subject_id == entity_id, table.c.object_id == entity_id))
        .order_by(table.c.id)
        .with_for_update()
    )
    return [dict(row._mapping) for row in rows]


async def lock_relation(conn: AsyncConnection, relation_id: uuid.UUID) -> Row | None:
    """A relation's row, locked until commit."""
    table = RELATIONS
    found = (
        await conn.execute(sa.select(table).where(table.c.id == relation_id).with_for_update())
    ).first()
    return None if found is None else dict(found._mapping)


async def insert_relation(conn: AsyncConnection, row: Row) -> None:
    """Insert a relation."""
    await conn.execute(sa.insert(RELATIONS).values(row))


async def delete_relations(conn: AsyncConnection, ids: Sequence[uuid.UUID]) -> None:
    """Remove retired relations."""
    table = RELATIONS
    await conn.execute(sa.delete(table).where(table.c.id.in_(ids)))


async def ancestors(conn: AsyncConnection, entity_id: uuid.UUID) -> set[uuid.UUID]:
    """The record and everything above it through the organisation tree's relations, at any
    depth (UNION stops at a cycle already in the data)."""
    r = RELATIONS
    seed = sa.select(sa.literal(entity_id, sa.Uuid()).label("node")).cte("up", recursive=True)
    step = (
        sa.select(r.c.object_id)
        .join(seed, r.c.subject_id == seed.c.node)
        .where(r.c.predicate.in_([p.value for p in HIERARCHY]))
    )
    tree = seed.union(step)
    return {row[0] for row in await conn.execute(sa.select(tree.c.node))}


async def _ancestors_of(
    conn: AsyncConnection, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """Each organisation's ancestors through the organisation tree's relations."""
    if not ids:
        return {}
    r = RELATIONS
    start = sa.select(r.c.subject_id.label("root"), r.c.object_id.label("node")).where(
        r.c.subject_id.in_(ids), r.c.predicate.in_([p.value for p in HIERARCHY])
    )
    up = start.cte("up", recursive=True)
    step = (
        sa.select(up.c.root, r.c.object_id)
        .join(r, r.c.subject_id == up.c.node)
        .where(r.c.predicate.in_([p.value for p in HIERARCHY]))
    )
    tree = up.union(step)
    found: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for row in await conn.execute(sa.select(tree.c.root, tree.c.node)):
        found[row.root].add(row.node)
    return found


async def owners(
    conn: AsyncConnection, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """The organisations each record belongs to for a partner's scope: an organisation
    itself, the parties to an agreement, the authors, organisers and publishers of the rest."""
    base = ENTITIES
    r = RELATIONS
    found: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    orgs = await conn.execute(
        sa.select(base.c.id).where(
            base.c.id.in_(ids), base.c.kind == vocab.EntityKind.ORGANIZATION.value
        )
    )
    for row in orgs:
        found[row.id].add(row.id)
    # An organisation is also its parents' (a partner keeps its units current), at any depth.
    for record, tops in (await _ancestors_of(conn, list(found))).items():
        found[record] |= tops
    as_subject = sa.select(r.c.object_id.label("record"), r.c.subject_id.label("org")).where(
        r.c.object_id.in_(ids), r.c.predicate.in_([p.value for p in OWNED_AS_SUBJECT])
    )
    as_object = sa.select(r.c.subject_id.label("record"), r.c.object_id.label("org")).where(
        r.c.subject_id.in_(ids), r.c.predicate.in_([p.value for p in OWNED_AS_OBJECT])
    )
    for row in await conn.execute(sa.union_all(as_subject, as_object)):
        found[row.record].add(row.org)
    # An instrument is its agreement's; a post, its organisation's.
    instruments, posts = _table("agreement_instruments"), _table("posts")
    parents = await conn.execute(
        sa.union_all(
            sa.select(instruments.c.id, instruments.c.agreement_id.label("parent")).where(
                instruments.c.id.in_(ids)
            ),
            sa.select(posts.c.id, posts.c.organization_id.label("parent")).where(
                posts.c.id.in_(ids)
            ),
        )
    )
    parent_of = {row.id: row.parent for row in parents}
    if parent_of:
        upper = await owners(conn, sorted(set(parent_of.values())))
        for record, parent in parent_of.items():
            found[record] |= upper[parent]
    return {i: found.get(i, set()) for i in ids}


async def document_id(conn: AsyncConnection, key: str) -> tuple[uuid.UUID, int] | None:
    """A source document's id and line count, by key."""
    t = DOCUMENTS
    row = (await conn.execute(sa.select(t.c.id, t.c.line_count).where(t.c.key == key))).first()
    return None if row is None else (row.id, row.line_count)


async def document_lines(conn: AsyncConnection, key: str) -> list[str] | None:
    """A source document's lines, to check a quote against them."""
    t = DOCUMENTS
    content = (await conn.execute(sa.select(t.c.content).where(t.c.key == key))).scalar()
    return None if content is None else str(content).split("\n")


async def insert_source_document(conn: AsyncConnection, row: Row) -> None:
    """Add a contributed source (a web page, or a partner's statement); a second citation of
    the same one (same key) reuses the row."""
    await conn.execute(
        pg_insert(DOCUMENTS).values(row).on_conflict_do_nothing(index_elements=["key"])
    )


async def insert_entity_sources(conn: AsyncConnection, rows: Sequence[Row]) -> None:
    """Back a record's changed fields with their source, one row per field."""
    if rows:
        await conn.execute(
            pg_insert(SOURCES).on_conflict_do_nothing(index_elements=["id"]),
            list(rows),
        )


async def claim_idempotency(
    conn: AsyncConnection, actor: str, key: str, mutation: str, input_sha256: str
) -> Row | None:
    """Claim an idempotency key for this write: None when it is new (the claim is held until
    commit, so a concurrent retry waits for this one), else the earlier write's record."""
    table = IDEMPOTENCY
    claimed = await conn.execute(
        pg_insert(table)
        .values(actor=actor, key=key, mutation=mutation, input_sha256=input_sha256, outcome={})
        .on_conflict_do_nothing(index_elements=["actor", "key"])
        .returning(table.c.key)
    )
    if claimed.first() is not None:
        return None
    earlier = await conn.execute(sa.select(table).where(table.c.actor == actor, table.c.key == key))
    return dict(earlier.one()._mapping)


async def settle_idempotency(
    conn: AsyncConnection, actor: str, key: str, outcome: Mapping[str, Any]
) -> None:
    """Store the answer of the write that claimed the key."""
    table = IDEMPOTENCY
    await conn.execute(
        sa.update(table)
        .where(table.c.actor == actor, table.c.key == key)
        .values(outcome=dict(outcome))
    )


async def insert_change_request(conn: AsyncConnection, row: Row) -> None:
    """File a proposal."""
    await conn.execute(sa.insert(CHANGE_REQUESTS).values(row))


async def lock_change_request(conn: AsyncConnection, request_id: uuid.UUID) -> Row | None:
    """A proposal, locked so that two curators cannot both review it."""
    t = CHANGE_REQUESTS
    row = (await conn.execute(sa.select(t).where(t.c.id == request_id).with_for_update())).first()
    return None if row is None else dict(row._mapping)


async def review_change_request(conn: AsyncConnection, request_id: uuid.UUID, values: Row) -> None:
    """Record a curator's decision on a proposal."""
    t = CHANGE_REQUESTS
    await conn.execute(
        sa.update(t).where(t.c.id == request_id).values(**values, reviewed_at=sa.func.now())
    )


def table(name: str) -> sa.Table:
    """A registry table by name, for the writes that treat several alike (sub-facts)."""
    return _table(name)


async def lock_row(conn: AsyncConnection, name: str, row_id: uuid.UUID) -> Row | None:
    """A row of `name`, locked until commit."""
    t = _table(name)
    found = (await conn.execute(sa.select(t).where(t.c.id == row_id).with_for_update())).first()
    return None if found is None else dict(found._mapping)


async def insert_row(conn: AsyncConnection, name: str, row: Row) -> None:
    """Insert one row into `name`."""
    await conn.execute(sa.insert(_table(name)).values(row))


async def delete_row(conn: AsyncConnection, name: str, row_id: uuid.UUID) -> None:
    """Delete one row of `name`."""
    t = _table(name)
    await conn.execute(sa.delete(t).where(t.c.id == row_id))


async def lock_entities(conn: AsyncConnection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Lock records whose sub-facts change, and give their revision numbers."""
    rows = await conn.execute(
        sa.select(ENTITIES.c.id, ENTITIES.c.revision)
        .where(ENTITIES.c.id.in_(ids))
        .with_for_update()
    )
    return {row.id: row.revision for row in rows}


async def refresh_agreement_dates(
    conn: AsyncConnection, agreement_ids: Sequence[uuid.UUID]
) -> None:
    """Recompute the stored sort dates of these agreements from their instruments: the
    earliest signature, and the earliest start (a signature standing in for a missing start),
    as the seed loader's `agreement_dates` does (tests/writes prove they agree)."""
    agreements, instruments = _table("partner_agreements"), _table("agreement_instruments")
    dates = (
        sa.select(
            agreements.c.id,
            sa.func.min(instruments.c.signed_date).label("signed"),
            sa.func.min(sa.func.coalesce(ENTITIES.c.start_date, instruments.c.signed_date)).label(
                "started"
            ),
        )
        .select_from(agreements)
        .outerjoin(instruments, instruments.c.agreement_id == agreements.c.id)
        .outerjoin(ENTITIES, ENTITIES.c.id == instruments.c.id)
        .where(agreements.c.id.in_(agreement_ids))
        .group_by(agreements.c.id)
        .subquery()
    )
    await conn.execute(
        sa.update(agreements)
        .where(agreements.c.id == dates.c.id)
        .values(earliest_signed_date=dates.c.signed, earliest_start_date=dates.c.started)
    )


async def change_requests_page(
    conn: AsyncConnection,
    status: str | None,
    proposer: str | None,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> tuple[list[Row], bool]:
    """Proposals oldest first (the review queue), after a (created_at, id) cursor; each with
    `current_revision`, the revision its record is at now (null if it has none). Returns the
    rows and whether more follow."""
    t = CHANGE_REQUESTS
    stmt = (
        sa.select(t, ENTITIES.c.revision.label("current_revision"))
        .outerjoin(ENTITIES, ENTITIES.c.id == t.c.target_id)
        .order_by(t.c.created_at, t.c.id)
        .limit(limit + 1)
    )
    if status is not None:
        stmt = stmt.where(t.c.status == status)
    if proposer is not None:
        stmt = stmt.where(t.c.proposer == proposer)
    if after is not None:
        stamp = sa.cast(sa.literal(after[0]), sa.DateTime(timezone=True))
        stmt = stmt.where(sa.tuple_(t.c.created_at, t.c.id) > sa.tuple_(stamp, after[1]))
    rows = [dict(row._mapping) for row in await conn.execute(stmt)]
    return rows[:limit], len(rows) > limit


async def change_requests_count(
    conn: AsyncConnection, status: str | None, proposer: str | None
) -> int:
    """How many proposals the same filters list, on every page."""
    t = CHANGE_REQUESTS
    stmt = sa.select(sa.func.count()).select_from(t)
    if status is not None:
        stmt = stmt.where(t.c.status == status)
    if proposer is not None:
        stmt = stmt.where(t.c.proposer == proposer)
    return int((await conn.execute(stmt)).scalar_one())


async def slugs_of(conn: AsyncConnection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The slug of each live record among `ids` (diffs name references by slug)."""
    if not ids:
        return {}
    rows = await conn.execute(
        sa.select(ENTITIES.c.id, ENTITIES.c.slug).where(ENTITIES.c.id.in_(sorted(set(ids))))
    )
    return {row.id: row.slug for row in rows}
