"""Error codes and domain errors: expected failures with a stable code clients can branch on."""

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every `extensions.code` soilapi sends, and the only place one is spelled.

    Clients switch on these strings, so a value never changes once released. The README's table
    of error codes lists exactly these members (tests/test_error_codes.py keeps them in step).
    """

    # Refused by the server before any endpoint sees the request (soilapi.http.server, .admission).
    HEADERS_TOO_LARGE = "HEADERS_TOO_LARGE"
    """The request's headers pass `max_request_head_bytes`, one header `max_header_bytes`, or
    there are more than `max_headers` (431; the connection is closed)."""
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    """The headers did not arrive within `header_timeout_seconds`, or the body within
    `body_timeout_seconds` of them (408; the connection is closed)."""
    OVERLOADED = "OVERLOADED"
    """The process is handling `max_requests_in_flight` requests already (503, with
    `Retry-After`): retry then, or on another replica."""

    # Refused by the HTTP endpoint before GraphQL sees the document (soilapi.http).
    BAD_REQUEST = "BAD_REQUEST"
    """The request's parameters are malformed: no `query`, invalid JSON, a wrong type (400)."""
    BATCHING_NOT_SUPPORTED = "BATCHING_NOT_SUPPORTED"
    """The POST body is a JSON array of operations; send one per request (400)."""
    QUERY_TOO_LARGE = "QUERY_TOO_LARGE"
    """The document is longer than `max_query_chars` (400)."""
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    """The POST body is larger than `max_body_bytes` (413)."""
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    """The POST body is not uncompressed UTF-8 application/json (415)."""
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    """`Accept` allows neither GraphQL response media type (406)."""
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    """A method other than GET or POST, or a mutation sent with GET (405, with `Allow`)."""
    RATE_LIMITED = "RATE_LIMITED"
    """The client's rate-limit bucket cannot pay for the query (429, with `Retry-After`)."""
    OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
    """The operation to run cannot be chosen: several without `operationName`, or no such name."""
    OPERATION_NOT_SUPPORTED = "OPERATION_NOT_SUPPORTED"
    """The operation's type cannot run over HTTP (a subscription)."""

    # A document named by its hash (soilapi.http.persisted: automatic persisted queries,
    # trusted documents). Apollo Client and urql switch on PERSISTED_QUERY_NOT_FOUND.
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    """No document is known by this hash here: send the query with its hash (404, or 200
    under application/json), and later requests may send the hash alone."""
    PERSISTED_QUERY_NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
    """The server runs only its trusted documents and this one is not among them (400, or
    200 under application/json)."""

    # Refused after parsing, before any resolver runs (soilapi.graphql.limits, .errors). The
    # first two are the codes Apollo's clients and servers use for the same failures.
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    """The document is not valid GraphQL syntax (`locations` gives the line and column)."""
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    """The document does not fit the schema: an unknown field, a missing argument..."""
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    """The query nests fields deeper than `max_query_depth`."""
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    """The query uses more aliases than `max_query_aliases` (each fragment use counts)."""
    TOO_MANY_DIRECTIVES = "TOO_MANY_DIRECTIVES"
    """The document holds more directives than `max_query_directives`."""
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    """The document holds more tokens than `max_query_tokens`; parsing stopped there."""
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    """The query could return more nodes than `max_query_nodes`."""
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    """Introspection lists nested 3 deep, or fragments too tangled to measure."""
    RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"
    """The answer ran longer than `max_response_bytes`; no partial data is sent."""

    # Raised while executing: the error has a `path` and the other fields still answer.
    BAD_USER_INPUT = "BAD_USER_INPUT"
    """An argument or a variable is malformed or out of range (`field` names the argument;
    a variable's error has no `path`, and `data` is absent)."""
    INVALID_ID = "INVALID_ID"
    """A global ID could not be decoded."""
    INVALID_CURSOR = "INVALID_CURSOR"
    """A cursor is malformed or belongs to another list or order."""
    PAGE_SIZE_EXCEEDED = "PAGE_SIZE_EXCEEDED"
    """`first`/`last` is over `max_page_size`."""
    TIMEOUT = "TIMEOUT"
    """Execution ran past `execution_timeout_seconds` (no `data`), or one SQL statement ran
    past `statement_timeout_ms` (its field is null, the others answer)."""
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    """PostgreSQL could not be reached (503, with `Retry-After`)."""
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    """A bug: the message is masked and carries an `errorId`; the server log has the rest."""

    # A write's expected failures: the `code` of an entry in its payload's `errors` (data, not
    # a top-level error), with `field` naming the input field at fault. Nothing was written.
    UNAUTHENTICATED = "UNAUTHENTICATED"
    """The write came without a valid API key (`X-API-Key`, or `Authorization: Bearer`), or
    with a revoked one."""
    FORBIDDEN = "FORBIDDEN"
    """The key's role may not make this change (a partner may propose it instead)."""
    INVALID = "INVALID"
    """A field's value is malformed or out of range: control characters, an FTE below zero,
    dates out of order, an unknown country code."""
    NOT_FOUND = "NOT_FOUND"
    """An ID names no record (or a retired one)."""
    SLUG_TAKEN = "SLUG_TAKEN"
    """Another record already has this slug."""
    CYCLE = "CYCLE"
    """The relation would make an organisation its own ancestor."""
    CONFLICT = "CONFLICT"
    """`expectedRevision` is not the record's current revision (the error says which is):
    read the record again and reapply the change."""
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    """This `idempotencyKey` was used before with another mutation or another input."""
    STALE = "STALE"
    """The proposal was made against a revision that has changed since: it is not applied."""


# The codes a write's payload may carry, in the order the GraphQL enum lists them.
WRITE_ERROR_CODES = (
    ErrorCode.UNAUTHENTICATED,
    ErrorCode.FORBIDDEN,
    ErrorCode.INVALID,
    ErrorCode.NOT_FOUND,
    ErrorCode.SLUG_TAKEN,
    ErrorCode.CYCLE,
    ErrorCode.CONFLICT,
    ErrorCode.IDEMPOTENCY_KEY_REUSED,
    ErrorCode.STALE,
)


class DomainError(Exception):
    """An expected failure; its message is safe to show to any client."""

    code: ErrorCode = ErrorCode.BAD_USER_INPUT

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """An argument is malformed or out of range."""


class InvalidId(DomainError):
    """A global ID could not be decoded."""

    code = ErrorCode.INVALID_ID


class InvalidCursor(DomainError):
    """A pagination cursor could not be decoded."""

    code = ErrorCode.INVALID_CURSOR


class PageSizeExceeded(DomainError):
    """`first`/`last` asked for more rows than one page may hold."""

    code = ErrorCode.PAGE_SIZE_EXCEEDED


class FieldError(DomainError):
    """A write's expected failure, about one input field (`path`, empty for the whole input).

    Services raise `Rejected` with one or more; GraphQL returns them as the payload's
    `errors`, and the transaction is rolled back, so nothing is written.
    """

    def __init__(
        self,
        path: tuple[str, ...],
        message: str,
        code: ErrorCode = ErrorCode.INVALID,
        *,
        current_revision: int | None = None,
    ) -> None:
        super().__init__(message, field=".".join(path) or None)
        self.path = path
        self.code = code
        self.current_revision = current_revision


class Rejected(Exception):
    """A write that was refused, with every reason found."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class Unauthenticated(DomainError):
    """A read that depends on who asks came without a valid API key."""

    code = ErrorCode.UNAUTHENTICATED
