"""Root fields declared as what they read: one pure function per field, for both engines.

A root lookup or list is written as a function of its GraphQL arguments that checks them and
returns what to read (`Lookup` or `ListRead`), without reading it. `root_field` turns that
function into the field: its resolver reads what the function returns (graphql-core's engine),
and its mark hands the same function to the SQL compiler, which plans the read instead. The
arguments' checks therefore exist once, and the compiler needs no "planning mode".
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry

from soilapi.graphql import resolve
from soilapi.graphql.pagination import PageArgs
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.sqlmark import reads
from soilapi.repositories.entities import EntityFilter
from soilapi.vocab import EntityKind, Order


@dataclass(frozen=True)
class Lookup:
    """One record of `kind` whose `column` is `value`: its slug, or a unique column of its
    kind (a facility's `code`, an objective's `label`, a document's `symbol`...)."""

    kind: EntityKind
    column: str
    value: Any


@dataclass(frozen=True)
class ListRead:
    """A page of a root list: which records, in which order, which page."""

    filter: EntityFilter
    order: Order
    descending: bool
    page: PageArgs


Read = Lookup | ListRead


@dataclass(frozen=True)
class RootRead:
    """The mark of a root field: the function from its arguments to what it reads."""

    read: Callable[..., Read]


async def perform(info: AnyInfo, read: Read) -> Any:
    """Read what a root field asked for, through the request's loaders and repositories."""
    if isinstance(read, Lookup):
        return await resolve.by_column(info, read.kind, read.column, read.value)
    return await resolve.top_level(info, read.filter, read.order, read.descending, read.page)


def root_field(returns: Any, description: str) -> Callable[[Any], Any]:
    """Declare a root field from the function of its arguments to what it reads.

    The field's arguments are the function's parameters (with their `Annotated` descriptions);
    `returns` is its GraphQL type. Decorate a `staticmethod` in the Query class.
    """

    def declare(function: Any) -> Any:
        read: Callable[..., Read] = getattr(function, "__func__", function)
        signature = inspect.signature(read)
        hints = typing.get_type_hints(read, include_extras=True)

        async def resolver(info: AnyInfo, **arguments: Any) -> Any:
            return await perform(info, read(**arguments))

        info = inspect.Parameter("info", inspect.Parameter.KEYWORD_ONLY, annotation=AnyInfo)
        parameters = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints[p.name])
            for p in signature.parameters.values()
        ]
        resolver.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[info, *parameters], return_annotation=returns
        )
        resolver.__annotations__ = {
            **{p.name: p.annotation for p in parameters},
            "info": AnyInfo,
            "return": returns,
        }
        resolver.__name__ = read.__name__
        resolver.__qualname__ = read.__qualname__
        resolver.__module__ = read.__module__
        reads(RootRead(read))(resolver)
        return strawberry.field(resolver=resolver, description=description)

    return declare
