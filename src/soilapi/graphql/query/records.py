"""Root fields that reach any record: by global ID, by slug of any kind, and the sources."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import strawberry

from soilapi.errors import InvalidInput
from soilapi.graphql import ids as global_ids
from soilapi.graphql import resolve
from soilapi.graphql.query.args import Slug
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.roots import arg
from soilapi.graphql.types.entity import Entity
from soilapi.graphql.types.node import KINDS_BY_TYPE, Node
from soilapi.graphql.types.values import SourceDocument

MAX_NODES = global_ids.MAX_NODES


async def _load_node(info: AnyInfo, type_name: str, raw_id: Any) -> Any:
    if type_name == "SourceDocument":
        return await resolve.loaders(info).source_document.load(raw_id)
    kind = KINDS_BY_TYPE.get(type_name)
    if kind is None:
        return None
    found = await resolve.entity(info, raw_id)
    return found if found is not None and found.kind == kind else None


@strawberry.type
class RecordQueries:
    @strawberry.field(description="Any record by its global ID; null if there is none.")
    async def node(
        self, info: AnyInfo, id: Annotated[strawberry.ID, arg("A global ID from this API.")]
    ) -> Node | None:
        return await _load_node(info, *global_ids.decode(id))  # type: ignore[no-any-return]

    @strawberry.field(
        description=f"Several records by global ID, in the order asked (at most {MAX_NODES}); "
        "null for IDs with no record."
    )
    async def nodes(
        self, info: AnyInfo, ids: Annotated[list[strawberry.ID], arg("Global IDs.")]
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise InvalidInput(f"`ids` takes at most {MAX_NODES} IDs, got {len(ids)}", field="ids")
        # Reject every bad ID before any I/O starts, so no load outlives the failed request.
        decoded = [global_ids.decode(global_id) for global_id in ids]
        return list(await asyncio.gather(*(_load_node(info, *key) for key in decoded)))

    @strawberry.field(description="Any record by slug, whatever its type.")
    async def entity(self, info: AnyInfo, slug: Slug) -> Entity | None:
        entity_id = await resolve.loaders(info).slug.load(slug)
        return await resolve.entity(info, entity_id)  # type: ignore[no-any-return]


@strawberry.type
class SourceQueries:
    @strawberry.field(description="A source document by key (`000` ... `003`).")
    async def source_document(
        self, info: AnyInfo, key: Annotated[str, arg('Document key, e.g. "002".')]
    ) -> SourceDocument | None:
        docs = await resolve.loaders(info).all_source_documents.load(None)
        return next((doc for doc in docs if doc.key == key), None)  # type: ignore[return-value]

    @strawberry.field(description="The source documents the registry was transcribed from.")
    async def source_documents(self, info: AnyInfo) -> list[SourceDocument]:
        return await resolve.loaders(info).all_source_documents.load(None)  # type: ignore[return-value]
