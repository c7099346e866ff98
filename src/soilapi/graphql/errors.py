"""Error reporting: expected errors carry a code; unexpected ones are masked and logged.

Clients branch on `extensions.code`. Anything that is not a DomainError or a GraphQL
syntax/validation error is replaced by "Internal error" plus an error id that appears in the
server log next to the full traceback, so internals never leak.

The log keeps ERROR for those server faults, one line each with its error id, so an alert on
ERROR means a bug or an outage. A client's mistakes are its own business: `log_client_errors`
sums up a result's at INFO in one short line, with no traceback, however many there are.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
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
# Codes of errors the server is to blame for: each is logged where it is made (here, the
# HTTP endpoint, the execution time limit), with its error id where it has one.
SERVER_CODES = frozenset(
    {ErrorCode.INTERNAL_SERVER_ERROR, ErrorCode.DATABASE_UNAVAILABLE, ErrorCode.TIMEOUT}
)
_QUOTED_CHARS = 200  # of the first error's message, in the line that sums up a result's errors


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
        # clients ("Variable '$first' got invalid value 'ten'"), and no resolver ran. Their
        # source and positions are kept: a syntax error has no node, only a position, and
        # its line and column are what an editor shows.
        extensions.setdefault("code", _pathless_code(error))
        return GraphQLError(
            error.message, error.nodes, error.source, error.positions, extensions=extensions
        )
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
        extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR, "errorId": error_id},
    )


def _pathless_code(error: GraphQLError) -> ErrorCode:
    """The code of an error found before execution that no step of soilapi coded itself:
    variables' errors are coded where graphql-core coerces them (soilapi.graphql.execution)."""
    if isinstance(error, GraphQLSyntaxError):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    return ErrorCode.GRAPHQL_VALIDATION_FAILED


def code_of(error: GraphQLError) -> str | None:
    """The `extensions.code` an error carries, if any."""
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else None


def client_code(error: GraphQLError) -> str | None:
    """The code a client's mistake is reported with (as `classify` gives it); None for a
    server fault, which `classify` or the HTTP endpoint masks and logs."""
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return None if code in SERVER_CODES else code
    if original is None or error.path is None:
        # A pathless error with an exception behind it is a variable the client sent that a
        # scalar refused, or (rarely) a crash before execution: the endpoint masks the
        # latter and logs it at ERROR too, so the INFO line here hides nothing.
        return _pathless_code(error)
    return None


def log_client_errors(errors: Sequence[GraphQLError]) -> None:
    """Sum up a result's client errors in one INFO line: how many, their codes, the first.

    Strawberry would log each at ERROR with its traceback and the document's excerpt: one
    request of a hundred misspelt fields wrote 160 KB, and alerts on ERROR fired for them.
    """
    if not log.isEnabledFor(logging.INFO):
        return
    coded = [(code, e) for e in errors if (code := client_code(e)) is not None]
    if not coded:
        return
    codes = [code for code, _ in coded]
    first = coded[0][1].message
    if len(first) > _QUOTED_CHARS:
        first = first[:_QUOTED_CHARS] + "..."
    counted = Counter(codes)
    summary = ", ".join(f"{code} x{n}" if n > 1 else code for code, n in counted.items())
    noun = "error" if len(codes) == 1 else "errors"
    log.info("%d client %s (%s): %s", len(codes), noun, summary, first)


class ErrorCodes(SchemaExtension):
    """Rewrite every error of a result into its client-facing form."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [classify(e) for e in result.errors]
