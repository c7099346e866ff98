"""data version for the response cache

Revision ID: 730fadd6e541
Revises: 28a92fdb5d2b
Create Date: 2026-11-22 08:08:29.872661

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "730fadd6e541"
down_revision: str | Sequence[str] | None = "28a92fdb5d2b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "data_versions",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_versions")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("data_versions")
