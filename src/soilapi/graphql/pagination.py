"""Relay-style connections with keyset cursors.

A cursor is the sort key of a row (e.g. its name and id), so a page stays correct when rows
are added before it, unlike offsets. `totalCount` runs its COUNT only when it is selected.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Generic, TypeVar

import orjson
import strawberry

from soilapi.errors import InvalidCursor, InvalidInput, PageSizeExceeded
from soilapi.repositories.paging import Slice, Window
from soilapi.settings import Settings

NodeT = TypeVar("NodeT")
DEFAULT_PAGE_SIZE = 20
# The page-size limit the descriptions state; the one in force is the app's `max_page_size`.
_DOCUMENTED_LIMIT: int = Settings.model_fields["max_page_size"].default


@strawberry.type(description="Where a page sits in the whole list (Relay PageInfo).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when more items follow the last one of this page."
    )
    has_previous_page: bool = strawberry.field(
        description="True when items precede the first one of this page."
    )
    tag: strawberry.Private[str]
    first_key: strawberry.Private[Sequence[Any] | None]
    last_key: strawberry.Private[Sequence[Any] | None]

    @strawberry.field(
        description="Cursor of the first item; pass it as `before` to page backwards."
    )
    def start_cursor(self) -> str | None:
        return None if self.first_key is None else encode_cursor(self.tag, self.first_key)

    @strawberry.field(
        description="Cursor of the last item; pass it as `after` to get the next page."
    )
    def end_cursor(self) -> str | None:
        return None if self.last_key is None else encode_cursor(self.tag, self.last_key)


@strawberry.type(description="One item of a list together with its cursor.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Opaque position of this item in the list.")
    node: NodeT = strawberry.field(description="The item.")


@strawberry.type(
    description="A page of a list: `edges` (or just `nodes`), `pageInfo` and `totalCount`."
)
class Connection(Generic[NodeT]):
    """Cursors are encoded only for the edges a client asks for: most ask for `nodes`."""

    tag: strawberry.Private[str]
    keys: strawberry.Private[Sequence[Sequence[Any]]]
    items: strawberry.Private[Sequence[NodeT]]

    @strawberry.field(description="The items of this page.")
    def edges(self) -> list[Edge[NodeT]]:
        return [
            Edge(cursor=encode_cursor(self.tag, key), node=node)
            for key, node in zip(self.keys, self.items, strict=True)
        ]

    position: strawberry.Private[PageInfo]
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How to fetch the neighbouring pages.")
    def page_info(self) -> PageInfo:
        return self.position

    @strawberry.field(description="The items of this page, without cursors.")
    def nodes(self) -> list[NodeT]:
        return list(self.items)

    @strawberry.field(
        description="Number of items in the whole list (all pages). Costs one extra query, "
        "so it is computed only when selected."
    )
    async def total_count(self) -> int:
        return await self.count()


@dataclass(frozen=True)
class PageArgs:
    """The four Relay arguments as the client sent them."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


# Printed on one line of schema.graphql while at most 70 characters long.
First = Annotated[
    int | None,
    strawberry.argument(
        description=f"Return the first n items (0 to the limit, {_DOCUMENTED_LIMIT} by default); "
        f"default {DEFAULT_PAGE_SIZE}."
    ),
]
After = Annotated[str | None, strawberry.argument(description="Return items after this cursor.")]
Last = Annotated[
    int | None,
    strawberry.argument(
        description=f"Return the last n items (0 to the limit, {_DOCUMENTED_LIMIT} by default)."
    ),
]
Before = Annotated[str | None, strawberry.argument(description="Return items before this cursor.")]


def encode_cursor(tag: str, key: Sequence[Any]) -> str:
    """Opaque cursor for a sort key; `tag` names the list order it belongs to."""
    parts: list[list[Any]] = [["t", tag]]
    for value in key:
        if isinstance(value, uuid.UUID):
            parts.append(["u", str(value)])
        elif isinstance(value, date):
            parts.append(["d", value.isoformat()])
        elif isinstance(value, str):
            parts.append(["s", value])
        elif isinstance(value, int):
            parts.append(["i", value])
        else:
            raise TypeError(f"cannot put {type(value).__name__} in a cursor")
    raw = orjson.dumps(parts)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "u": lambda v: uuid.UUID(str(v)),
    "d": lambda v: date.fromisoformat(str(v)),
    "s": str,
    "i": int,
}


def decode_cursor(cursor: str, tag: str) -> tuple[Any, ...]:
    """Sort key of a cursor; InvalidCursor when it was not made by a list of this order."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        (head, found), *parts = orjson.loads(raw)
        key = tuple(_DECODERS[kind](value) for kind, value in parts)
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidCursor(
            f"cursor {cursor[:40]!r} is malformed: pass a cursor returned by this list"
        ) from None
    if head != "t" or found != tag:
        raise InvalidCursor(
            f"cursor {cursor[:40]!r} belongs to another list or order: "
            "pass a cursor returned by this list"
        )
    return key


def default_size(limit: int) -> int:
    """The page size of a list asked for without `first` or `last`."""
    return min(DEFAULT_PAGE_SIZE, limit)


def checked_size(name: str, size: int | None, limit: int, advice: str) -> int:
    """A page size (`first`/`last`, given as `name`) checked against the page-size `limit`;
    the default when not given. `advice` says what to do past the limit."""
    if size is None:
        return default_size(limit)
    if size < 0:
        raise InvalidInput(f"`{name}` must be zero or more, got {size}", field=name)
    if size > limit:
        raise PageSizeExceeded(
            f"`{name}` is {size}, more than the limit of {limit} items per page: {advice}",
            field=name,
        )
    return size


def window(args: PageArgs, tag: str, limit: int, *, descending: bool = False) -> Window:
    """Validate the Relay arguments against the page-size `limit`; turn them into a SQL window."""
    if args.first is not None and args.last is not None:
        raise InvalidInput("pass either `first` or `last`, not both", field="first")
    size = args.last if args.last is not None else args.first
    name = "last" if args.last is not None else "first"
    size = checked_size(name, size, limit, "ask for fewer and follow `pageInfo.endCursor`")
    # Only null means "no cursor": "" is a cursor no list made, refused like any other (a
    # client's empty placeholder must not quietly restart the walk at page one).
    return Window(
        limit=size,
        after=decode_cursor(args.after, tag) if args.after is not None else None,
        before=decode_cursor(args.before, tag) if args.before is not None else None,
        from_end=args.last is not None,
        descending=descending,
    )


def connection(
    tag: str,
    page: Slice,
    nodes: Sequence[NodeT],
    count: Callable[[], Awaitable[int]],
    cls: Callable[..., Connection[NodeT]] = Connection,
    **extra: Any,
) -> Connection[NodeT]:
    """Build a connection from a fetched slice and the objects for its rows; `cls` and
    `extra` make a connection with more fields (a root list's, soilapi.graphql.facets)."""
    keys = page.keys
    return cls(
        tag=tag,
        keys=keys,
        items=nodes,
        position=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            tag=tag,
            first_key=keys[0] if keys else None,
            last_key=keys[-1] if keys else None,
        ),
        count=count,
        **extra,
    )


# The change feed's order: revision ids. A dump (`soilapi export`) is stamped with the cursor
# of the last revision it includes, so that a client follows the feed from there.
FEED_CURSOR_TAG = "changes"


def feed_cursor(revision_id: int) -> str:
    """The change feed's cursor just after revision `revision_id` (0: before every change)."""
    return encode_cursor(FEED_CURSOR_TAG, [revision_id])
