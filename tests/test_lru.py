"""The bounded cache every layer uses (soilapi.lru): its limits, its counts, its registry."""

from __future__ import annotations

import gc
import uuid

from soilapi.lru import Lru, caches


def bodies(name: str | None = None, **limits: int) -> Lru[str, bytes]:
    """A cache of bytes weighed by their length, with a name no other test uses."""
    bounds = {"max_entries": 10, "max_bytes": 100, **limits}
    return Lru(name or f"test-{uuid.uuid4().hex}", weigh=lambda _key, body: len(body), **bounds)


def test_the_least_recently_used_entry_goes_first_when_entries_run_out() -> None:
    cache = bodies(max_entries=2)
    cache.put("a", b"1")
    cache.put("b", b"2")
    assert cache.get("a") == b"1"  # now "b" is the least recently used
    cache.put("c", b"3")
    assert "b" not in cache
    assert cache.get("a") == b"1"
    assert cache.get("c") == b"3"
    assert len(cache) == 2
    assert cache.tally.evictions == 1


def test_entries_are_dropped_until_the_bytes_fit() -> None:
    cache = bodies(max_bytes=10)
    for key in "abc":
        cache.put(key, b"xxxx")  # 4 bytes each: the third pushes out the first
    assert "a" not in cache
    assert cache.bytes == 8
    assert cache.put("d", b"yyyyyyyy")  # 8 bytes: both others go
    assert [key for key in "abcd" if key in cache] == ["d"]
    assert cache.bytes == 8
    assert cache.tally.evictions == 3


def test_an_entry_heavier_than_the_budget_is_not_kept() -> None:
    cache = bodies(max_bytes=10)
    cache.put("small", b"12345")
    assert not cache.put("huge", b"x" * 11)
    assert "huge" not in cache
    assert cache.get("small") == b"12345"  # and nothing was pushed out for it
    assert cache.tally.evictions == 0


def test_an_entry_heavier_than_an_entry_may_be_is_not_kept() -> None:
    cache = bodies(max_bytes=100, max_entry_bytes=25)
    assert cache.put("fits", b"x" * 25)
    assert not cache.put("too-big", b"x" * 26)
    assert len(cache) == 1
    assert cache.bytes == 25


def test_replacing_an_entry_keeps_the_bytes_right() -> None:
    cache = bodies()
    cache.put("a", b"12345")
    cache.put("a", b"12")
    assert cache.bytes == 2
    assert len(cache) == 1
    cache.discard("a")
    cache.discard("missing")
    assert cache.bytes == 0


def test_hits_and_misses_are_counted() -> None:
    cache = bodies()
    assert cache.get("a") is None
    cache.put("a", b"1")
    assert cache.get("a") == b"1"
    assert cache.get("a") == b"1"
    assert cache.get("b", count_miss=False) is None  # looked up again later: not a miss yet
    assert (cache.tally.hits, cache.tally.misses) == (2, 1)


def test_get_or_build_builds_once() -> None:
    cache: Lru[int, str] = Lru("test-build", max_entries=4, max_bytes=100, weigh=lambda k, v: 1)
    built: list[int] = []

    def build() -> str:
        built.append(1)
        return "value"

    assert cache.get_or_build(1, build) == "value"
    assert cache.get_or_build(1, build) == "value"
    assert built == [1]
    assert (cache.tally.hits, cache.tally.misses) == (1, 1)


def test_every_cache_is_listed_by_name_and_keeps_its_counts_once_collected() -> None:
    name = f"test-{uuid.uuid4().hex}"
    first, second = bodies(name), bodies(name)
    first.put("a", b"123")
    second.put("b", b"45")
    first.get("a")
    second.get("c")
    (found,) = [figures for figures in caches() if figures.name == name]
    assert (found.hits, found.misses, found.entries, found.bytes) == (1, 1, 2, 5)
    del first
    gc.collect()
    (found,) = [figures for figures in caches() if figures.name == name]
    # The collected cache's lookups still count; only its entries are gone.
    assert (found.hits, found.misses, found.entries, found.bytes) == (1, 1, 1, 2)
