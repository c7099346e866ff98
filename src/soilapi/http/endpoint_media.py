"""Content negotiation for /graphql: which media type a response uses, read from `Accept`.

The GraphQL-over-HTTP specification asks servers to answer in the highest-priority media type
the client lists that the server supports; soilapi supports `application/graphql-response+json`
(whose status codes can be trusted: 4xx means the request was refused) and `application/json`
(the legacy type, where a well-formed request always gets 200).
"""

from __future__ import annotations

from dataclasses import dataclass

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
HTML = "text/html"

_UTF8 = frozenset({"utf-8", "utf8"})


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header: `type/subtype`, its weight and where it was listed."""

    type: str
    subtype: str
    q: float
    charset: str | None
    position: int


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed entries are skipped, as RFC 9110 allows."""
    ranges: list[MediaRange] = []
    for position, item in enumerate(header.split(",")):
        name, *params = (part.strip() for part in item.split(";"))
        kind, slash, sub = name.lower().partition("/")
        if not slash or not kind or not sub or (kind == "*" and sub != "*"):
            continue
        q, charset, valid = 1.0, None, True
        for param in params:
            key, _, value = param.partition("=")
            key, value = key.strip().lower(), value.strip().strip('"').lower()
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    valid = False
                valid = valid and 0.0 <= q <= 1.0
            elif key == "charset":
                charset = value
        if valid:
            ranges.append(MediaRange(kind, sub, q, charset, position))
    return ranges


def _match(media_type: str, ranges: list[MediaRange]) -> tuple[float, int, int] | None:
    """(weight, specificity, position) of the most specific range covering `media_type`.

    A range with a charset other than UTF-8 does not cover it: soilapi only writes UTF-8.
    """
    kind, _, sub = media_type.partition("/")
    best: tuple[float, int, int] | None = None
    for r in ranges:
        if r.charset is not None and r.charset not in _UTF8:
            continue
        if r.type == kind and r.subtype == sub:
            specificity = 3
        elif r.type == kind and r.subtype == "*":
            specificity = 2
        elif r.type == "*":
            specificity = 1
        else:
            continue
        if best is None or specificity > best[1]:
            best = (r.q, specificity, r.position)
    return best


def negotiate(accept: str | None) -> str | None:
    """The response media type for this Accept header, or None when neither is acceptable.

    No header means `application/json`: the graphql-http audit (80D8) checks that legacy default,
    which the specification kept until its 2025 watershed (it now suggests the new type).
    Ties go to the more specific range, then to the one listed first, then to
    `application/json`, so `*/*` and `application/*` get `application/json` (audit 47DE).
    """
    if accept is None or not accept.strip():
        return JSON
    ranges = parse_accept(accept)
    scored = []
    for media_type, legacy in ((GRAPHQL_RESPONSE_JSON, 0), (JSON, 1)):
        found = _match(media_type, ranges)
        if found is not None and found[0] > 0:
            q, specificity, position = found
            scored.append(((q, specificity, -position, legacy), media_type))
    return max(scored)[1] if scored else None


def accepts_html(accept: str | None) -> bool:
    """Whether the client asked for HTML by name (`text/html` or `text/*`), as browsers do.

    `*/*` alone does not count: scripts and HTTP libraries send it, and they want JSON.
    """
    if not accept:
        return False
    found = _match(HTML, parse_accept(accept))
    return found is not None and found[0] > 0 and found[1] >= 2
