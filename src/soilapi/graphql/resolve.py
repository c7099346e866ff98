"""Glue between resolvers and loaders, so every resolver stays one line of intent."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from strawberry import Info
from strawberry.dataloader import DataLoader

from soilapi.graphql.context import Context, Loaders
from soilapi.graphql.pagination import (
    FEED_CURSOR_TAG,
    Connection,
    PageArgs,
    PageInfo,
    connection,
    window,
)
from soilapi.repositories import dates, history
from soilapi.repositories import entities as repo
from soilapi.repositories import facets as facet_repo
from soilapi.repositories import search as search_repo
from soilapi.repositories.entities import ChildList, EntityFilter, RelationList
from soilapi.repositories.paging import Slice
from soilapi.vocab import Direction, EntityKind, Facet, Order

AnyInfo = Info[Context, None]


def loaders(info: AnyInfo) -> Loaders:
    """The request's loaders."""
    return info.context.loaders


def page_limit(info: AnyInfo) -> int:
    """The largest `first`/`last` the app accepts (its `max_page_size` setting)."""
    return info.context.limits.page_size


async def entity(info: AnyInfo, entity_id: uuid.UUID | None) -> Any:
    """One entity by id (None stays None)."""
    return None if entity_id is None else await loaders(info).entity.load(entity_id)


# The direction's part of a relation list's cursor tag ("in" and "out" as cursors always had).
_DIRECTION_TAGS = {Direction.OUTGOING: "out", Direction.INCOMING: "in", Direction.BOTH: "both"}


def relation_tag(spec: RelationList) -> str:
    """Cursor tag of a relation list: a cursor only fits a list with the same predicates."""
    digest = hashlib.sha1("|".join(spec.predicates).encode(), usedforsecurity=False)
    return f"rel:{_DIRECTION_TAGS[spec.direction]}:{digest.hexdigest()[:8]}"


def children_tag(spec: ChildList) -> str:
    """Cursor tag of a list of children."""
    return f"child:{spec.kind}:{spec.order}"


def attached_tag(what: str) -> str:
    """Cursor tag of a list of attached rows."""
    return f"att:{what}"


def top_level_tag(f: EntityFilter, order: Order) -> str:
    """Cursor tag of a root list: a cursor fits the same kind in the same order."""
    return f"list:{f.kind}:{order}"


async def _pages(
    info: AnyInfo,
    pages: DataLoader[Any, Slice],
    counts: DataLoader[Any, int],
    list_key: Any,
    tag: str,
    parents: Sequence[uuid.UUID],
    args: PageArgs,
) -> list[Connection[Any]]:
    """One connection per parent: the pages come from `pages`, totals (when asked) from
    `counts`, both keyed by the list (`list_key`) and the parent."""
    at = (list_key, window(args, tag, page_limit(info)))
    found = await pages.load_many([(at, p) for p in parents])

    def count(parent: uuid.UUID) -> Callable[[], Awaitable[int]]:
        return lambda: counts.load((list_key, parent))

    return [
        connection(tag, page, page.rows, count(parent))
        for parent, page in zip(parents, found, strict=True)
    ]


async def related(
    info: AnyInfo, parents: Sequence[uuid.UUID], spec: RelationList, args: PageArgs
) -> list[Connection[Any]]:
    """Entities at the other end of each parent's relations, one page per parent."""
    l = loaders(info)  # noqa: E741 - short local for the request's loaders
    tag = relation_tag(spec)
    return await _pages(info, l.related_page, l.relations_count, spec, tag, parents, args)


async def relation_rows(
    info: AnyInfo, parents: Sequence[uuid.UUID], spec: RelationList, args: PageArgs
) -> list[Connection[Any]]:
    """The relation rows themselves (predicate, ends, dates, provenance), a page per parent."""
    l = loaders(info)  # noqa: E741
    tag = relation_tag(spec)
    return await _pages(info, l.relations_page, l.relations_count, spec, tag, parents, args)


async def relations(
    info: AnyInfo, parent: uuid.UUID, spec: RelationList, args: PageArgs
) -> Connection[Any]:
    """The relation rows of one record."""
    [found] = await relation_rows(info, [parent], spec, args)
    return found


async def first_related(info: AnyInfo, parent: uuid.UUID, spec: RelationList) -> Any:
    """The first entity at the other end (e.g. an organisation's parent), or None."""
    [found] = await related(info, [parent], spec, PageArgs(first=1))
    return found.items[0] if found.items else None


async def children(
    info: AnyInfo, parents: Sequence[uuid.UUID], spec: ChildList, args: PageArgs
) -> list[Connection[Any]]:
    """Entities that point at each parent through a foreign key, one page per parent."""
    l = loaders(info)  # noqa: E741
    tag = children_tag(spec)
    return await _pages(info, l.children_page, l.children_count, spec, tag, parents, args)


async def attached(
    info: AnyInfo, parents: Sequence[uuid.UUID], what: str, args: PageArgs
) -> list[Connection[Any]]:
    """Rows attached to each entity (sources, names, quantities...), in document order."""
    l = loaders(info)  # noqa: E741
    tag = attached_tag(what)
    return await _pages(info, l.attached_page, l.attached_count, what, tag, parents, args)


async def tree(info: AnyInfo, root: uuid.UUID, upward: bool, args: PageArgs) -> Connection[Any]:
    """Ancestors or descendants with their depth, nearest first."""
    from soilapi.graphql.types.registry import TreeEntry  # noqa: PLC0415 - types import us

    tag = f"tree:{'up' if upward else 'down'}"
    l = loaders(info)  # noqa: E741
    page = await l.tree_page.load(((upward, window(args, tag, page_limit(info))), root))
    ids = [uuid.UUID(node) for node, _, _ in page.rows]
    nodes = await l.entity.load_many(ids)
    entries = [
        TreeEntry(depth=depth, via=via, organization=node)  # type: ignore[arg-type]
        for (_, depth, via), node in zip(page.rows, nodes, strict=True)
    ]
    return connection(tag, page, entries, lambda: l.tree_count.load((upward, root)))


