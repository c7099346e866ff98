"""Root fields that walk the relations around a record: its neighbourhood, and paths.

They are read by the resolvers (the SQL compiler does not plan them, so a request that asks
for one runs through graphql-core's executor): one recursive statement per walk
(soilapi.repositories.graph), then the records and relations reached, one statement each.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated

import strawberry

from soilapi.errors import InvalidInput
from soilapi.graphql import enums, resolve
from soilapi.graphql import ids as global_ids
from soilapi.graphql.limits import WALK
from soilapi.graphql.pagination import After, Before, Connection, First, Last, PageArgs, window
from soilapi.graphql.pagination import connection as make_connection
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.roots import arg
from soilapi.graphql.types.graph import Hop, Path
from soilapi.graphql.types.node import KINDS_BY_TYPE
from soilapi.repositories.graph import Reached, Walk
from soilapi.services import graph
from soilapi.vocab import Direction, EntityKind, Predicate

Depth = Annotated[
    int, arg(f"How many relations away records may be: 1 (direct neighbours) to {graph.MAX_DEPTH}.")
]
MaxDepth = Annotated[
    int,
    arg(f"The longest chain to look for, in relations: 1 to {graph.MAX_PATH_DEPTH}."),
]
Walked = Annotated[
    enums.Direction,
    arg(
        "Which relations to follow from each record: OUTGOING (it is the subject), INCOMING "
        "(it is the object) or BOTH."
    ),
]
Predicates = Annotated[
    list[enums.Predicate] | None,
    arg("Follow only relations of these types (1 to 50; default: every type)."),
]
Kinds = Annotated[
    list[enums.EntityKind] | None,
    arg(
        "List only records of these kinds (1 to 50; default: every kind). The walk still "
        "passes through records of other kinds."
    ),
]


def _record(global_id: str, field: str) -> tuple[uuid.UUID, EntityKind] | None:
    """The id and kind a global ID names; None for a type that is no record's."""
    type_name, raw = global_ids.decode(global_id)
    if type_name == "SourceDocument":
        raise InvalidInput(
            f"`{field}` is a source document's ID; relations link records: pass a record's ID",
            field=field,
        )
    kind = KINDS_BY_TYPE.get(type_name)
    return None if kind is None else (raw, kind)


def _walk(
    direction: enums.Direction, predicates: list[enums.Predicate] | None
) -> tuple[Direction, list[Predicate] | None]:
    chosen = [Predicate(p.value) for p in predicates] if predicates is not None else None
    return Direction(direction.value), chosen


def _hop(reached: Reached) -> Hop:
    direction = enums.Direction.OUTGOING if reached.outgoing else enums.Direction.INCOMING
    return Hop(
        distance=reached.distance,
        direction=direction,
        record_id=reached.node,
        relation_id=reached.relation,
    )


def _tag(start: uuid.UUID, walk: Walk, kinds: tuple[EntityKind, ...]) -> str:
    """Cursor tag of a neighbourhood: a cursor only fits the same walk from the same record."""
    key = f"{start}|{walk.direction}|{walk.depth}|{','.join(walk.predicates)}|{','.join(kinds)}"
    digest = hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:12]
    return f"hood:{digest}"


@strawberry.type
class GraphQueries:
    @strawberry.field(
        description="The records within `depth` relations of a record, each once, nearest "
        "first (then by name), with the shortest distance and the relation that first reached "
        "it; null when the ID names no record.",
        metadata={WALK: "depth"},
    )
    async def neighbourhood(
        self,
        info: AnyInfo,
        id: Annotated[strawberry.ID, arg("Global ID of the record to start from.")],
        depth: Depth = 1,
        direction: Walked = enums.Direction.BOTH,
        predicates: Predicates = None,
        kinds: Kinds = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Hop] | None:
        start = _record(id, "id")
        walk = graph.walk(*_walk(direction, predicates), depth)
        listed = graph.kinds([EntityKind(k.value) for k in kinds] if kinds is not None else None)
        if start is None:
            return None
        tag = _tag(start[0], walk, listed)
        at = window(PageArgs(first, after, last, before), tag, resolve.page_limit(info))
        found = await graph.neighbourhood(info.context.reader, walk, start, listed, at)
        if found is None:
            return None
        total = found.total

        async def count() -> int:
            return total

        hops = [_hop(row) for row in found.page.rows]
        return make_connection(tag, found.page, hops, count)

    @strawberry.field(
        description="A shortest chain of relations from one record to another, of at most "
        "`maxDepth` relations; null when there is none that short, or an ID names no record.",
        metadata={WALK: "maxDepth"},
    )
    async def path(
        self,
        info: AnyInfo,
        from_: Annotated[
            strawberry.ID,
            strawberry.argument(name="from", description="Global ID of the record to start from."),
        ],
        to: Annotated[strawberry.ID, arg("Global ID of the record to reach.")],
        max_depth: MaxDepth = graph.DEFAULT_PATH_DEPTH,
        direction: Walked = enums.Direction.BOTH,
        predicates: Predicates = None,
    ) -> Path | None:
        start, target = _record(from_, "from"), _record(to, "to")
        walk = graph.walk(
            *_walk(direction, predicates), max_depth, field="maxDepth", most=graph.MAX_PATH_DEPTH
        )
        if start is None or target is None:
            return None
        steps = await graph.path(info.context.reader, walk, start, target)
        if steps is None:
            return None
        return Path(length=len(steps), hops=[_hop(step) for step in steps])
