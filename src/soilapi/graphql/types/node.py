"""The Relay `Node` interface and the mapping from record kinds to GraphQL type names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from strawberry import Parent

from soilapi.graphql import ids
from soilapi.graphql.sqlmark import GlobalIdOf, reads
from soilapi.repositories.records import entity_kind, is_source_document
from soilapi.vocab import EntityKind

# A kind's GraphQL type is its name in PascalCase (partner_agreement: PartnerAgreement), the rule
# its sort enum follows too (soilapi.graphql.enums).
TYPE_NAMES: dict[EntityKind, str] = {
    kind: "".join(word.capitalize() for word in kind.value.split("_")) for kind in EntityKind
}
KINDS_BY_TYPE = {name: kind for kind, name in TYPE_NAMES.items()}
T = TypeVar("T")
# Every record type, in declaration order, as `entity_type` declares them: the schema's types.
ENTITY_TYPES: list[type] = []


def type_name(obj: Any) -> str:
    """GraphQL type name of a record."""
    if is_source_document(obj):
        return "SourceDocument"
    return TYPE_NAMES[obj.kind]


def entity_type(description: str) -> Callable[[type[T]], type[T]]:
    """`strawberry.type` for a record type, whose kind TYPE_NAMES gives by the class name:
    its `is_type_of` (how an interface finds the type of a record) checks that kind."""

    def declare(cls: type[T]) -> type[T]:
        kind = KINDS_BY_TYPE[cls.__name__]

        def is_type_of(_cls: type, obj: Any, _info: Any) -> bool:
            return entity_kind(obj) is kind

        cls.is_type_of = classmethod(is_type_of)  # type: ignore[attr-defined]
        declared = strawberry.type(cls, description=description)
        ENTITY_TYPES.append(declared)
        return declared

    return declare


@strawberry.interface(
    description="Any record with a stable global ID; fetch it again with `node(id:)`."
)
class Node:
    @strawberry.field(description="Opaque global ID. Store it, never parse it.")
    @reads(GlobalIdOf())
    def id(self, root: Parent[Any]) -> strawberry.ID:
        return strawberry.ID(ids.encode(type_name(root), root.id))
