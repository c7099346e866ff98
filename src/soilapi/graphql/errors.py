"""Error reporting: expected errors carry a code; unexpected ones are masked and logged.

Clients branch on `extensions.code`. Anything that is not a DomainError or a GraphQL
syntax/validation error is replaced by "Internal error" plus an error id that appears in the
server log next to the full traceback, so internals never leak.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from soilapi.errors import DomainError, ErrorCode

log = logging.getLogger("soilapi.errors")

DATABASE_ERRORS = (
    "OperationalError",
    "InterfaceError",
    "ConnectionRefusedError",
    "ConnectionDoesNotExistError",
    "CannotConnectNowError",
    "TimeoutError",
)
QUERY_CANCELED = "57014"


def _is_database_outage(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if type(seen).__name__ in DATABASE_ERRORS or isinstance(seen, OSError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_statement_timeout(error: BaseException) -> bool:
    """PostgreSQL cancelled the statement (statement_timeout): SQLSTATE 57014, at any depth."""
    seen: BaseException | None = error
    while seen is not None:
        if getattr(seen, "sqlstate", None) == QUERY_CANCELED:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def classify(error: GraphQLError) -> GraphQLError:
    """Return the error a client should see."""
    original = error.original_error
    extensions: dict[str, Any] = dict(error.extensions or {})
    if original is None or error.path is None:
        # Syntax, validation and variable-coercion errors: graphql-core words them for
        # clients ("Variable '$first' got invalid value 'ten'"), and no resolver ran.
        extensions.setdefault("code", ErrorCode.GRAPHQL_VALIDATION_FAILED)
        return GraphQLError(error.message, error.nodes, extensions=extensions)
    if isinstance(original, DomainError):
        extensions["code"] = original.code
        if original.field:
            extensions["field"] = original.field
        return GraphQLError(original.message, error.nodes, path=error.path, extensions=extensions)
    error_id = uuid.uuid4().hex[:12]
    if _is_statement_timeout(original):  # before the outage test: it is an OperationalError too
        log.warning("statement timeout [%s] at %s", error_id, error.path, exc_info=original)
        return GraphQLError(
            "A database statement ran longer than the server's statement timeout and was "
            f"stopped; ask for less (error id {error_id})",
            error.nodes,
            path=error.path,
            extensions={"code": ErrorCode.TIMEOUT, "errorId": error_id},
        )
    if _is_database_outage(original):
        log.error("database unavailable [%s]", error_id, exc_info=original)
        return GraphQLError(
            f"Database unavailable, try again shortly (error id {error_id})",
            error.nodes,
            path=error.path,
            extensions={"code": ErrorCode.DATABASE_UNAVAILABLE, "errorId": error_id},
        )
    log.error("internal error [%s] at %s", error_id, error.path, exc_info=original)
    return GraphQLError(
        f"Internal error (error id {error_id})",
        error.nodes,
        path=error.path,
        extensions={"code": ErrorCode.INTERNAL_ERROR, "errorId": error_id},
    )


class ErrorCodes(SchemaExtension):
    """Rewrite every error of a result into its client-facing form."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [classify(e) for e in result.errors]
