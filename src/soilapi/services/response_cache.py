"""A response cache for anonymous reads that can never serve a stale answer.

Entries are keyed by the query text, variables, operation name and the data version read in
the request's own snapshot. A write bumps the version in the same transaction, so after it no
process can match an older entry: every server process stays correct with no messages
between them. Old entries simply age out of the bounded LRU.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any


class ResponseCache:
    """A bounded LRU of encoded response bodies (entries and bytes both capped)."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0

    @staticmethod
    def key(
        version: int,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
    ) -> str:
        """A digest of everything the answer depends on."""
        frozen = json.dumps(
            [version, query, variables or {}, operation_name], sort_keys=True, default=str
        )
        return hashlib.sha256(frozen.encode()).hexdigest()

    def get(self, key: str) -> bytes | None:
        """The remembered body, or None."""
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
        return body

    def put(self, key: str, body: bytes) -> None:
        """Remember a body unless it alone is too large; evict the least recently used."""
        if len(body) > self.max_bytes // 4 or key in self._entries:
            return
        self._entries[key] = body
        self._bytes += len(body)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._entries)
