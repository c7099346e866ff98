"""Walks through relations: the hops of a neighbourhood, and a path made of them."""

from __future__ import annotations

import uuid

import strawberry

from soilapi.graphql import enums, resolve
from soilapi.graphql.limits import MOST_ITEMS
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.types.entity import Entity, Relation
from soilapi.services.graph import MAX_PATH_DEPTH


@strawberry.type(
    description="One hop of a walk through relations: the record it reached, how many "
    "relations from the start, and the relation it followed (with its provenance)."
)
class Hop:
    distance: int = strawberry.field(
        description="Relations between the start and the record: 1 for its direct neighbours."
    )
    direction: enums.Direction = strawberry.field(
        description="OUTGOING when the relation was followed from its subject to its object "
        "(the record reached), INCOMING when from its object back to its subject."
    )
    record_id: strawberry.Private[uuid.UUID]
    relation_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The record reached.")
    async def record(self, info: AnyInfo) -> Entity:
        return await resolve.entity(info, self.record_id)  # type: ignore[no-any-return]

    @strawberry.field(
        description="The relation followed, from a record one hop nearer the start. Where "
        "several reach the record as early, the preferred reading, then the first by ID."
    )
    async def relation(self, info: AnyInfo) -> Relation:
        return await resolve.loaders(info).relation.load(self.relation_id)  # type: ignore[return-value]


@strawberry.type(description="A shortest chain of relations from one record to another.")
class Path:
    length: int = strawberry.field(
        description="Relations in the chain; 0 when both ends are the same record."
    )
    hops: list[Hop] = strawberry.field(
        description="The hops in order from the start; the last one reaches the target.",
        metadata={MOST_ITEMS: MAX_PATH_DEPTH},
    )
