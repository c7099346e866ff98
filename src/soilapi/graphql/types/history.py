"""A record's history: its revisions, each a field-level diff with who, when and why.

A revision is a row of `revisions` (soilapi.db.history), written only by
soilapi.repositories.history.record in the writer's own transaction. The same type serves a
record's `revisions` and the change feed (`changes`, soilapi.graphql.query.history): a change
is one revision.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Parent
from strawberry.scalars import JSON

from soilapi import vocab
from soilapi.graphql import enums, resolve
from soilapi.graphql import ids as global_ids
from soilapi.graphql.pagination import After, Before, Connection, First, Last, PageArgs
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.sqlmark import (
    DiffOf,
    LatestRevision,
    ProvenanceOf,
    Ref,
    Revisions,
    RevisionTime,
    RowRef,
    SameRow,
    TargetOf,
    column_field,
    reads,
)
from soilapi.graphql.types.node import TYPE_NAMES, Node
from soilapi.graphql.types.values import LineRange
from soilapi.repositories.json_query import RELATION_ROWS
from soilapi.repositories.records import Record

if TYPE_CHECKING:
    from soilapi.graphql.types.entity import Relation

RELATION_TYPE = "Relation"
# The type name of a revision's `target` by its `kind`: the record's type, as `id` gives it
# while it lives (a relation's is `Relation`, which `node(id:)` does not look up).
TARGET_TYPES = (
    *((kind.value, name) for kind, name in TYPE_NAMES.items()),
    (vocab.RELATION_KIND, RELATION_TYPE),
)
_TARGET_TYPES = dict(TARGET_TYPES)


def target_id(kind: str, target: Any) -> strawberry.ID:
    """The global ID of a revision's record, valid after the record is retired."""
    return strawberry.ID(global_ids.encode(_TARGET_TYPES[kind], target))


@strawberry.type(description="Who made a change, and in what capacity.")
class ChangeActor:
    actor: str = strawberry.field(
        description='"key:<prefix>" for an API key (its public prefix), or "seed:<file>" for '
        "the seed loader and the data file it read."
    )
    # Read off the revision's row itself (`changedBy` answers the row: sqlmark.SameRow).
    role = column_field("actor_role", enums.ActorRole, "The key's role, or SEED.")


@strawberry.type(
    description="One field's change: its value before and after, as JSON (null when it had "
    'none). Dates are written to their precision ("2015", "2015-06", "2015-06-01"), a '
    "reference as the referenced record's id, numbers as JSON numbers."
)
class FieldChange:
    field: str = strawberry.field(
        description="The field, in snake_case as the seed data and a source's `property` name "
        "it (`list_as_of`); a quantity or statement added or removed is `quantities` or "
        "`statements`."
    )
    before: JSON | None = strawberry.field(
        description="The value before the change (null: none, or a CREATE)."
    )
    after: JSON | None = strawberry.field(
        description="The value after the change (null: removed, or a RETIRE)."
    )


@strawberry.type(
    description="Where a change's fact comes from: a source document's lines and quote, a web "
    "page read on a day, or the contributor's own statement. Only the fields of its form are "
    "set."
)
class ChangeSource:
    document: str | None = strawberry.field(
        description="Key of the source document (as `sourceDocument(key:)` takes it)."
    )
    lines: LineRange | None = strawberry.field(description="The document's lines it cites.")
    quote: str | None = strawberry.field(description="The verbatim excerpt that backs it.")
    evidence: enums.Evidence | None = strawberry.field(
        description="How the fact follows from the source."
    )
    url: str | None = strawberry.field(description="The web page it was read on.")
    title: str | None = strawberry.field(description="That page's title.")
    read_on: datetime.date | None = strawberry.field(description="When the page was read.")
    stated: bool = strawberry.field(
        description="True when the contributor states the fact itself (its own statement)."
    )


def change_source(provenance: dict[str, Any] | None) -> ChangeSource | None:
    """The typed form of a revision's `provenance` JSON, as the write pipeline stores it
    (soilapi.services.writes.Source: `document`, `line_start`, `line_end`, `quote`,
    `evidence`, `url`, `title`, `read_on`, `stated`); None when the change gave none."""
    if not provenance:
        return None
    evidence = provenance.get("evidence")
    read_on = provenance.get("read_on")
    start, end = provenance.get("line_start"), provenance.get("line_end")
    return ChangeSource(
        document=provenance.get("document"),
        lines=None if start is None else LineRange(start=start, end=end or start),
        quote=provenance.get("quote"),
        evidence=None if evidence is None else vocab.Evidence(evidence),
        url=provenance.get("url"),
        title=provenance.get("title"),
        read_on=None if read_on is None else datetime.date.fromisoformat(read_on),
        stated=bool(provenance.get("stated", False)),
    )


