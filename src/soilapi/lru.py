"""One bounded cache for every layer: least recently used first out, capped in entries and bytes.

Every cache of the process is one `Lru` with a name. Each says how to weigh an entry in bytes
(a response body's length, an estimate for a parsed document or a compiled statement), and
none may grow past its entry count or its bytes. Lookups count hits and misses, and the
metrics page reads every live cache by name (`caches`), so nothing needs wiring per cache.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Weigh = Callable[[K, V], int]


@dataclass
class Tally:
    """What a cache did since it was made: lookups answered, lookups not, entries dropped."""

    hits: int = 0
    misses: int = 0
    evictions: int = 0


@dataclass(frozen=True)
class Figures:
    """A cache's counts and current size, as the metrics page reads them."""

    name: str
    hits: int
    misses: int
    evictions: int
    entries: int
    bytes: int
    max_entries: int
    max_bytes: int


class Lru(Generic[K, V]):
    """A least-recently-used map bounded by `max_entries` and by `max_bytes` (by `weigh`).

    An entry heavier than `max_entry_bytes` (default: all of `max_bytes`) is not kept: it
    would push out everything else for one value. None is never a value (it means a miss): a
    cache of optional values keeps them wrapped. Not thread-safe: the event loop uses it.
    """

    def __init__(
        self,
        name: str,
        *,
        max_entries: int,
        max_bytes: int,
        weigh: Weigh[K, V],
        max_entry_bytes: int | None = None,
    ) -> None:
        self.name = name
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_bytes if max_entry_bytes is None else max_entry_bytes
        self.weigh = weigh
        self.tally = Tally()
        self.bytes = 0
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        _register(self)

    def get(self, key: K, *, count_miss: bool = True) -> V | None:
        """The value kept for `key`, now the most recently used; None if there is none.

        `count_miss=False` for a lookup that is tried again later (only its hit counts).
        """
        found = self._entries.get(key)
        if found is None:
            if count_miss:
                self.tally.misses += 1
            return None
        self._entries.move_to_end(key)
        self.tally.hits += 1
        return found[0]

    def get_or_build(self, key: K, build: Callable[[], V]) -> V:
        """The value kept for `key`, else `build()`, kept for next time."""
        found = self.get(key)
        if found is None:
            found = build()
            self.put(key, found)
        return found

    def put(self, key: K, value: V) -> bool:
        """Keep `value` (replacing any under `key`), dropping the least recently used to fit.

        False when the entry alone weighs more than an entry may: it is not kept.
        """
        weight = self.weigh(key, value)
        if weight > self.max_entry_bytes or self.max_entries < 1:
            return False
        self.discard(key)
        self._entries[key] = (value, weight)
        self.bytes += weight
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.bytes -= dropped
            self.tally.evictions += 1
        return True

    def discard(self, key: K) -> None:
        """Forget `key` if it is kept (not an eviction)."""
        found = self._entries.pop(key, None)
        if found is not None:
            self.bytes -= found[1]

    def clear(self) -> None:
        """Forget every entry (not evictions); the counts stay."""
        self._entries.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def figures(self) -> Figures:
        """The counts and the current size."""
        tally = self.tally
        return Figures(
            self.name,
            tally.hits,
            tally.misses,
            tally.evictions,
            len(self._entries),
            self.bytes,
            self.max_entries,
            self.max_bytes,
        )


# Every live cache, and the counts of those already collected, by name: a cache made per app
# (tests build many) leaves its counts behind, so a name's totals never go down.
_live: weakref.WeakSet[Lru[Any, Any]] = weakref.WeakSet()
_retired: dict[str, Tally] = {}


def _register(cache: Lru[K, V]) -> None:
    _live.add(cache)
    weakref.finalize(cache, _retire, cache.name, cache.tally)


def _retire(name: str, tally: Tally) -> None:
    total = _retired.setdefault(name, Tally())
    total.hits += tally.hits
    total.misses += tally.misses
    total.evictions += tally.evictions


def caches() -> Iterator[Figures]:
    """Every cache name's figures: counts since the process began, size of the live caches."""
    by_name: dict[str, Figures] = {
        name: Figures(name, tally.hits, tally.misses, tally.evictions, 0, 0, 0, 0)
        for name, tally in _retired.items()
    }
    for cache in list(_live):
        mine = cache.figures()
        seen = by_name.get(mine.name)
        by_name[mine.name] = mine if seen is None else _sum(seen, mine)
    return iter(sorted(by_name.values(), key=lambda figures: figures.name))


def _sum(one: Figures, other: Figures) -> Figures:
    return Figures(
        one.name,
        one.hits + other.hits,
        one.misses + other.misses,
        one.evictions + other.evictions,
        one.entries + other.entries,
        one.bytes + other.bytes,
        one.max_entries + other.max_entries,
        one.max_bytes + other.max_bytes,
    )
