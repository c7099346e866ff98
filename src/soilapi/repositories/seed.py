"""SQL of the seed loader: whole registry tables read, and rows written, by primary key.

The loader decides what changes (seed/loader.py); these functions only carry it out, in the
caller's transaction. Tables are named rather than passed so the loader needs no SQLAlchemy.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from soilapi.db import models

Row = dict[str, Any]


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
