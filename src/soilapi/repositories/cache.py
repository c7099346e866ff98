"""SQL for the data version that keys the response cache."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import asyncpg, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from soilapi.db.cache import DataVersion
from soilapi.db.probe import SharedRead, plain_dsn
from soilapi.db.session import Reader

VERSION_ROW = 1
# The version, 0 before any write: read in a request's snapshot, or alone by the probe.
_CURRENT = sa.select(sa.func.coalesce(sa.func.max(DataVersion.version), 0)).where(
    DataVersion.id == VERSION_ROW
)


async def data_version(reader: Reader) -> int:
    """The current data version as the request's snapshot sees it (0 before any write)."""
    return int((await reader.execute(_CURRENT)).scalar_one())


def version_probe(engine: AsyncEngine, connect: dict[str, Any]) -> SharedRead:
    """Reads of the current data version outside any request (0 before any write).

    Enough to serve a remembered answer: it was right at that version, and the version is
    current. An answer computed now is stored under the version its own snapshot read.
    """
    dialect = asyncpg.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's own gap
    sql = str(_CURRENT.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    return SharedRead(plain_dsn(engine), sql, connect)


async def bump_data_version(conn: AsyncConnection) -> int:
    """Mark the data as changed, in the writer's transaction; returns the new version."""
    stmt = (
        insert(DataVersion)
        .values(id=VERSION_ROW, version=1)
        .on_conflict_do_update(
            index_elements=[DataVersion.id], set_={"version": DataVersion.version + 1}
        )
        .returning(DataVersion.version)
    )
    return int((await conn.execute(stmt)).scalar_one())