@strawberry.type(
    description="One change to one record or relation: what changed, field by field, who "
    "made it, when, and on what source. A record's revisions are numbered from 1; the change "
    "feed lists every revision in the order they were committed."
)
class Revision:
    number: int = strawberry.field(
        description="The revision's number among its record's, from 1: the record's "
        "`revision` after this change."
    )
    operation: enums.Operation = strawberry.field(description="CREATE, UPDATE or RETIRE.")
    kind: enums.RecordKind = strawberry.field(
        description="The kind of record changed, or RELATION."
    )
    approved_by: str | None = strawberry.field(
        description="The curator who approved the proposal this change applied (as `actor`), "
        "or null when its author could make it."
    )
    request_id: str | None = strawberry.field(
        description="The `X-Request-Id` of the request that made it (null for the seed)."
    )
    comment: str | None = strawberry.field(description="Why, in the author's words.")

    changed_at = column_field("created_at", datetime.datetime, "When the change was committed.")

    @strawberry.field(description="Who made the change.")
    @reads(SameRow())
    def changed_by(self, root: Parent[Record]) -> ChangeActor:
        return root  # type: ignore[return-value] # ChangeActor reads the row's own columns

    @strawberry.field(description="What the change read its facts from; null if not given.")
    @reads(ProvenanceOf())
    def provenance(self, root: Parent[Record]) -> ChangeSource | None:
        return change_source(root.provenance)

    @strawberry.field(
        description="The fields it changed, in the order written: each with its value before "
        "and after."
    )
    @reads(DiffOf())
    def diff(self, root: Parent[Record]) -> list[FieldChange]:
        return [
            FieldChange(field=name, before=values[0], after=values[1])
            for name, values in root.diff.items()
        ]

    @strawberry.field(
        description="The global ID of the record or relation changed: the `id` it has while "
        "it lives, and still valid after it is retired (for a mirror to delete by)."
    )
    @reads(TargetOf(TARGET_TYPES))
    def target(self, root: Parent[Record]) -> strawberry.ID:
        return target_id(root.kind, root.target_id)

    @strawberry.field(
        description="The record changed as it is now; null once retired, and for relations "
        "(see `relation`)."
    )
    @reads(Ref("target_id"))  # a relation's id is no record's: null there on both engines
    async def record(self, root: Parent[Record], info: AnyInfo) -> Node | None:
        if root.kind == vocab.RELATION_KIND:
            return None
        return await resolve.entity(info, root.target_id)  # type: ignore[no-any-return]

    @strawberry.field(
        description="The relation changed as it is now; null once retired, and for records."
    )
    @reads(RowRef("target_id", RELATION_ROWS))
    async def relation(
        self, root: Parent[Record], info: AnyInfo
    ) -> Annotated[Relation, strawberry.lazy("soilapi.graphql.types.entity")] | None:
        if root.kind != vocab.RELATION_KIND:
            return None
        return await resolve.relation(info, root.target_id)  # type: ignore[no-any-return]


def revisions_field() -> Any:
    """A record's (or relation's) `revisions`: newest first, a page per record, one statement
    per level of a query whatever its records."""

    async def resolver(
        root: Parent[Record],
        info: AnyInfo,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Revision]:
        args = PageArgs(first=first, after=after, last=last, before=before)
        return await resolve.revisions(info, root.id, args)

    reads(Revisions())(resolver)

    return strawberry.field(
        resolver=resolver,
        description="Its revisions, newest first: every change recorded, with its diff, "
        "author and source.",
    )


def changed_by_field() -> Any:
    """Who made a record's latest revision (null if never revised)."""

    @reads(LatestRevision())
    async def resolver(root: Parent[Record], info: AnyInfo) -> ChangeActor | None:
        latest = await resolve.latest_revision(info, root.id)
        # ChangeActor reads the revision's own columns.
        return None if latest is None else latest.revision  # type: ignore[return-value]

    return strawberry.field(
        resolver=resolver,
        description="Who made its latest revision; null if it was never revised.",
    )


def relation_time_field(first: bool, description: str) -> Any:
    """A relation's first or latest revision's time (relations keep no timestamps of their
    own: their history has them)."""

    @reads(RevisionTime(first))
    async def resolver(root: Parent[Record], info: AnyInfo) -> datetime.datetime | None:
        latest = await resolve.latest_revision(info, root.id)
        if latest is None:
            return None
        return latest.first_at if first else latest.revision.created_at

    return strawberry.field(resolver=resolver, description=description)
