"""SQL of the history: revisions written in the writer's transaction, read back per record
and as the change feed.

`record` is the only way a revision is written. It bumps the data version first: that
UPDATE locks the version row until the transaction ends, so writers take their revision ids
one transaction after another, in commit order. A reader of the feed who holds cursor N can
therefore never later see a revision numbered below N appear (tests/test_feed_order.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection

from soilapi.db.history import Revision
from soilapi.db.models import Entity, Relation
from soilapi.db.session import Reader
from soilapi.repositories.cache import bump_data_version
from soilapi.repositories.paging import (
    ListParts,
    Parts,
    Slice,
    Window,
    count_per_parent,
    prepared_count,
    prepared_page,
    prepared_pages_per_parent,
    prepared_rows,
)
from soilapi.repositories.records import Record, TableReader
from soilapi.vocab import Operation


@dataclass(frozen=True)
class NewRevision:
    """A change about to be recorded; `kind` is the entity kind, or "relation"."""

    target_id: uuid.UUID
    kind: str
    operation: Operation
    diff: dict[str, Any]
    actor: str
    actor_role: str
    provenance: dict[str, Any] | None = None
    comment: str | None = None
    approved_by: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class Recorded:
    """Where a recorded revision landed: its feed position and the target's new number."""

    id: int
    target_id: uuid.UUID
    number: int


async def record(conn: AsyncConnection, changes: Sequence[NewRevision]) -> list[Recorded]:
    """Record `changes` in the caller's transaction, in order, and bump each live target's
    revision number (a retired target's row is gone; its number continues in the history).

    Statements: one to bump the data version, one to number the targets, one insert.
    """
    if not changes:
        return []
    version = await bump_data_version(conn)
    targets = sorted({c.target_id for c in changes})
    latest = await conn.execute(
        sa.select(Revision.target_id, sa.func.max(Revision.number))
        .where(Revision.target_id.in_(targets))
        .group_by(Revision.target_id)
    )
    numbers: dict[uuid.UUID, int] = {row[0]: row[1] for row in latest}
    rows = []
    for change in changes:
        numbers[change.target_id] = numbers.get(change.target_id, 0) + 1
        rows.append(
            {
                "target_id": change.target_id,
                "kind": change.kind,
                "number": numbers[change.target_id],
                "operation": change.operation,
                "diff": change.diff,
                "provenance": change.provenance,
                "comment": change.comment,
                "actor": change.actor,
                "actor_role": change.actor_role,
                "approved_by": change.approved_by,
                "request_id": change.request_id,
                "data_version": version,
            }
        )
    inserted = await conn.execute(
        sa.insert(Revision).returning(
            Revision.id, Revision.target_id, Revision.number, sort_by_parameter_order=True
        ),
        rows,
    )
    done = [Recorded(row.id, row.target_id, row.number) for row in inserted]
    await _renumber(conn, changes, numbers)
    return done


async def _renumber(
    conn: AsyncConnection, changes: Sequence[NewRevision], numbers: dict[uuid.UUID, int]
) -> None:
    """Write each live target's latest number (and `updated_at`) onto its row."""
    for model in (Entity, Relation):
        ids = [
            c.target_id
            for c in changes
            if (c.kind == "relation") == (model is Relation) and c.operation != Operation.RETIRE
        ]
        if not ids:
            continue
        values = sa.values(
            sa.column("id", sa.Uuid()), sa.column("number", sa.Integer()), name="latest"
        ).data([(i, numbers[i]) for i in sorted(set(ids))])
        stmt = sa.update(model).where(model.id == values.c.id).values(revision=values.c.number)
        if model is Entity:
            stmt = stmt.values(updated_at=sa.func.now())
        await conn.execute(stmt)


# --- reads: a record's history, and the change feed ------------------------------------------

REVISIONS = TableReader(Revision)
_REVISIONS = Revision.__table__


async def revisions_page(
    reader: Reader, targets: Sequence[uuid.UUID], window: Window
) -> dict[uuid.UUID, Slice]:
    """A page of each target's revisions by number (the window says which way), in one
    statement: a LATERAL walk of the (target_id, number) index per target."""

    def parts() -> Parts:
        # An alias: the page's rows are joined to `revisions` again outside the LATERAL,
        # which would otherwise correlate its only FROM away.
        own = _REVISIONS.alias("own")
        return own.c.target_id, own.c.id, [own.c.number], [], own

    return await prepared_pages_per_parent(
        reader, ("revisions",), parts, targets, window, rows=REVISIONS
    )


async def revisions_count(reader: Reader, targets: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many revisions each target has, in one grouped statement."""
    return await count_per_parent(reader, Revision.target_id, targets, [], _REVISIONS)


@dataclass(frozen=True)
class Latest:
    """A target's newest revision, and when its first one was made."""

    revision: Record
    first_at: datetime


async def latest_revisions(reader: Reader, targets: Sequence[uuid.UUID]) -> dict[uuid.UUID, Latest]:
    """Each target's newest revision (targets never revised are absent), in one statement."""

    def build() -> sa.Select[Any]:
        first_at = sa.func.min(Revision.created_at).over(partition_by=Revision.target_id)
        return (
            sa.select(*REVISIONS.labelled(), first_at.label("first_at"))
            .where(Revision.target_id == sa.any_(sa.bindparam("targets", type_=_UUIDS)))
            .order_by(Revision.target_id, Revision.number.desc())
            .ext(distinct_on(Revision.target_id))
        )

    rows = await prepared_rows(reader, ("latest-revisions",), build, {"targets": list(targets)})
    found = {}
    for row in rows:
        cells = dict(row)
        first_at = cells.pop("first_at")
        found[cells["target_id"]] = Latest(REVISIONS.one(cells), first_at)
    return found


async def feed_page(reader: Reader, kinds: Sequence[str] | None, window: Window) -> Slice:
    """A page of the change feed: revisions in id order (commit order, see `record`), after
    the window's cursor, of the given kinds (None: all). One statement, whatever the page."""

    def parts() -> ListParts:
        where = []
        if kinds is not None:
            where.append(Revision.kind == sa.any_(sa.bindparam("kinds", type_=_KINDS)))
        return [Revision.id], where, _REVISIONS

    values = {} if kinds is None else {"kinds": list(kinds)}
    shape = ("feed", kinds is not None)
    return await prepared_page(reader, shape, parts, window, values, REVISIONS)


async def feed_count(reader: Reader, kinds: Sequence[str] | None) -> int:
    """How many revisions the feed holds, of the given kinds (None: all)."""

    def build() -> sa.Select[Any]:
        stmt = sa.select(sa.func.count()).select_from(_REVISIONS)
        if kinds is not None:
            stmt = stmt.where(Revision.kind == sa.any_(sa.bindparam("kinds", type_=_KINDS)))
        return stmt

    values = {} if kinds is None else {"kinds": list(kinds)}
    return await prepared_count(reader, ("feed", kinds is not None), build, values)


_UUIDS = ARRAY(sa.Uuid(as_uuid=True))
_KINDS = ARRAY(sa.String)
