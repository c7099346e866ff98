"""Refusals sent before any endpoint runs, shaped like every other soilapi error."""

from __future__ import annotations

import orjson
from starlette.types import Send

from soilapi.errors import ErrorCode


def problem_body(message: str, code: ErrorCode, **extensions: str) -> bytes:
    """A GraphQL-shaped error body: clients read every refusal the same way."""
    error = {"message": message, "extensions": {"code": code, **extensions}}
    return orjson.dumps({"errors": [error]})


async def refuse(
    send: Send,
    status: int,
    code: ErrorCode,
    message: str,
    headers: list[tuple[bytes, bytes]],
    **extensions: str,
) -> None:
    """Send a GraphQL-shaped error response with `headers` and `extensions` added."""
    body = problem_body(message, code, **extensions)
    start = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": start + headers})
    await send({"type": "http.response.body", "body": body})
