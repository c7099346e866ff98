"""The `Entity` interface shared by every record, and the generic `Relation` edge."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry
from strawberry import Parent

from soilapi.graphql import enums, ids, resolve
from soilapi.graphql.pagination import After, Before, Connection, First, Last, PageArgs
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.sqlmark import (
    Attached,
    DateOf,
    GlobalIdOf,
    Listed,
    Ref,
    column_field,
    date_field,
    reads,
)
from soilapi.graphql.types.history import (
    changed_by_field,
    relation_time_field,
    revisions_field,
)
from soilapi.graphql.types.node import Node
from soilapi.graphql.types.time import in_force_field
from soilapi.graphql.types.values import (  # noqa: F401 - attached_list names them as strings
    Identifier,
    Name,
    PartialDate,
    Provenance,
    QualityNote,
    Quantity,
    Statement,
    partial,
)
from soilapi.repositories.entities import RelationList
from soilapi.repositories.records import Record
from soilapi.vocab import Direction, Predicate

PredicateList = Annotated[
    list[enums.Predicate] | None,
    strawberry.argument(description="Only relations of these types (default: all)."),
]


def page(first: int | None, after: str | None, last: int | None, before: str | None) -> PageArgs:
    """Bundle the Relay arguments."""
    return PageArgs(first=first, after=after, last=last, before=before)


def relation_spec(predicates: list[Any] | None, direction: Any) -> RelationList:
    """A relation list for the given predicate filter (all predicates when None), following
    relations in `direction` (a value of the GraphQL enum Direction)."""
    chosen = tuple(Predicate(p.value) for p in predicates) if predicates else tuple(Predicate)
    return RelationList(predicates=tuple(sorted(set(chosen))), direction=Direction(direction.value))


# One page per parent: the connections of a whole level come from one call.
Fetch = Callable[[AnyInfo, list[uuid.UUID], PageArgs], Awaitable[list[Connection[Any]]]]


def paged_field(fetch: Fetch, node: str, description: str, module: str, mark: Listed) -> Any:
    """A connection field with the four Relay arguments, answered by `fetch(info, ids, page)`.

    `fetch` answers a whole level at once; the resolver asks for one object, and the
    request's DataLoaders gather a level's calls into one statement. `node` names the item
    type as a string, resolved when the schema is built in `module` (the caller's), so types
    can point at each other in any order. `mark` says which rows the list pages through, for
    the SQL compiler (soilapi.graphql.sqlmark).
    """

    async def resolver(
        root: Parent[Record],
        info: AnyInfo,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Any:
        [found] = await fetch(info, [root.id], page(first, after, last, before))
        return found

    resolver.__annotations__["return"] = f"Connection[{node}]"
    resolver.__module__ = module
    reads(mark)(resolver)
    return strawberry.field(resolver=resolver, description=description)


def attached_list(what: str, node: str, description: str) -> Any:
    """A paged list of rows attached to the record (sources, names, quantities...)."""
    return paged_field(
        lambda info, parent, args: resolve.attached(info, parent, what, args),
        node,
        description,
        __name__,
        Attached(what),
    )


@strawberry.interface(
    description="Fields every record of the registry has: names, dates, provenance and "
    "relations to other records."
)
class Entity(Node):
    slug: str = strawberry.field(
        description="Stable human-readable key, unique across the registry (e.g. `gsp`)."
    )
    name: str = strawberry.field(description="Preferred name, as written in the sources.")
    acronym: str | None = strawberry.field(description="Acronym as written (GSP, ASPir).")
    description: str | None = strawberry.field(description="One or two sentences from the sources.")

    kind = column_field("kind", enums.EntityKind, "What kind of record this is.")
    country = column_field(
        "country_code",
        str | None,
        "ISO 3166-1 alpha-2 country code, where the sources give one.",
    )
    start = date_field(
        "start",
        "When it began: founding or establishment (organisations), creation or signature "
        "(programmes), start (events, agreements), publication (outputs).",
    )
    end = date_field("end", "When it ended or ends, if the sources say.")

    revision: int = strawberry.field(
        description="Its revision number: how many changes its history holds (0: never "
        "revised). A write may say which revision it changes (`expectedRevision`)."
    )
    created_at: datetime.datetime = strawberry.field(
        description="When the record was added to the registry."
    )
    updated_at: datetime.datetime = strawberry.field(
        description="When the record last changed (its creation, if it never did)."
    )
    changed_by = changed_by_field()
    revisions = revisions_field()

    sources = attached_list(
        "sources", "Provenance", "Where this record is stated: document, lines, quote."
    )
    names = attached_list("names", "Name", "Acronyms, aliases and spelling variants.")
    identifiers = attached_list(
        "identifiers", "Identifier", "URLs, catalogue codes and document symbols."
    )
    quantities = attached_list(
        "quantities", "Quantity", "Numbers stated about this record, with qualifiers."
    )
    statements = attached_list(
        "statements", "Statement", "Aims, objectives, provisions, remarks and other text facts."
    )
    quality_notes = attached_list(
        "quality_notes",
        "QualityNote",
        "Known gaps and artefacts of the sources about this record.",
    )

    @strawberry.field(
        description="Typed relations to other records, in either direction: the generic way "
        "to traverse anything the typed fields do not cover."
    )
    async def relations(
        self,
        root: Parent[Record],
        info: AnyInfo,
        direction: Annotated[
            enums.Direction,
            strawberry.argument(
                description="OUTGOING: it is the subject; INCOMING: the object; BOTH: either."
            ),
        ] = enums.Direction.OUTGOING,
        predicates: PredicateList = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Relation]:
        spec = relation_spec(predicates, direction)
        return await resolve.relations(info, root.id, spec, page(first, after, last, before))


@strawberry.type(
    description='A typed relation "subject predicate object", possibly for a period, with '
    "its provenance."
)
class Relation:
    @strawberry.field(description="Opaque global ID; `relationRetire` removes the relation.")
    @reads(GlobalIdOf())
    def id(self, root: Parent[Record]) -> strawberry.ID:
        return strawberry.ID(ids.encode("Relation", root.id))

    predicate: enums.Predicate = strawberry.field(description="The type of relation.")
    ordinal: int | None = strawberry.field(description="Order among siblings (e.g. speakers).")
    note: str | None = strawberry.field(description="Short qualifier (e.g. 'opening remarks').")
    rank: enums.Rank = strawberry.field(description="Whether this is the preferred reading.")
    revision: int = strawberry.field(
        description="Its revision number: how many changes its history holds (0: never revised)."
    )
    created_at = relation_time_field(
        True, "When its first revision was made; null if it was never revised."
    )
    updated_at = relation_time_field(
        False, "When its latest revision was made; null if it was never revised."
    )
    changed_by = changed_by_field()
    revisions = revisions_field()

    @strawberry.field(description="The record the relation starts from.")
    @reads(Ref("subject_id"))
    async def subject(self, root: Parent[Record], info: AnyInfo) -> Entity:
        return await resolve.entity(info, root.subject_id)  # type: ignore[no-any-return]

    @strawberry.field(description="The record the relation points to.")
    @reads(Ref("object_id"))
    async def object(self, root: Parent[Record], info: AnyInfo) -> Entity:
        return await resolve.entity(info, root.object_id)  # type: ignore[no-any-return]

    @strawberry.field(description="When the relation began to hold, if stated.")
    @reads(DateOf("start"))
    def start(self, root: Parent[Record]) -> PartialDate | None:
        return partial(root.start_date, root.start_precision)

    @strawberry.field(description="When the relation stopped holding, if stated.")
    @reads(DateOf("end"))
    def end(self, root: Parent[Record]) -> PartialDate | None:
        return partial(root.end_date, root.end_precision)

    in_force_on = in_force_field(
        "relation", "Whether the relation holds on a day, from its `start` and `end`."
    )

    @strawberry.field(description="Where the relation is stated (one excerpt).")
    def sources(self, root: Parent[Record]) -> list[Provenance]:
        return [root]  # type: ignore[list-item]
