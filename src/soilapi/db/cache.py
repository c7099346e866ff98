"""The data version: one counter that every write to the registry bumps.

Cached responses are keyed by it, so a server process can tell from one cheap read, inside
the request's own snapshot, whether an answer it remembers is still what the data says.
"""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from soilapi.db.base import Base


class DataVersion(Base):
    """A single row (id 1) holding the current version of the registry's data."""

    __tablename__ = "data_versions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.BigInteger)
