"""Per-request context: one database snapshot and a fresh set of DataLoaders."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import cached_property
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from soilapi.graphql.limits import Limits
from soilapi.repositories import Reader, dates, graph, history
from soilapi.repositories import entities as repo
from soilapi.repositories.paging import Slice, Window
from soilapi.repositories.records import Record

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
G = TypeVar("G", bound=Hashable)

Grouped = Callable[[Any, Sequence[uuid.UUID]], Awaitable[dict[uuid.UUID, V]]]


def by_id(fetch: Callable[[Sequence[K]], Awaitable[dict[K, V]]]) -> DataLoader[K, V | None]:
    """A loader that fetches many keys with one call and answers None for missing ones."""

    async def batch(keys: list[K]) -> list[V | None]:
        found = await fetch(keys)
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=batch)


def grouped(fetch: Grouped[V]) -> DataLoader[tuple[Any, uuid.UUID], V]:
    """A loader keyed by (group, parent): one call per distinct group, all its parents at once.

    The group is everything that shapes the SQL (which list, which page window), so a level of
    a query costs one statement per list field, whatever the number of parents.
    """

    async def batch(keys: list[tuple[Any, uuid.UUID]]) -> list[V]:
        parents: dict[Any, list[uuid.UUID]] = defaultdict(list)
        for group, parent in keys:
            if parent not in parents[group]:
                parents[group].append(parent)
        results = {group: await fetch(group, ids) for group, ids in parents.items()}
        return [results[group][parent] for group, parent in keys]

    return DataLoader(load_fn=batch)


async def _every(keys: Sequence[K], found: Awaitable[dict[K, V]]) -> dict[K, V | None]:
    """`found` with None for the keys it lacks (a grouped loader answers every key)."""
    done = await found
    return {key: done.get(key) for key in keys}


class Loaders:
    """Every DataLoader of one request."""

    def __init__(self, reader: Reader) -> None:
        r = reader
        self.entity: DataLoader[uuid.UUID, Record | None] = by_id(
            lambda ids: repo.entities_by_ids(r, ids)
        )
        self.slug: DataLoader[str, uuid.UUID | None] = by_id(
            lambda slugs: repo.ids_by_slugs(r, slugs)
        )
        self.relation: DataLoader[uuid.UUID, Record | None] = by_id(
            lambda ids: graph.relations_by_ids(r, ids)
        )
        self.source_document: DataLoader[uuid.UUID, Record | None] = by_id(
            lambda ids: repo.source_documents_by_ids(r, ids)
        )
        # Every source document, read once per request however many fields ask (the key is
        # always None): `sourceDocuments` and each aliased `sourceDocument(key:)` share it.
        self.all_source_documents: DataLoader[None, list[Record]] = DataLoader(
            load_fn=lambda keys: self._all_documents(len(keys))
        )
        self.relations_page: DataLoader[tuple[Any, uuid.UUID], Slice] = grouped(
            lambda g, ids: repo.relations_page(r, g[0], ids, g[1])
        )
        self.related_page: DataLoader[tuple[Any, uuid.UUID], Slice] = grouped(
            lambda g, ids: repo.relations_page(r, g[0], ids, g[1], other_end=True)
        )
        self.relations_count: DataLoader[tuple[Any, uuid.UUID], int] = grouped(
            lambda spec, ids: repo.relations_count(r, spec, ids)
        )
        self.children_page: DataLoader[tuple[Any, uuid.UUID], Slice] = grouped(
            lambda g, ids: repo.children_page(r, g[0], ids, g[1])
        )
        self.children_count: DataLoader[tuple[Any, uuid.UUID], int] = grouped(
            lambda spec, ids: repo.children_count(r, spec, ids)
        )
        self.attached_page: DataLoader[tuple[Any, uuid.UUID], Slice] = grouped(
            lambda g, ids: repo.attached_page(r, g[0], ids, g[1])
        )
        self.attached_count: DataLoader[tuple[Any, uuid.UUID], int] = grouped(
            lambda what, ids: repo.attached_count(r, what, ids)
        )
        self.tree_page: DataLoader[tuple[Any, uuid.UUID], Slice] = grouped(
            lambda g, ids: repo.tree_page(r, ids, g[0], g[1])
        )
        self.tree_count: DataLoader[tuple[Any, uuid.UUID], int] = grouped(
            lambda upward, ids: repo.tree_count(r, ids, upward)
        )
        # Whether records are in force on a day, keyed ((what, day), id): one statement per
        # kind of record and day asked about.
        self.in_force: DataLoader[tuple[Any, uuid.UUID], dates.InForceRow | None] = grouped(
            lambda g, ids: _every(ids, dates.in_force_on(r, g[0], ids, g[1]))
        )
        # A level's records' histories: pages keyed ((window,), target), one statement per
        # window; their newest revisions (`changedBy`), one statement per level.
        self.revisions_page: DataLoader[tuple[Any, uuid.UUID], Slice] = grouped(
            lambda g, ids: history.revisions_page(r, ids, g[1])
        )
        self.revisions_count: DataLoader[tuple[Any, uuid.UUID], int] = grouped(
            lambda _, ids: history.revisions_count(r, ids)
        )
        self.latest_revision: DataLoader[uuid.UUID, history.Latest | None] = by_id(
            lambda ids: history.latest_revisions(r, ids)
        )
        self.lookup: DataLoader[tuple[Any, str, Any], uuid.UUID | None] = DataLoader(
            load_fn=self._lookup_batch
        )
        self._reader = reader

    async def _all_documents(self, asked: int) -> list[list[Record]]:
        found = await repo.all_source_documents(self._reader)
        return [found] * asked

    async def _lookup_batch(self, keys: list[tuple[Any, str, Any]]) -> list[uuid.UUID | None]:
        """Resolve (kind, column, value) lookups, one statement per kind and column."""
        values: dict[tuple[Any, str], list[Any]] = defaultdict(list)
        for kind, column, value in keys:
            values[kind, column].append(value)
        found = {
            where: await repo.ids_by_column(self._reader, *where, vals)
            for where, vals in values.items()
        }
        return [found[kind, column].get(value) for kind, column, value in keys]


class Context(BaseContext):
    """What every resolver gets through `info.context`."""

    def __init__(self, reader: Reader, limits: Limits | None = None) -> None:
        super().__init__()
        self.reader = reader
        # The app's query limits, page size and timeout (create_app's settings).
        self.limits = limits or Limits()
        # Set by the execution context when the operation reads only the schema.
        self.schema_only = False
        # Set for a mutation (by the execution context) and for a read that depends on who
        # asks (change requests): such an answer is never remembered.
        self.private = False
        # What the SQL compiler compiled for this request, if it answered it.
        self.compiled: Any = None
        # CPU seconds spent parsing and validating this request's document (QueryLimits):
        # the rate limiter charges them to its client.
        self.cpu_seconds = 0.0

    async def after_write(self) -> None:
        """Read what a write just committed: the next read opens a new snapshot, with new
        loaders (their answers so far came from the old one)."""
        await self.reader.restart()
        self.__dict__.pop("loaders", None)

    @cached_property
    def loaders(self) -> Loaders:
        """The request's loaders, made at first use: a compiled query needs none."""
        return Loaders(self.reader)


__all__ = ["Context", "Loaders", "Window"]
