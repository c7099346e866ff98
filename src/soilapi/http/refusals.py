"""Refusals sent before any endpoint runs, shaped like every other soilapi error."""

from __future__ import annotations

import orjson

from soilapi.errors import ErrorCode


def problem_body(message: str, code: ErrorCode) -> bytes:
    """A GraphQL-shaped error body: clients read every refusal the same way."""
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
