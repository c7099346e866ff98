"""Conditional GETs: entity tags, and whether a client's copy is current (RFC 9110 §13).

A client that sends back the ETag it holds gets 304 with no body while the answer is unchanged,
so it revalidates for the price of a round trip and never shows data older than the last write.
"""

from __future__ import annotations

import hashlib


def entity_tag(*parts: str) -> str:
    """A weak ETag of `parts`: weak because the gzip middleware sends the same answer in two
    encodings under one tag, which only a weak validator may do."""
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def fresh(if_none_match: str | None, etag: str) -> bool:
    """Whether `If-None-Match` names `etag` (weak comparison, as the RFC has for GET) or is `*`."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))
