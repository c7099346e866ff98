"""The rate limiter's table: one token bucket per client, shared by every server process."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from soilapi.db.base import Base


class RateLimitBucket(Base):
    """A client's bucket as of `updated_at`; the refill since then is computed on the next charge.

    Keeping the state in PostgreSQL lets any number of API processes share it, and one
    UPSERT per request updates it atomically.
    """

    __tablename__ = "rate_limit_buckets"

    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(sa.Double)
    # RETURNING sees only the new row, so the UPSERT records its decision here.
    allowed: Mapped[bool]
    # No index on updated_at: every request rewrites it, and an unindexed column keeps those
    # updates HOT; pruning idle buckets now and then can afford a scan.
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
