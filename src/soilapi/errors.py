"""Domain errors: expected failures with a stable code that clients can branch on."""

from enum import StrEnum


class ErrorCode(StrEnum):
    """Codes carried in a GraphQL error's `extensions.code`."""

    BAD_USER_INPUT = "BAD_USER_INPUT"
    INVALID_ID = "INVALID_ID"
    INVALID_CURSOR = "INVALID_CURSOR"
    PAGE_SIZE_EXCEEDED = "PAGE_SIZE_EXCEEDED"
    NOT_FOUND = "NOT_FOUND"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


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
