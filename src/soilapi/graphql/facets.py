"""Facets: what a root list holds in all, by value, declared once for every root list.

Every root list (soilapi.graphql.roots.root_list) answers a `FacetedConnection`: a page, and
`facets` counted over every record the list's filters keep, whatever its page. The field is
declared here once; its resolver reads the counts (soilapi.repositories.facets) and its mark
lets the SQL compiler put the same statement in the root field's own (soilapi.graphql.compiler).
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

import strawberry

from soilapi.graphql import enums, resolve
from soilapi.graphql.limits import PER_FIELD
from soilapi.graphql.pagination import DEFAULT_PAGE_SIZE, Connection, checked_size
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.sqlmark import Facets, reads
from soilapi.graphql.types.node import TYPE_NAMES
from soilapi.repositories.entities import EntityFilter
from soilapi.services.facets import FACETS, checked_fields, names
from soilapi.settings import Settings
from soilapi.vocab import EntityKind
from soilapi.vocab import Facet as FacetName

NodeT = TypeVar("NodeT")
_LIMIT: int = Settings.model_fields["max_page_size"].default


@strawberry.type(
    description="How many records of a whole list have one value of one field: one bucket "
    "of a facet."
)
class Facet:
    field: enums.FacetField = strawberry.field(description="The field counted.")
    value: str | None = strawberry.field(
        description="The value, as the API writes it elsewhere: an enum's name (ORGANIZATION, "
        "NETWORK, SECONDMENT), an ISO 3166-1 alpha-2 code (DE) or a year (2021); null counts "
        "the records without one."
    )
    count: int = strawberry.field(description="How many records of the list have it.")


_OFFERED = "; ".join(f"{TYPE_NAMES[kind]}: {names(offered)}" for kind, offered in FACETS.items())
FacetFields = Annotated[
    list[enums.FacetField] | None,
    strawberry.argument(
        description="The fields to count, in this order (default: every field the list offers)."
    ),
]
FacetFirst = Annotated[
    int | None,
    strawberry.argument(
        description=f"At most this many values per field, the most frequent (0 to the limit, "
        f"{_LIMIT} by default); default {DEFAULT_PAGE_SIZE}."
    ),
]


def facet_args(
    kind: EntityKind, fields: Sequence[Any] | None, first: int | None, limit: int
) -> tuple[tuple[FacetName, ...], int]:
    """The facets a list counts and the values it keeps per facet, checked: the same checks
    for both engines (the compiler leaves a refused request to the resolvers, which report it).
    """
    chosen = None if fields is None else [FacetName(field.value) for field in fields]
    advice = "ask for fewer values per field (the most frequent come first)"
    return checked_fields(kind, chosen), checked_size("first", first, limit, advice)


@strawberry.type(
    description="A page of a root list, and `facets`: counts over the whole list, all pages."
)
class FacetedConnection(Connection[NodeT]):
    filter: strawberry.Private[EntityFilter]

    @strawberry.field(
        description="Counts of the records of the whole list (every filter applied, all "
        "pages: `first`, `after` and the others change nothing) by the values of each field: "
        "one entry per value, fields in the order asked, the most frequent value first (ties "
        "by value, null last). Values beyond `first` per field are left out, so the counts of "
        "a single-valued field add up to `totalCount` less theirs. Read in one statement, only "
        f"when selected. The fields of each list: {_OFFERED}.",
        metadata={PER_FIELD: len(FacetName)},
    )
    @reads(Facets())
    async def facets(
        self, info: AnyInfo, fields: FacetFields = None, first: FacetFirst = None
    ) -> list[Facet]:
        kind = self.filter.kind
        chosen, size = facet_args(kind, fields, first, resolve.page_limit(info))
        rows = await resolve.facets(info, self.filter, chosen, size)
        return [
            Facet(field=enums.FacetField[row["field"]], value=row["value"], count=row["count"])
            for row in rows
        ]


def faceted(returns: Any) -> Any:
    """The connection a root list declared as `Connection[Item]` answers: `FacetedConnection
    [Item]`; a connection class built on FacetedConnection (with more fields) stays itself."""
    if isinstance(returns, type) and issubclass(returns, FacetedConnection):
        return returns
    if typing.get_origin(returns) is not Connection:
        raise TypeError(f"a root list returns Connection[...], not {returns!r}")
    (item,) = typing.get_args(returns)
    return FacetedConnection[item]  # type: ignore[valid-type]
