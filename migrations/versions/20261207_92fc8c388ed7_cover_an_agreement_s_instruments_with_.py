"""cover an agreement's instruments with their type and FTE

Revision ID: 92fc8c388ed7
Revises: 554f4775c90b
Create Date: 2026-12-07 14:26:07.888573

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "92fc8c388ed7"
down_revision: str | Sequence[str] | None = "554f4775c90b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # The plain index on agreement_id gives way to one that covers the instruments' type and
    # FTE, so a list's facets and totals read them without visiting the table; the other
    # indexes leading with agreement_id still serve lookups by agreement.
    op.drop_index(op.f("ix_agreement_instruments_agreement_id"), table_name="agreement_instruments")
    op.create_index(
        "ix_agreement_instruments_agreement_id_totals",
        "agreement_instruments",
        ["agreement_id"],
        unique=False,
        postgresql_include=["instrument_type", "fte"],
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(
        "ix_agreement_instruments_agreement_id_totals",
        table_name="agreement_instruments",
        postgresql_include=["instrument_type", "fte"],
    )
    op.create_index(
        op.f("ix_agreement_instruments_agreement_id"),
        "agreement_instruments",
        ["agreement_id"],
        unique=False,
    )
