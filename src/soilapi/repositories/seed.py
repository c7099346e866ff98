"""SQL of the seed loader: whole registry tables read, and rows written, by primary key.

The loader decides what changes (seed/loader.py); these functions only carry it out, in the
caller's transaction. Tables are named rather than passed so the loader needs no SQLAlchemy.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection

from soilapi.db import models
from soilapi.db.cache import DataVersion
from soilapi.db.history import Revision
from soilapi.repositories.cache import VERSION_ROW
from soilapi.vocab import Operation

Row = dict[str, Any]
# A field of a record or relation: (its id, the field's name in revision diffs).
Owned = tuple[uuid.UUID, str]


def _table(name: str) -> sa.Table:
    return models.Base.metadata.tables[name]


async def rows_by_id(conn: AsyncConnection, table: str) -> dict[uuid.UUID, Row]:
    """Every row of `table`, keyed by its id."""
    result = await conn.execute(sa.select(_table(table)))
    return {row.id: dict(row._mapping) for row in result}


async def delete(conn: AsyncConnection, table: str, ids: Sequence[uuid.UUID]) -> None:
    """Delete the rows of `table` with these ids."""
    target = _table(table)
    await conn.execute(sa.delete(target).where(target.c.id.in_(ids)))


async def insert(conn: AsyncConnection, table: str, rows: Sequence[Row]) -> None:
    """Insert `rows` into `table` in one executemany."""
    await conn.execute(sa.insert(_table(table)), list(rows))


async def update(conn: AsyncConnection, table: str, rows: Iterable[Row]) -> None:
    """Overwrite each row of `table` whose id is in `rows` with its new values."""
    target = _table(table)
    for row in rows:
        await conn.execute(sa.update(target).where(target.c.id == row["id"]).values(row))


async def analyze(conn: AsyncConnection, tables: Iterable[str]) -> None:
    """Refresh PostgreSQL's statistics of `tables`, so plans fit their new size at once."""
    for name in tables:
        await conn.execute(sa.text(f'ANALYZE "{_table(name).name}"'))


async def hold_writers(conn: AsyncConnection) -> None:
    """Take the data version row's lock until the transaction ends, without changing it.

    Every writer bumps that row (soilapi.repositories.history.record), so a contributor's
    write cannot land between the loader's reading of who owns what and its own writes; and a
    run that finds nothing to change still writes nothing.
    """
    await conn.execute(
        sa.select(DataVersion.id).where(DataVersion.id == VERSION_ROW).with_for_update()
    )


async def ownership(conn: AsyncConnection) -> tuple[dict[uuid.UUID, str], dict[Owned, str]]:
    """Who made each record and relation, and who last changed each of its fields.

    Returns (the actor of each target's latest CREATE revision, the actor of the latest
    revision whose diff has the field, per (target, field)). Two statements, whatever the
    history's length: PostgreSQL picks the latest rows (DISTINCT ON) and unpacks the diffs.
    """
    created = await conn.execute(
        sa.select(Revision.target_id, Revision.actor)
        .where(Revision.operation == Operation.CREATE)
        .ext(distinct_on(Revision.target_id))
        .order_by(Revision.target_id, Revision.id.desc())
    )
    field = sa.func.jsonb_object_keys(Revision.diff).table_valued("value").render_derived()
    touched = await conn.execute(
        sa.select(Revision.target_id, field.c.value, Revision.actor)
        .select_from(Revision)
        .join(field, sa.true())
        .ext(distinct_on(Revision.target_id, field.c.value))
        .order_by(Revision.target_id, field.c.value, Revision.id.desc())
    )
    return (
        {row[0]: row[1] for row in created},
        {(row[0], row[1]): row[2] for row in touched},
    )
