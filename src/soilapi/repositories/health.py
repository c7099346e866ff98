"""SQL of the readiness check: does PostgreSQL answer, and which migrations has it run?"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


async def ping(conn: AsyncConnection) -> None:
    """Send the cheapest statement there is: an answer means the database serves queries."""
    await conn.execute(sa.text("select 1"))


async def alembic_revisions(conn: AsyncConnection) -> set[str] | None:
    """The revisions alembic recorded, or None when the database was never migrated."""
    exists = await conn.scalar(sa.text("select to_regclass('alembic_version') is not null"))
    if not exists:
        return None
    return set((await conn.scalars(sa.text("select version_num from alembic_version"))).all())
