"""Rules for walking the graph of relations: how far a neighbourhood or a path may reach.

Both are bounded twice: by depth (each level can multiply what a walk reads, so clients may
ask for three levels around a record and six between two), and by the records a walk may
reach, `MAX_WALK_RECORDS`, past which the answer would be too large to be useful and too
costly to compute on every page. A walk over that bound is refused with a coded error that
says how to narrow it, rather than answered in part.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TypeVar

from soilapi.errors import InvalidCursor, InvalidInput
from soilapi.repositories import Reader
from soilapi.repositories import graph as repo
from soilapi.repositories.graph import Neighbourhood, Path, Walk
from soilapi.repositories.paging import Window
from soilapi.services.listing import MAX_FILTER_VALUES
from soilapi.vocab import Direction, EntityKind, Predicate

MAX_DEPTH = 3  # levels of a neighbourhood
MAX_PATH_DEPTH = 6  # relations of a path
DEFAULT_PATH_DEPTH = 4
# Records one walk may reach. At bench scale 100 (380,000 records), two levels around the GSP
# or the ESP reach about 15,000 and three levels about 95,000.
MAX_WALK_RECORDS = 50_000

T = TypeVar("T")
_NARROW = "name fewer `predicates`, one `direction` or a smaller `{field}`"


def walk(
    direction: Direction,
    predicates: Sequence[Predicate] | None,
    depth: int,
    *,
    field: str = "depth",
    most: int = MAX_DEPTH,
) -> Walk:
    """Validate a walk's arguments: `depth` (named `field` in GraphQL) from 1 to `most`, and
    1 to 50 predicates (None: relations of every type)."""
    if not 1 <= depth <= most:
        raise InvalidInput(f"`{field}` must be from 1 to {most}, got {depth}", field=field)
    chosen = tuple(sorted(set(_listed("predicates", predicates) or Predicate)))
    return Walk(direction, chosen, depth, MAX_WALK_RECORDS)


def kinds(values: Sequence[EntityKind] | None) -> tuple[EntityKind, ...]:
    """Validate a `kinds` filter: 1 to 50 kinds, or None for every kind (empty tuple)."""
    return tuple(sorted(set(_listed("kinds", values) or ())))


def _listed(name: str, values: Sequence[T] | None) -> Sequence[T] | None:
    """A list filter's values: none means "no filter", an empty list is refused (it would
    match nothing or everything, and neither is sure)."""
    if values is None:
        return None
    if not values:
        raise InvalidInput(
            f"`{name}` is empty: pass at least one value, or leave it out for all", field=name
        )
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidInput(f"`{name}` takes at most {MAX_FILTER_VALUES} values", field=name)
    return values


def _too_large(field: str) -> InvalidInput:
    return InvalidInput(
        f"more than {MAX_WALK_RECORDS} records are within reach: {_NARROW.format(field=field)}",
        field=field,
    )


async def neighbourhood(
    reader: Reader,
    walk: Walk,
    start: tuple[uuid.UUID, EntityKind],
    kinds: Sequence[EntityKind],
    window: Window,
) -> Neighbourhood | None:
    """A page of the records within `walk` of `start` (an id and its kind), of `kinds`
    (empty: any); None when `start` is not a record of that kind."""
    for key in (window.after, window.before):
        if key is not None and [type(v) for v in key] != [int, str, uuid.UUID]:
            # The list's tag matched: a cursor made by hand, which would not fit the SQL.
            raise InvalidCursor("this cursor was not made by a neighbourhood: pass one it returned")
    found = await repo.neighbourhood(reader, walk, *start, kinds, window)
    if found is not None and found.too_large:
        raise _too_large("depth")
    return found


async def path(
    reader: Reader,
    walk: Walk,
    start: tuple[uuid.UUID, EntityKind],
    target: tuple[uuid.UUID, EntityKind],
) -> list[repo.Reached] | None:
    """The steps of a shortest path from `start` to `target` within `walk` (none when they are
    the same record); None when there is none, or either is not a record of its kind."""
    found: Path | None = await repo.shortest_path(reader, walk, start, target)
    if found is None:
        return None
    if found.too_large:
        raise _too_large("maxDepth")
    return found.steps
