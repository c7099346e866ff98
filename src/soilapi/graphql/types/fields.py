"""The field factories of record types: each traversal is one declaration.

A factory names the relation (or foreign key, or attached rows) and the item type; the
resolver, its batching, its pages and what the SQL compiler reads come with it. Item types are
named as strings, resolved when the schema is built in soilapi.graphql.types.registry, which
holds every record type, so types in different modules can point at each other.
"""

import uuid
from dataclasses import replace
from typing import Any

import strawberry
from strawberry import Parent

from soilapi.graphql import resolve
from soilapi.graphql.pagination import After, Before, First, Last
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.sqlmark import (
    Children,
    FirstRelated,
    Ref,
    Related,
    RelationRows,
    reads,
)
from soilapi.graphql.types.entity import page, paged_field
from soilapi.graphql.types.node import KINDS_BY_TYPE
from soilapi.repositories.entities import ChildList, RelationList
from soilapi.repositories.records import Record
from soilapi.vocab import Direction
from soilapi.vocab import Predicate as P

# Where the item types named as strings are resolved: the module that holds them all.
TYPES_MODULE = "soilapi.graphql.types.registry"


def outgoing(*predicates: P) -> RelationList:
    return RelationList(predicates=predicates, direction=Direction.OUTGOING)


def incoming(*predicates: P) -> RelationList:
    return RelationList(predicates=predicates, direction=Direction.INCOMING)


def typed(spec: RelationList, node: str) -> RelationList:
    """The relation list keeping only records of the item type `node` (any for `Entity`):
    the field's GraphQL type decides which kinds both engines return."""
    kind = KINDS_BY_TYPE.get(node)
    return replace(spec, kinds=(kind,) if kind is not None else ())


def rel_list(spec: RelationList, node: str, description: str) -> Any:
    """A paged list of records linked by relations of the given types."""
    spec = typed(spec, node)
    return paged_field(
        lambda info, parent, args: resolve.related(info, parent, spec, args),
        node,
        description,
        TYPES_MODULE,
        Related(spec),
    )


def rel_rows(spec: RelationList, node: str, ends: str, description: str) -> Any:
    """A paged list of the relations of the given types themselves, as `node` items whose
    fields read the relation's row (its ends, ordinal, note, provenance), keeping those whose
    other end is an `ends` (a record type's name, or `Entity` for any)."""
    spec = typed(spec, ends)
    return paged_field(
        lambda info, parent, args: resolve.relation_rows(info, parent, spec, args),
        node,
        description,
        TYPES_MODULE,
        RelationRows(spec),
    )


def rel_one(spec: RelationList, node: str, description: str) -> Any:
    """The first record linked by relations of the given types, or null."""
    spec = typed(spec, node)

    @reads(FirstRelated(spec))
    async def resolver(root: Parent[Record], info: AnyInfo) -> Any:
        return await resolve.first_related(info, root.id, spec)

    resolver.__annotations__["return"] = f"{node} | None"
    resolver.__module__ = TYPES_MODULE
    return strawberry.field(resolver=resolver, description=description)


def fk_list(spec: ChildList, node: str, description: str) -> Any:
    """A paged list of records that belong to this one through a foreign key."""
    return paged_field(
        lambda info, parent, args: resolve.children(info, parent, spec, args),
        node,
        description,
        TYPES_MODULE,
        Children(spec),
    )


def fk_one(column: str, node: str, description: str, *, required: bool = False) -> Any:
    """The record a foreign key column points at."""

    @reads(Ref(column))
    async def resolver(root: Parent[Any], info: AnyInfo) -> Any:
        target: uuid.UUID | None = getattr(root, column)
        return await resolve.entity(info, target)

    resolver.__annotations__["return"] = node if required else f"{node} | None"
    resolver.__module__ = TYPES_MODULE
    return strawberry.field(resolver=resolver, description=description)


def tree_list(*, upward: bool, description: str) -> Any:
    """An organisation's ancestors (`upward`) or descendants, with their depth, as a page."""

    async def resolver(
        root: Parent[Record],
        info: AnyInfo,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Any:
        return await resolve.tree(info, root.id, upward, page(first, after, last, before))

    resolver.__annotations__["return"] = "Connection[TreeEntry]"
    resolver.__module__ = TYPES_MODULE
    return strawberry.field(resolver=resolver, description=description)
