"""SQL of the history: revisions written in the writer's transaction, read back per record.

`record` is the only way a revision is written. It bumps the data version first: that
UPDATE locks the version row until the transaction ends, so writers take their revision ids
one transaction after another, in commit order. A reader of the feed who holds cursor N can
therefore never later see a revision numbered below N appear (tests/test_feed_order.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from soilapi.db.history import Revision
from soilapi.db.models import Entity, Relation
from soilapi.repositories.cache import bump_data_version
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


def _table_of(kind: str) -> Any:
    return Relation if kind == "relation" else Entity


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


async def current_revisions(
    conn: AsyncConnection, ids: Sequence[uuid.UUID], *, lock: bool = False
) -> dict[uuid.UUID, int]:
    """The revision number of each live record or relation among `ids`; `lock` takes each
    row's lock until the transaction ends, so a writer that checked `expectedRevision` keeps
    its answer true until it commits."""
    found: dict[uuid.UUID, int] = {}
    for model in (Entity, Relation):
        stmt = sa.select(model.id, model.revision).where(model.id.in_(ids))
        if lock:
            stmt = stmt.with_for_update(of=model.__table__)
        found.update({row[0]: row[1] for row in await conn.execute(stmt)})
    return found
