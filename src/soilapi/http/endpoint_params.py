"""Reading a GraphQL-over-HTTP request: its parameters from the URL (GET) or a JSON body (POST).

Everything a client can get wrong before GraphQL sees the document is refused here with a
`Problem`: the status, a stable code and a message that says what to send instead. The checks
run cheapest first, and a body is never read past `max_body_bytes`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.requests import Request

from soilapi.errors import ErrorCode

_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
# `documentId` names a persisted document (soilapi.http.persisted), as GraphQL Codegen's
# client preset and the GraphQL-over-HTTP persisted documents proposal send it.
_PARAMS = ("query", "variables", "operationName", "extensions", "documentId")


@dataclass(frozen=True)
class Limits:
    """Caps on what one request may send (see the settings of the same names)."""

    max_body_bytes: int = 100_000
    max_query_chars: int = 20_000
    max_tokens: int = 5_000
    max_response_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class Params:
    """The four parameters of a GraphQL-over-HTTP request, checked for shape."""

    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None


@dataclass
class Problem(Exception):
    """A request refused before GraphQL ran: HTTP status, error code and a message to show.

    `legacy_status` is the status for `application/json` clients when it differs: the
    GraphQL-over-HTTP specification asks for 200 to a well-formed request there, and a hash
    the server does not know is well-formed (Apollo Server answers it 200 too).
    """

    status: int
    code: ErrorCode
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)
    legacy_status: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)


def bad(message: str, code: ErrorCode = ErrorCode.BAD_REQUEST) -> Problem:
    """A 400 problem."""
    return Problem(400, code, message)


def json_kind(value: object) -> str:
    """How a JSON value reads in an error message ("an array", "a number" ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _decode(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise bad(f"{what} is nested too deeply to read.") from None
    except ValueError as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise bad(f"{what} is not valid JSON ({detail}).") from None


def from_url(request: Request) -> dict[str, Any]:
    """GET: `query` and `operationName` as text, `variables` and `extensions` as JSON text."""
    raw: dict[str, Any] = {}
    for name in _PARAMS:
        values = request.query_params.getlist(name)
        if len(values) > 1:
            raise bad(f"The URL gives `{name}` {len(values)} times; give it once.")
        if values:
            is_json = name in {"variables", "extensions"}
            raw[name] = _decode(values[0], f"The `{name}` URL parameter") if is_json else values[0]
    return raw


def _unsupported(message: str) -> Problem:
    return Problem(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, message)


def check_content_type(request: Request) -> None:
    """POST bodies must be JSON in UTF-8, and not compressed (a small gzip can unpack huge)."""
    header = request.headers.get("content-type")
    if header is None:
        raise _unsupported("The request has no Content-Type: send the body as application/json.")
    media_type, *params = (part.strip() for part in header.split(";"))
    media_type = media_type.lower()
    if media_type in _FORMS:
        raise _unsupported(
            f"{media_type} bodies are refused (browsers send them cross-site without a "
            "CORS preflight, which enables CSRF): send application/json."
        )
    if media_type != "application/json":
        raise _unsupported(f"POST bodies must be application/json, not {media_type}.")
    for param in params:
        key, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if key.strip().lower() == "charset" and charset not in {"utf-8", "utf8"}:
            raise _unsupported("The request body must be encoded in UTF-8.")
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding != "identity":
        raise _unsupported(f"Compressed request bodies ({encoding}) are not accepted.")


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"The request body is larger than {limit:,} bytes, the most this server reads.",
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise bad("The Content-Length header is not a number.")
        if int(declared) > limit:
            raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


async def from_body(request: Request, limits: Limits) -> dict[str, Any]:
    """POST: one JSON object; a JSON array (a batch of operations) is refused."""
    check_content_type(request)
    body = await read_body(request, limits.max_body_bytes)
    if not body.strip():
        raise bad('The request body is empty: send a JSON object like {"query": "{ __typename }"}.')
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad("The request body is not valid UTF-8.") from None
    raw = _decode(text, "The request body")
    if isinstance(raw, list):
        raise bad(
            "Batching is not supported: send one operation per request, as a JSON object.",
            ErrorCode.BATCHING_NOT_SUPPORTED,
        )
    if not isinstance(raw, dict):
        raise bad(f"The request body must be a JSON object with `query`, not {json_kind(raw)}.")
    return raw


def check(raw: Mapping[str, Any], limits: Limits) -> Params:
    """Check each parameter's type, and the document's length against `max_query_chars`."""
    query = raw.get("query")
    if query is None or query == "":
        raise bad("The request has no `query`: send the GraphQL document as a string in `query`.")
    if not isinstance(query, str):
        raise bad(f"`query` must be a string holding a GraphQL document, not {json_kind(query)}.")
    if len(query) > limits.max_query_chars:
        raise bad(
            f"The GraphQL document is {len(query):,} characters long; this server accepts "
            f"at most {limits.max_query_chars:,}.",
            ErrorCode.QUERY_TOO_LARGE,
        )
    operation_name = raw.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise bad(f"`operationName` must be a string or null, not {json_kind(operation_name)}.")
    for name in ("variables", "extensions"):
        value = raw.get(name)
        if value is not None and not isinstance(value, dict):
            raise bad(f"`{name}` must be a JSON object or null, not {json_kind(value)}.")
    return Params(query, raw.get("variables"), operation_name, raw.get("extensions"))


class Documents(Protocol):
    """Reads requests that may name their document by a hash (soilapi.http.persisted)."""

    def read(self, raw: dict[str, Any], limits: Limits) -> Params:
        """The parameters, with the document a hash names; Problem when none may run."""


async def read_params(
    request: Request, limits: Limits, documents: Documents | None = None
) -> Params:
    """The request's GraphQL parameters, from the URL for GET and the JSON body for POST;
    `documents` looks up the documents requests name by hash."""
    raw = from_url(request) if request.method == "GET" else await from_body(request, limits)
    return check(raw, limits) if documents is None else documents.read(raw, limits)
