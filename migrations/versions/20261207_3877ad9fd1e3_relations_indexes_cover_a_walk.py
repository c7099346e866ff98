"""relations indexes cover a walk

The two indexes of `relations` by one end and predicate also hold the other end, the rank and
the id, so a walk of the graph reads relations from the index alone (an index-only scan).

Autogenerate does not see this change: alembic compares an index's columns and, of its
options, only `nulls_not_distinct`, not `postgresql_include`. The revision is written by hand,
and tests/test_migrations.py checks the database's INCLUDE columns against the models'.

Revision ID: 3877ad9fd1e3
Revises: 59b433802816
Create Date: 2026-12-07 00:45:11.904292

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "3877ad9fd1e3"
down_revision: str | Sequence[str] | None = "59b433802816"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    for end, other in (("subject", "object"), ("object", "subject")):
        name = f"ix_relations_{end}_predicate"
        op.drop_index(name, table_name="relations")
        op.create_index(
            name,
            "relations",
            [f"{end}_id", "predicate"],
            postgresql_include=[f"{other}_id", "rank", "id"],
        )


def downgrade() -> None:
    """Downgrade schema."""
    for end in ("subject", "object"):
        name = f"ix_relations_{end}_predicate"
        op.drop_index(name, table_name="relations")
        op.create_index(name, "relations", [f"{end}_id", "predicate"])
