"""SQL for the data version that keys the response cache."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from soilapi.db.cache import DataVersion
from soilapi.db.session import Reader

VERSION_ROW = 1


async def data_version(reader: Reader) -> int:
    """The current data version as the request's snapshot sees it (0 before any write)."""
    result = await reader.execute(
        sa.select(DataVersion.version).where(DataVersion.id == VERSION_ROW)
    )
    found = result.scalar_one_or_none()
    return int(found) if found is not None else 0


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
