"""relations carry their ends' names and kinds, for relation lists' first pages

Revision ID: 9d013874c7c6
Revises: 92fc8c388ed7
Create Date: 2026-12-07 21:51:30.896598

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "9d013874c7c6"
down_revision: str | Sequence[str] | None = "92fc8c388ed7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The kinds a record may be, as Entity.kind stores them (a VARCHAR, no PostgreSQL type).
KIND = sa.Enum(
    "organization",
    "programme",
    "initiative",
    "facility_block",
    "facility",
    "strategic_objective",
    "task_force",
    "alliance",
    "partner_agreement",
    "agreement_instrument",
    "output",
    "event",
    "person",
    "post",
    "document",
    "citation",
    "place",
    "sdg_target",
    name="entitykind",
    native_enum=False,
    length=40,
)

# A relation's ends, named: what a new or re-pointed relation copies from `entities`.
NAME_ENDS = """
CREATE FUNCTION relation_ends_named() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    SELECT e.name, e.kind INTO NEW.subject_name, NEW.subject_kind
      FROM entities AS e WHERE e.id = NEW.subject_id;
    SELECT e.name, e.kind INTO NEW.object_name, NEW.object_kind
      FROM entities AS e WHERE e.id = NEW.object_id;
    RETURN NEW;
END
$body$"""

# A renamed record (or one of another kind) renames itself in every relation of its.
RENAME_ENDS = """
CREATE FUNCTION relation_ends_renamed() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    UPDATE relations SET subject_name = NEW.name, subject_kind = NEW.kind
     WHERE subject_id = NEW.id;
    UPDATE relations SET object_name = NEW.name, object_kind = NEW.kind
     WHERE object_id = NEW.id;
    RETURN NULL;
END
$body$"""

COLUMNS = ("subject_name", "subject_kind", "object_name", "object_kind")


def _indexes(subject: list[str], object_: list[str]) -> None:
    """Recreate the two end indexes with these INCLUDE columns."""
    op.drop_index("ix_relations_subject_predicate", table_name="relations")
    op.drop_index("ix_relations_object_predicate", table_name="relations")
    op.create_index(
        "ix_relations_subject_predicate",
        "relations",
        ["subject_id", "predicate"],
        postgresql_include=subject,
    )
    op.create_index(
        "ix_relations_object_predicate",
        "relations",
        ["object_id", "predicate"],
        postgresql_include=object_,
    )


def upgrade() -> None:
    """Upgrade schema."""
    # Added nullable, filled from `entities`, then made NOT NULL: every relation has both ends.
    for name in COLUMNS:
        kind = KIND if name.endswith("_kind") else sa.Text()
        op.add_column(
            "relations",
            sa.Column(name, kind, server_default=sa.FetchedValue(), nullable=True),
        )
    op.execute(
        """UPDATE relations AS r
              SET subject_name = s.name, subject_kind = s.kind,
                  object_name = o.name, object_kind = o.kind
             FROM entities AS s, entities AS o
            WHERE s.id = r.subject_id AND o.id = r.object_id"""
    )
    for name in COLUMNS:
        op.alter_column("relations", name, nullable=False)
    op.execute(NAME_ENDS)
    op.execute(
        "CREATE TRIGGER relation_ends_named BEFORE INSERT OR UPDATE OF subject_id, object_id "
        "ON relations FOR EACH ROW EXECUTE FUNCTION relation_ends_named()"
    )
    op.execute(RENAME_ENDS)
    op.execute(
        "CREATE TRIGGER relation_ends_renamed AFTER UPDATE OF name, kind ON entities "
        "FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.kind IS DISTINCT FROM "
        "NEW.kind) EXECUTE FUNCTION relation_ends_renamed()"
    )
    _indexes(
        ["object_id", "rank", "id", "ordinal", "object_name", "object_kind"],
        ["subject_id", "rank", "id", "ordinal", "subject_name", "subject_kind"],
    )


def downgrade() -> None:
    """Downgrade schema."""
    _indexes(["object_id", "rank", "id"], ["subject_id", "rank", "id"])
    op.execute("DROP TRIGGER relation_ends_renamed ON entities")
    op.execute("DROP FUNCTION relation_ends_renamed()")
    op.execute("DROP TRIGGER relation_ends_named ON relations")
    op.execute("DROP FUNCTION relation_ends_named()")
    for name in reversed(COLUMNS):
        op.drop_column("relations", name)