async def top_level(
    info: AnyInfo,
    f: EntityFilter,
    order: Order,
    descending: bool,
    args: PageArgs,
    make: Callable[..., Connection[Any]],
) -> Connection[Any]:
    """A root list with filters and order, as a connection of class `make`, which keeps the
    filter for what it tells of the whole list (facets: soilapi.graphql.facets)."""
    tag = top_level_tag(f, order)
    reader = info.context.reader
    at = window(args, tag, page_limit(info), descending=descending)
    page = await repo.list_entities(reader, f, order, at)

    async def count() -> int:
        return await repo.count_entities(reader, f)

    return connection(tag, page, page.rows, count, make, filter=f)


async def facets(info: AnyInfo, f: EntityFilter, fields: tuple[Facet, ...], first: int) -> Any:
    """The facet counts of a root list's filter: rows (field, value, count, ...)."""
    return await facet_repo.facet_counts(info.context.reader, f, fields, first)


async def agreement_totals(info: AnyInfo, f: EntityFilter) -> Any:
    """The totals over the instruments of a list of partner agreements: rows (instrument_type,
    count, fte, total, position)."""
    return await facet_repo.agreement_totals(info.context.reader, f)


async def in_force(
    info: AnyInfo, what: str, record: uuid.UUID, day: date
) -> dates.InForceRow | None:
    """Whether a record of `what` (instrument, agreement, relation) is in force on `day`;
    the records of a whole level are asked in one statement."""
    return await loaders(info).in_force.load(((what, day), record))


TIMELINE_TAG = "timeline"


async def timeline(info: AnyInfo, f: dates.TimelineFilter, args: PageArgs) -> Connection[Any]:
    """A page of the timeline: entries in date order (their records load by id)."""
    reader = info.context.reader
    page = await dates.timeline_page(reader, f, window(args, TIMELINE_TAG, page_limit(info)))

    async def count() -> int:
        return await dates.timeline_count(reader, f)

    return connection(TIMELINE_TAG, page, page.rows, count)


def search_tag(found: search_repo.SearchFilter) -> str:
    """Cursor tag of a search: a cursor only fits the same query and filters."""
    asked = repr((found.text, found.language, found.kinds, found.countries))
    return f"search:{hashlib.sha1(asked.encode(), usedforsecurity=False).hexdigest()[:12]}"


async def search(info: AnyInfo, found: search_repo.SearchFilter, args: PageArgs) -> Any:
    """A page of hits, best first (their records load by id)."""
    tag = search_tag(found)
    reader = info.context.reader
    at = window(args, tag, page_limit(info))
    page = await search_repo.search_page(reader, found, at)

    async def count() -> int:
        return await search_repo.search_count(reader, found)

    return connection(tag, page, page.rows, count)


async def by_column(info: AnyInfo, kind: EntityKind, column: str, value: Any) -> Any:
    """An entity of `kind` by slug or by a unique column of its kind (a facility's code, a
    document's symbol...); None when unknown or of another kind."""
    if column == "slug":
        entity_id = await loaders(info).slug.load(value)
    else:
        entity_id = await loaders(info).lookup.load((kind, column, value))
    found = await entity(info, entity_id)
    return found if found is not None and found.kind == kind else None


REVISIONS_TAG = "revisions"


async def revisions(info: AnyInfo, target: uuid.UUID, args: PageArgs) -> Connection[Any]:
    """A page of one record's revisions, newest first; the records of a level are read in
    one statement (a page per record), their counts in one more when asked."""
    l = loaders(info)  # noqa: E741
    at = window(args, REVISIONS_TAG, page_limit(info), descending=True)
    page = await l.revisions_page.load(((None, at), target))
    return connection(
        REVISIONS_TAG, page, page.rows, lambda: l.revisions_count.load((None, target))
    )


async def latest_revision(info: AnyInfo, target: uuid.UUID) -> history.Latest | None:
    """A record's newest revision, None if never revised; a level's records in one statement."""
    return await loaders(info).latest_revision.load(target)


async def relation(info: AnyInfo, relation_id: uuid.UUID) -> Any:
    """One relation by id, None when there is none (retired)."""
    return await loaders(info).relation.load(relation_id)


async def feed(info: AnyInfo, kinds: list[str] | None, args: PageArgs) -> Connection[Any]:
    """A page of the change feed (checked cursor and size), in revision id order, as a
    connection whose `endCursor` is never null: past the last change it is the cursor the
    client sent (or the start's, `held_cursor`), so a client polls with it unchanged."""
    at = window(args, FEED_CURSOR_TAG, page_limit(info))
    page = await history.feed_page(info.context.reader, kinds, at)

    async def count() -> int:
        return await feed_count(info, kinds)

    made = connection(FEED_CURSOR_TAG, page, page.rows, count)
    if not page.keys:
        made.position = PageInfo(
            has_next_page=False,
            has_previous_page=page.has_previous,
            tag=FEED_CURSOR_TAG,
            first_key=None,
            last_key=held_key(at.after),
        )
    return made


def held_key(after: tuple[Any, ...] | None) -> tuple[Any, ...]:
    """The feed's `endCursor` key on an empty page: the cursor sent, or the start's."""
    return (0,) if after is None else after


async def feed_count(info: AnyInfo, kinds: list[str] | None) -> int:
    """How many changes the feed holds (of `kinds`, None: all)."""
    return await history.feed_count(info.context.reader, kinds)
