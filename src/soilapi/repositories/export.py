"""SQL of the full dump: every record and relation, streamed from one read-only snapshot.

The rows come through server-side cursors (`AsyncConnection.stream`), a few hundred at a time,
so a dump of any size holds one batch in memory. Each record's sub-facts (names, identifiers,
sources, quantities, statements, quality notes) are aggregated into JSON by PostgreSQL in the
same statement, each excerpt with its document's key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from soilapi.db import models
from soilapi.db.history import Revision
from soilapi.db.session import read_only

Row = dict[str, Any]
BATCH = 500  # rows per fetch from the server-side cursor
_PROVENANCE = ["id", "document_id", "line_start", "line_end", "quote", "evidence"]


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection whose every read sees one snapshot (REPEATABLE READ, READ ONLY)."""
    async with read_only(engine).connect() as conn, conn.begin():
        yield conn


async def last_revision(conn: AsyncConnection) -> int:
    """The id of the latest revision the snapshot sees (0 when there is none)."""
    stmt = sa.select(sa.func.coalesce(sa.func.max(Revision.id), 0))
    return int((await conn.execute(stmt)).scalar_one())


async def size(conn: AsyncConnection) -> int:
    """Records plus relations in the snapshot: the dump's length, for its progress bar."""
    entities = sa.select(sa.func.count()).select_from(models.Entity.__table__).scalar_subquery()
    relations = sa.select(sa.func.count()).select_from(models.Relation.__table__)
    return int((await conn.execute(sa.select(entities + relations.scalar_subquery()))).scalar_one())


def _source(row: Any) -> Any:
    """An inline excerpt as JSON: its document's key (and URL for a web page), lines, quote."""
    doc = models.SourceDocument.__table__.alias("sd")
    lines = sa.func.jsonb_build_object("start", row.c.line_start, "end", row.c.line_end)
    excerpt = sa.func.jsonb_build_object(
        "document", doc.c.key, "url", doc.c.url, "readOn", doc.c.read_on, "lines", lines,
        "quote", row.c.quote, "evidence", row.c.evidence,
    )  # fmt: skip
    return (
        sa.select(sa.func.jsonb_strip_nulls(excerpt))
        .where(doc.c.id == row.c.document_id)
        .scalar_subquery()
    )


def _items(table: sa.Table, owner: str, entity: Any) -> Any:
    """A record's rows of one sub-fact table as a JSON array, in a stable order."""
    row = table.alias("x")
    item = sa.func.to_jsonb(row.table_valued()).op("-")(
        sa.cast(sa.literal([*_PROVENANCE, owner]), sa.ARRAY(sa.Text))
    )
    item = item.op("||")(sa.func.jsonb_build_object("source", _source(row)))
    found = sa.func.jsonb_agg(aggregate_order_by(item, row.c.id))
    return (
        sa.select(sa.func.coalesce(found, sa.text("'[]'::jsonb")))
        .where(row.c[owner] == entity.c.id)
        .scalar_subquery()
    )


SUBFACT_TABLES = {
    "names": ("entity_names", "entity_id"),
    "identifiers": ("entity_identifiers", "entity_id"),
    "sources": ("entity_sources", "entity_id"),
    "quantities": ("quantities", "subject_id"),
    "statements": ("statements", "subject_id"),
    "qualityNotes": ("quality_notes", "subject_id"),
}


def _records() -> sa.Select[Any]:
    entity = models.Entity.__table__.alias("e")
    tables = models.Base.metadata.tables
    details = sa.union_all(
        *(
            sa.select(
                table.c.id, sa.func.to_jsonb(table.table_valued()).op("-")("id").label("attrs")
            )
            for table in (tables[str(m.__tablename__)] for m in models.DETAIL_MODELS.values())
        )
    ).subquery("d")
    lists = [
        _items(tables[table], owner, entity).label(name)
        for name, (table, owner) in SUBFACT_TABLES.items()
    ]
    return (
        sa.select(entity, details.c.attrs, *lists)
        .join_from(entity, details, details.c.id == entity.c.id)
        .order_by(entity.c.id)
    )


def _relations() -> sa.Select[Any]:
    relation = models.Relation.__table__.alias("r")
    # The kinds of its ends are the relation's own (`subject_kind`, `object_kind`).
    return sa.select(relation, _source(relation).label("source")).order_by(relation.c.id)


async def _stream(conn: AsyncConnection, stmt: sa.Select[Any]) -> AsyncIterator[Row]:
    result = await conn.stream(stmt.execution_options(yield_per=BATCH))
    async for row in result.mappings():
        yield dict(row)


def records(conn: AsyncConnection) -> AsyncIterator[Row]:
    """Every record with its detail row (`attrs`, JSON) and its sub-facts (JSON arrays)."""
    return _stream(conn, _records())


def relations(conn: AsyncConnection) -> AsyncIterator[Row]:
    """Every relation with the kinds of its two ends and its excerpt (`source`, JSON)."""
    return _stream(conn, _relations())
