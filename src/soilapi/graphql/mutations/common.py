"""What every write shares in GraphQL: its source, its options, its payload's errors and diff,
and the one call that runs it (`perform`)."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import strawberry

from soilapi.errors import (
    WRITE_ERROR_CODES,
    ErrorCode,
    FieldError,
    InvalidId,
    Rejected,
    Unauthenticated,
)
from soilapi.graphql import enums, ids
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.types.history import FieldChange
from soilapi.services import writes
from soilapi.services.keys import Credentials, credentials

# Each code's meaning, as ErrorCode's docstrings give it at more length.
_WRITE_ERRORS = {
    ErrorCode.UNAUTHENTICATED: "No valid API key came with the write, or it is revoked.",
    ErrorCode.FORBIDDEN: "The key's role may not make this change.",
    ErrorCode.INVALID: "A field's value is malformed or out of range.",
    ErrorCode.NOT_FOUND: "An ID names no record of the kind the field takes.",
    ErrorCode.SLUG_TAKEN: "Another record already has this slug.",
    ErrorCode.CYCLE: "The relation would make an organisation its own ancestor.",
    ErrorCode.CONFLICT: "`expectedRevision` is not the current one (see `currentRevision`).",
    ErrorCode.IDEMPOTENCY_KEY_REUSED: "The idempotencyKey was used before with another input.",
    ErrorCode.STALE: "The proposal's record changed since it was made; it is not applied.",
}
assert set(_WRITE_ERRORS) == set(WRITE_ERROR_CODES)
WriteErrorCode = strawberry.enum(  # type: ignore[call-overload]
    enum.Enum(
        "WriteErrorCode",
        {
            code.value: strawberry.enum_value(code.value, description=meaning)
            for code, meaning in _WRITE_ERRORS.items()
        },
    ),
    description="Why a write was refused (README, Error codes). Nothing was written.",
)


@strawberry.type(description="Why a write was refused; nothing was written.")
class WriteError:
    field: list[str] = strawberry.field(
        description="The input field at fault, as a path (empty: the whole input)."
    )
    message: str = strawberry.field(description="What is wrong, and what to do.")
    code: WriteErrorCode = strawberry.field(description="What kind of refusal this is.")  # type: ignore[valid-type]
    current_revision: int | None = strawberry.field(
        description="With CONFLICT or STALE: the record's current revision."
    )


@strawberry.input(
    description="Where a written fact comes from: exactly one of `document` (with its lines "
    "and a quote), `url` (with `title` and `readOn`), or `stated: true` (the partner's own "
    "statement, with the statement as `quote`); always with the evidence level."
)
class SourceInput:
    evidence: enums.Evidence = strawberry.field(description="How the fact follows from it.")
    document: str | None = strawberry.field(
        default=None, description="A source document's key (`sourceDocuments { key }`)."
    )
    line_start: int | None = strawberry.field(default=None, description="First line quoted.")
    line_end: int | None = strawberry.field(default=None, description="Last line quoted.")
    quote: str | None = strawberry.field(
        default=None, description="The excerpt (from the lines, the page, or the statement)."
    )
    url: str | None = strawberry.field(default=None, description="A web page (http or https).")
    title: str | None = strawberry.field(default=None, description="The web page's title.")
    read_on: date | None = strawberry.field(
        default=None, description="The day the web page was read."
    )
    stated: bool = strawberry.field(
        default=False, description="The partner states the fact itself."
    )

    def as_source(self) -> writes.Source:
        """The service's form of the source."""
        return writes.Source(
            evidence=self.evidence.value,
            document=self.document,
            line_start=self.line_start,
            line_end=self.line_end,
            quote=self.quote,
            url=self.url,
            title=self.title,
            read_on=self.read_on.isoformat() if self.read_on else None,
            stated=self.stated,
        )


IdempotencyKey = Annotated[
    str | None,
    strawberry.argument(
        description="Retry safety: the same key and input return the first answer."
    ),
]


@dataclass
class Written:
    """A write's outcome, with the ids the payload resolves."""

    outcome: writes.Outcome

    def errors(self) -> list[WriteError]:
        """The payload's errors."""
        return [error_of(e) for e in self.outcome.errors]

    def diff(self) -> list[FieldChange]:
        """The payload's diff, field by field."""
        return [
            FieldChange(field=name, before=values[0], after=values[1])
            for name, values in sorted(self.outcome.diff.items())
        ]


def error_of(error: FieldError) -> WriteError:
    """A service's field error as GraphQL sends it."""
    return WriteError(
        field=list(error.path),
        message=error.message,
        code=WriteErrorCode(error.code.value),
        current_revision=error.current_revision,
    )


def record_id(value: strawberry.ID, path: str, type_names: tuple[str, ...]) -> str:
    """The uuid a global ID names, checked against the types the field takes."""
    try:
        found_type, found = ids.decode(str(value))
    except InvalidId:
        found_type, found = "", uuid.UUID(int=0)
    if found_type not in type_names:
        raise Rejected(
            [FieldError((path,), f"is not the ID of a {' or '.join(type_names)}",
                        ErrorCode.NOT_FOUND)]
        )  # fmt: skip
    return str(found)


def caller(info: AnyInfo) -> tuple[Any, Credentials]:
    """The app's engine, and the key or token the request presents (and how to check it).

    A document run in-process, without an HTTP request (the resolvers' reference run beside
    the compiler), presents no key: it is refused as a request without one would be."""
    request = info.context.request
    if request is None:
        raise Unauthenticated(writes.NO_KEY)
    headers = request.headers
    presented = credentials(headers.get("x-api-key"), headers.get("authorization"))
    return request.app.state.engine, Credentials(presented, request.app.state.tokens)


async def perform(
    info: AnyInfo,
    change: Any,
    source: SourceInput | None,
    options: writes.Options,
) -> writes.Outcome:
    """Run one write for this request and, once it committed, read the new state: the rest
    of the document (the payload's record, later mutations) sees the write."""
    context = info.context
    engine, who = caller(info)
    options = writes.Options(
        idempotency_key=options.idempotency_key,
        expected_revision=options.expected_revision,
        dry_run=options.dry_run,
        comment=options.comment,
        # The id the server logs the request under (soilapi.http.observability).
        request_id=getattr(context.request.state, "request_id", None) if context.request else None,
    )
    outcome = await writes.commit(
        engine,
        who,
        change,
        source.as_source() if source is not None else None,
        options,
    )
    await context.after_write()
    return outcome
