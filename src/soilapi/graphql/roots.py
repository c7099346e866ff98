"""Root fields declared as what they read: one pure function per field, for both engines.

A root lookup or list is written as a function of its GraphQL arguments that checks them and
returns what to read (`Lookup`, `ListRead`, `TimelineRead`,
`FeedRead` or `SearchRead`), without reading it.
`root_field` turns that function into the field: its resolver reads what the function
returns (graphql-core's engine), and its mark hands the same function to the SQL compiler,
which plans the read instead. The arguments' checks therefore exist once, and the compiler
needs no "planning mode".
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import strawberry

from soilapi.graphql import enums, resolve
from soilapi.graphql.facets import faceted
from soilapi.graphql.pagination import After, Before, First, Last, PageArgs
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.sqlmark import reads
from soilapi.repositories.dates import TimelineFilter
from soilapi.repositories.entities import EntityFilter
from soilapi.repositories.search import SearchFilter
from soilapi.services import listing
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
    # The class of the connection the resolvers answer (soilapi.graphql.facets).
    make: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class TimelineRead:
    """A page of the timeline: which dates, which page."""

    filter: TimelineFilter
    page: PageArgs


@dataclass(frozen=True)
class FeedRead:
    """A page of the change feed: changes to which kinds (None: all; else sorted values of
    RecordKind), which page (`first` and `after` only)."""

    kinds: tuple[str, ...] | None
    page: PageArgs


@dataclass(frozen=True)
class SearchRead:
    """A page of `search`'s hits: the checked search (soilapi.services.search), which page."""

    filter: SearchFilter
    page: PageArgs


Read = Lookup | ListRead | TimelineRead | FeedRead | SearchRead


@dataclass(frozen=True)
class RootRead:
    """The mark of a root field: the function from its arguments to what it reads."""

    read: Callable[..., Read]


async def perform(info: AnyInfo, read: Read) -> Any:
    """Read what a root field asked for, through the request's loaders and repositories."""
    if isinstance(read, Lookup):
        return await resolve.by_column(info, read.kind, read.column, read.value)
    if isinstance(read, TimelineRead):
        return await resolve.timeline(info, read.filter, read.page)
    if isinstance(read, FeedRead):
        kinds = None if read.kinds is None else list(read.kinds)
        return await resolve.feed(info, kinds, read.page)
    if isinstance(read, SearchRead):
        return await resolve.search(info, read.filter, read.page)
    return await resolve.top_level(
        info, read.filter, read.order, read.descending, read.page, read.make
    )


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


# --- root lists ----------------------------------------------------------------------------


def arg(description: str) -> Any:
    """Shorthand for a described argument."""
    return strawberry.argument(description=description)


def enum_values(items: list[Any]) -> list[str]:
    """The values of a list of enum members (a category filter's)."""
    return [item.value for item in items]


@dataclass(frozen=True)
class Filter:
    """One filter argument of a root list: its GraphQL type (with its description), the
    keyword of soilapi.services.listing.build it fills, and how its value is converted."""

    annotation: Any
    into: str
    convert: Callable[[Any], Any] | None = None


Descending = Annotated[
    bool,
    arg(
        "Reverse the order: Z to A, newest first. Records without the date being sorted on "
        "still come last."
    ),
]
_PAGE = {"first": First, "after": After, "last": Last, "before": Before}
_RANGE = ("start_from", "start_to")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def root_list(kind: EntityKind, returns: Any, description: str, /, **filters: Filter) -> Any:
    """A root list of records of `kind`: its filters (in argument order), then `orderBy` (the
    kind's own sort enum), `descending` and the four Relay arguments, declared once for the
    resolvers and the SQL compiler alike (see `root_field`).

    `returns` is `Connection[Item]`; the list answers its `FacetedConnection`, which counts
    the whole list's records as its filters keep them (soilapi.graphql.facets), or a class
    built on that one.
    """
    returns = faceted(returns)
    make = typing.get_origin(returns) or returns
    default = listing.default_order(kind).name
    sort_enum = enums.ORDER_ENUMS[kind]
    # The kind's own enum, made at run time from soilapi.services.listing.ORDERS.
    order_by = Annotated[sort_enum | None, arg(f"Sort key (default: {default}).")]  # type: ignore[valid-type]
    dated = [name for name, spec in filters.items() if spec.into in _RANGE]
    range_args = tuple(_camel(name) for name in dated) if dated else ("startFrom", "startTo")

    def read(**arguments: Any) -> Read:
        built: dict[str, Any] = {}
        for name, spec in filters.items():
            value = arguments[name]
            convert = spec.convert
            built[spec.into] = value if convert is None or value is None else convert(value)
        if dated:
            built["range_args"] = range_args
        chosen = arguments["order_by"]
        descending = bool(arguments["descending"])
        order = Order(chosen.value) if chosen is not None else listing.default_order(kind)
        page = PageArgs(**{name: arguments[name] for name in _PAGE})
        found = listing.build(kind, **built)
        return ListRead(found, listing.sort_key(order, descending), descending, page, make)

    annotations = {name: spec.annotation for name, spec in filters.items()}
    annotations |= {"order_by": order_by, "descending": Descending, **_PAGE}
    keyword = inspect.Parameter.KEYWORD_ONLY
    read.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(name, keyword, default=False if name == "descending" else None)
            for name in annotations
        ]
    )
    read.__annotations__ = {**annotations, "return": Read}
    return root_field(returns, description)(read)
