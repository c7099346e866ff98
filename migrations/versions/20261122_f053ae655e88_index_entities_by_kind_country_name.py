"""index entities by kind, country, name

Revision ID: f053ae655e88
Revises: 730fadd6e541
Create Date: 2026-11-22 09:48:55.941218

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "f053ae655e88"
down_revision: str | Sequence[str] | None = "730fadd6e541"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index(
        "ix_entities_kind_country_code_name_id",
        "entities",
        ["kind", "country_code", "name", "id"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_entities_kind_country_code_name_id", table_name="entities")
