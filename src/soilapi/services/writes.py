"""Every write, through one pipeline: who asks, is it valid, is it theirs, then the change,
its revision and its answer, committed once.

A write is a `Change`: plain data (JSON values only) that knows how to plan itself against
the database (`plan`). The pipeline (`run`) does the rest the same way for every mutation:

1. the key is checked inside the write's own transaction (a revocation holds at once);
2. an `idempotencyKey` is claimed: a retry of the same write returns the first answer;
3. the change is planned: its input validated, its target locked and read, the diff made;
4. `expectedRevision` is compared with the locked row (CONFLICT with the current one);
5. a partner outside its scope files a proposal instead (`ChangeRequest`), which a curator
   later approves (the same change, planned again, credited to both) or rejects;
6. `dryRun` stops here and rolls back; otherwise the rows change, a revision records it
   (which bumps the data version, so no cached answer survives), and the transaction commits.

Any failure raises `Rejected` with field errors, and the transaction rolls back: a write is
whole or absent.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Protocol

from soilapi.db.session import Connection
from soilapi.errors import ErrorCode, FieldError, InvalidInput, Rejected, Unauthenticated
from soilapi.repositories import history
from soilapi.repositories import writes as repo
from soilapi.services import keys
from soilapi.services.dates import partial_date
from soilapi.services.keys import Credentials, Principal
from soilapi.vocab import (
    ChangeRequestStatus,
    Evidence,
    Operation,
    Role,
)

Json = Any
Diff = dict[str, list[Json]]
# The source a write cites, as the columns of an inline provenance (None for a retirement).
Cited = dict[str, Any] | None
MAX_TEXT = 4000


@dataclass(frozen=True)
class Source:
    """Where a written fact comes from: exactly one of a source document's lines, a web page
    read on a day, or the partner's own statement; always with the evidence level."""

    evidence: str
    document: str | None = None
    line_start: int | None = None
    line_end: int | None = None
    quote: str | None = None
    url: str | None = None
    title: str | None = None
    read_on: str | None = None
    stated: bool = False


@dataclass(frozen=True)
class Options:
    """How to run a write: retry key, the revision it was based on, validate only, why."""

    idempotency_key: str | None = None
    expected_revision: int | None = None
    dry_run: bool = False
    comment: str | None = None
    request_id: str | None = None


@dataclass
class Outcome:
    """What a write did, or would do (`dry_run`), or proposed (`change_request_id`)."""

    target_id: uuid.UUID | None = None
    revision: int | None = None
    diff: Diff = field(default_factory=dict)
    dry_run: bool = False
    change_request_id: uuid.UUID | None = None
    errors: list[FieldError] = field(default_factory=list)

    def as_json(self) -> dict[str, Json]:
        """The outcome as the idempotency record keeps it (errors are never kept)."""
        return {
            "target_id": str(self.target_id) if self.target_id else None,
            "revision": self.revision,
            "diff": self.diff,
            "change_request_id": str(self.change_request_id) if self.change_request_id else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> Outcome:
        """An outcome kept by an idempotency record."""
        target, request = data.get("target_id"), data.get("change_request_id")
        return cls(
            target_id=uuid.UUID(target) if target else None,
            revision=data.get("revision"),
            diff=dict(data.get("diff") or {}),
            change_request_id=uuid.UUID(request) if request else None,
        )


@dataclass
class Plan:
    """What a change will do: its target, the diff, whose it is, and how to apply it."""

    target_id: uuid.UUID
    kind: str
    operation: Operation
    current_revision: int | None
    diff: Diff
    scope: frozenset[uuid.UUID]
    apply: Callable[[Connection, Cited], Awaitable[None]]
    # Relations the change also makes or retires (a new record's ties to its owners, a
    # retired record's relations), each a revision of its own: (id, operation, diff).
    also: list[tuple[uuid.UUID, Operation, Diff]] = field(default_factory=list)
    # The record's fields the write's source backs (an entity source each); None: the diff's.
    sourced: tuple[str, ...] | None = None
    # Whether the write states a fact, and so must say where it comes from (a removal does not).
    states: bool = True


class Change(Protocol):
    """One mutation's input, as plain data."""

    mutation: ClassVar[str]

    async def plan(self, conn: Connection) -> Plan:
        """Validate against the database (raise Rejected), lock the target, make the diff."""


CHANGES: dict[str, type[Any]] = {}


def change(cls: type[Any]) -> type[Any]:
    """Register a Change under its mutation name, so that a proposal can be planned again."""
    CHANGES[cls.mutation] = cls
    return cls


# --- checks shared by every change -----------------------------------------------------------


def text(
    value: str | None, path: tuple[str, ...], *, required: bool = False, lines: bool = False
) -> str | None:
    """A text field: no control characters (line breaks only where `lines`), trimmed, bounded."""
    if value is None:
        if required:
            raise Rejected([FieldError(path, "is required")])
        return None
    allowed = {"\n", "\t"} if lines else set()
    bad = [c for c in value if unicodedata.category(c) in ("Cc", "Cs") and c not in allowed]
    if bad:
        raise Rejected([FieldError(path, f"holds a control character (U+{ord(bad[0]):04X})")])
    trimmed = value.strip()
    if required and not trimmed:
        raise Rejected([FieldError(path, "must not be empty")])
    if len(trimmed) > MAX_TEXT:
        raise Rejected([FieldError(path, f"is longer than {MAX_TEXT} characters")])
    return trimmed or None


def day_of(value: str | None, path: tuple[str, ...]) -> tuple[date | None, str | None]:
    """A partial date ("2021", "2021-06", "2021-06-15") as its first day and precision."""
    if value is None:
        return None, None
    try:
        found = partial_date(value, ".".join(path))
    except InvalidInput as exc:
        raise Rejected([FieldError(path, exc.message)]) from None
    return found.first, found.precision.value


def ordered(start: date | None, end: date | None, path: tuple[str, ...]) -> None:
    """An end is not before its start."""
    if start is not None and end is not None and end < start:
        raise Rejected([FieldError(path, f"ends ({end}) before it starts ({start})")])


def global_id(value: str, path: tuple[str, ...], decode: Callable[[str], uuid.UUID]) -> uuid.UUID:
    """A record's id from the global ID the client sent."""
    try:
        return decode(value)
    except Exception:
        raise Rejected([FieldError(path, "is not a valid ID", ErrorCode.NOT_FOUND)]) from None


def as_json(value: Any) -> Json:
    """A column value as the diff shows it."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):  # NUMERIC columns: a JSON number
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "value"):  # an enum
        return value.value
    return value


# --- provenance ------------------------------------------------------------------------------


async def source_row(conn: Connection, source: Source, principal: Principal) -> dict[str, Any]:
    """The source document a write cites: an existing one (its lines and quote checked), or a
    new one for a web page or the partner's statement. Returns the entity-source columns."""
    try:
        evidence = Evidence(source.evidence)
    except ValueError:
        raise Rejected([FieldError(("source", "evidence"), "is not an evidence level")]) from None
    kinds = [source.document is not None, source.url is not None, source.stated]
    if sum(kinds) != 1:
        message = "give exactly one of `document` (with lines), `url` (with title), `stated`"
        raise Rejected([FieldError(("source",), message)])
    quote = text(source.quote, ("source", "quote"), lines=True)
    if source.document is not None:
        return await _document_source(conn, source, evidence, quote)
    if source.url is not None:
        url = text(source.url, ("source", "url"), required=True) or ""
        if not url.startswith(("https://", "http://")):
            raise Rejected([FieldError(("source", "url"), "must be an http(s) URL")])
        title = text(source.title, ("source", "title"), required=True) or ""
        read_on, _ = day_of(source.read_on, ("source", "readOn"))
        if read_on is None:
            raise Rejected([FieldError(("source", "readOn"), "is required with a URL")])
        content = quote or title
        key = "web-" + hashlib.sha256(f"{url}\n{read_on}\n{content}".encode()).hexdigest()[:20]
        doc = {
            "key": key,
            "file_name": url,
            "title": title,
            "genre": "web page",
            "url": url,
            "read_on": read_on,
            "content": content,
        }
    else:
        if quote is None:
            raise Rejected(
                [FieldError(("source", "quote"), "is required: what the partner states")]
            )
        stated_by = sorted(principal.organizations)[0] if principal.organizations else None
        key = "stated-" + hashlib.sha256(f"{principal.actor}\n{quote}".encode()).hexdigest()[:20]
        doc = {
            "key": key,
            "file_name": principal.actor,
            "genre": "partner statement",
            "title": f"Statement by {principal.actor}",
            "stated_by_id": stated_by,
            "content": quote,
        }
    content = str(doc["content"])
    await repo.insert_source_document(
        conn,
        {
            **doc,
            "id": uuid.uuid5(uuid.NAMESPACE_URL, str(doc["key"])),
            "sha256": hashlib.sha256(content.encode()).hexdigest(),
            "line_count": content.count("\n") + 1,
        },
    )
    found = await repo.document_id(conn, str(doc["key"]))
    assert found is not None
    return {
        "document_id": found[0],
        "line_start": 1,
        "line_end": found[1],
        "quote": content,
        "evidence": evidence.value,
    }


async def _document_source(
    conn: Connection, source: Source, evidence: Evidence, quote: str | None
) -> dict[str, Any]:
    key = source.document or ""
    lines = await repo.document_lines(conn, key)
    if lines is None:
        raise Rejected(
            [FieldError(("source", "document"), f"no source document {key!r}", ErrorCode.NOT_FOUND)]
        )
    first, last = source.line_start, source.line_end
    if first is None or last is None or not 1 <= first <= last <= len(lines):
        message = f"lines must be within 1..{len(lines)}, the first not after the last"
        raise Rejected([FieldError(("source", "lines"), message)])
    if quote is None:
        raise Rejected([FieldError(("source", "quote"), "is required with a document")])
    excerpt = " ".join(" ".join(lines[first - 1 : last]).split())
    if " ".join(quote.split()) not in excerpt:
        message = f"is not found on lines {first}-{last} of {key}"
        raise Rejected([FieldError(("source", "quote"), message)])
    doc = await repo.document_id(conn, key)
    assert doc is not None
    return {
        "document_id": doc[0],
        "line_start": first,
        "line_end": last,
        "quote": quote,
        "evidence": evidence.value,
    }


# --- the pipeline ----------------------------------------------------------------------------


def _fingerprint(mutation: str, data: Mapping[str, Json]) -> str:
    frozen = json.dumps([mutation, data], sort_keys=True, default=str)
    return hashlib.sha256(frozen.encode()).hexdigest()


def may_change(principal: Principal, plan: Plan) -> bool:
    """Curators change anything; a partner changes what its organisations own."""
    if principal.may_change_anything():
        return True
    return principal.role == Role.PARTNER and bool(plan.scope & principal.organizations)


async def run(
    conn: Connection,
    credentials: Credentials | None,
    change_: Any,
    source: Source | None,
    options: Options,
) -> Outcome:
    """Run one write in `conn`'s transaction (the caller commits, or rolls back on Rejected).

    Expected failures come back as the outcome's errors, with nothing written.
    """
    principal = await keys.verify(conn, credentials)
    if principal is None:
        message = "Writes need a valid API key: send it as X-API-Key (see README, For partners)."
        raise Rejected([FieldError((), message, ErrorCode.UNAUTHENTICATED)])
    data = {
        "change": dataclasses.asdict(change_),
        "source": dataclasses.asdict(source) if source else None,
    }
    if options.idempotency_key is not None and not options.dry_run:
        key = text(options.idempotency_key, ("idempotencyKey",), required=True) or ""
        earlier = await repo.claim_idempotency(
            conn, principal.actor, key, change_.mutation, _fingerprint(change_.mutation, data)
        )
        if earlier is not None:
            if earlier["mutation"] != change_.mutation or earlier["input_sha256"] != _fingerprint(
                change_.mutation, data
            ):
                message = "this idempotencyKey was used before with another input"
                raise Rejected(
                    [FieldError(("idempotencyKey",), message, ErrorCode.IDEMPOTENCY_KEY_REUSED)]
                )
            return Outcome.from_json(earlier["outcome"])
    outcome = await _plan_and_apply(conn, principal, change_, source, options, data)
    if options.idempotency_key is not None and not options.dry_run:
        await repo.settle_idempotency(
            conn, principal.actor, options.idempotency_key.strip(), outcome.as_json()
        )
    return outcome


async def _plan_and_apply(
    conn: Connection,
    principal: Principal,
    change_: Any,
    source: Source | None,
    options: Options,
    data: Mapping[str, Json],
    *,
    approved_by: str | None = None,
    actor: Principal | None = None,
    planned: Plan | None = None,
) -> Outcome:
    plan: Plan = planned or await change_.plan(conn)
    expected = options.expected_revision
    if (
        expected is not None
        and plan.current_revision is not None
        and expected != plan.current_revision
    ):
        message = (
            f"the record is at revision {plan.current_revision}, not {expected}: "
            "read it again and reapply your change"
        )
        raise Rejected(
            [
                FieldError(
                    ("expectedRevision",),
                    message,
                    ErrorCode.CONFLICT,
                    current_revision=plan.current_revision,
                )
            ]
        )
    if not may_change(principal, plan):
        if principal.role != Role.PARTNER:
            raise Rejected([FieldError((), "this key may not write", ErrorCode.FORBIDDEN)])
        return await _propose(conn, principal, change_, plan, data, options)
    if source is None and plan.states:
        raise Rejected([FieldError(("source",), "every write says where its fact comes from")])
    cited = await source_row(conn, source, actor or principal) if source is not None else None
    if options.dry_run:
        return Outcome(plan.target_id, plan.current_revision, plan.diff, dry_run=True)
    if not plan.diff and not plan.also:
        return Outcome(plan.target_id, plan.current_revision, {})
    await plan.apply(conn, cited)
    if cited is not None and plan.kind != "relation" and plan.operation != Operation.RETIRE:
        await repo.insert_entity_sources(
            conn,
            [
                {
                    **cited,
                    "id": uuid.uuid5(
                        plan.target_id,
                        f"{name}\n{cited['document_id']}\n{cited['line_start']}\n{cited['quote']}",
                    ),
                    "entity_id": plan.target_id,
                    "property": name,
                }
                for name in sorted(plan.diff if plan.sourced is None else plan.sourced)
            ],
        )
    who = actor or principal
    provenance = (
        None
        if source is None
        else {k: v for k, v in dataclasses.asdict(source).items() if v not in (None, False)}
    )

    # The same who, why and source for the change itself and the relations it brings along.
    def revision(
        target: uuid.UUID, kind: str, operation: Operation, diff: Diff
    ) -> history.NewRevision:
        return history.NewRevision(
            target_id=target, kind=kind, operation=operation, diff=diff, actor=who.actor,
            actor_role=who.role.value, provenance=provenance, comment=options.comment,
            approved_by=approved_by, request_id=options.request_id,
        )  # fmt: skip

    revisions = [
        revision(plan.target_id, plan.kind, plan.operation, plan.diff),
        *(revision(other, "relation", operation, diff) for other, operation, diff in plan.also),
    ]
    recorded = await history.record(conn, revisions)
    return Outcome(plan.target_id, recorded[0].number, plan.diff)


async def _propose(
    conn: Connection,
    principal: Principal,
    change_: Any,
    plan: Plan,
    data: Mapping[str, Json],
    options: Options,
) -> Outcome:
    """File a partner's out-of-scope change for a curator (nothing else changes)."""
    if data.get("source") is None and plan.states:
        raise Rejected([FieldError(("source",), "every write says where its fact comes from")])
    if options.dry_run:
        return Outcome(plan.target_id, plan.current_revision, plan.diff, dry_run=True)
    request_id = uuid.uuid4()
    await repo.insert_change_request(
        conn,
        {
            "id": request_id,
            "status": ChangeRequestStatus.PENDING.value,
            "mutation": change_.mutation,
            "input": dict(data),
            "target_id": plan.target_id,
            "base_revision": plan.current_revision,
            "diff": plan.diff,
            "comment": options.comment,
            "proposer": principal.actor,
        },
    )
    return Outcome(plan.target_id, plan.current_revision, plan.diff, change_request_id=request_id)


async def review(
    conn: Connection,
    credentials: Credentials | None,
    request_id: uuid.UUID,
    approve: bool,
    reason: str | None,
) -> Outcome:
    """A curator's decision on a proposal: approval plans the proposed change again and
    applies it as a revision credited to the proposer and the approver; a proposal whose
    record has changed since it was made is STALE and stays pending."""
    principal = await keys.verify(conn, credentials)
    if principal is None:
        message = "Reviews need a valid API key: send it as X-API-Key."
        raise Rejected([FieldError((), message, ErrorCode.UNAUTHENTICATED)])
    if not principal.may_change_anything():
        raise Rejected([FieldError((), "only curators review proposals", ErrorCode.FORBIDDEN)])
    why = text(reason, ("reason",), lines=True)
    found = await repo.lock_change_request(conn, request_id)
    if found is None:
        raise Rejected([FieldError(("id",), "no such change request", ErrorCode.NOT_FOUND)])
    if found["status"] != ChangeRequestStatus.PENDING.value:
        raise Rejected([FieldError(("id",), f"the change request is {found['status']} already")])
    if not approve:
        if why is None:
            raise Rejected([FieldError(("reason",), "a rejection says why")])
        await repo.review_change_request(
            conn,
            request_id,
            {
                "status": ChangeRequestStatus.REJECTED.value,
                "reviewer": principal.actor,
                "reason": why,
            },
        )
        return Outcome(found["target_id"], None, dict(found["diff"]))  # nothing applied
    data = found["input"]
    proposed = CHANGES[found["mutation"]](**data["change"])
    source = Source(**data["source"]) if data.get("source") else None
    plan: Plan = await proposed.plan(conn)
    if plan.current_revision != found["base_revision"]:
        message = (
            f"the record has changed since the proposal (revision {found['base_revision']}, "
            f"now {plan.current_revision}): reject it, or ask the partner to propose again"
        )
        raise Rejected(
            [FieldError(("id",), message, ErrorCode.STALE, current_revision=plan.current_revision)]
        )
    proposer = Principal(found["proposer"], Role.PARTNER)
    outcome = await _plan_and_apply(
        conn,
        principal,
        proposed,
        source,
        Options(comment=found["comment"]),
        data,
        approved_by=principal.actor,
        actor=proposer,
        planned=plan,
    )
    await repo.review_change_request(
        conn,
        request_id,
        {
            "status": ChangeRequestStatus.APPROVED.value,
            "reviewer": principal.actor,
            "reason": why,
            "revision_id": None,
        },
    )
    return outcome


def _unique_violation(exc: BaseException) -> bool:
    """Whether a statement failed on a unique constraint (two writers raced for one slug or
    one idempotency key; the loser's transaction is rolled back)."""
    original = getattr(exc, "orig", None)
    return getattr(original, "sqlstate", None) == "23505" or "UniqueViolation" in repr(original)


async def commit(
    engine: Any,
    credentials: Credentials | None,
    change_: Any,
    source: Source | None,
    options: Options,
) -> Outcome:
    """Run one write in a transaction of its own and commit it; a refusal rolls everything
    back and comes back as the outcome's errors."""
    try:
        async with engine.begin() as conn:
            outcome = await run(conn, credentials, change_, source, options)
            if outcome.dry_run:
                await conn.rollback()
            return outcome
    except Rejected as refused:
        return Outcome(errors=refused.errors)
    except Exception as exc:
        if not _unique_violation(exc):
            raise
        message = "another write changed this at the same moment: read it again and retry"
        return Outcome(errors=[FieldError((), message, ErrorCode.CONFLICT)])


async def commit_review(
    engine: Any,
    credentials: Credentials | None,
    request_id: uuid.UUID,
    approve: bool,
    reason: str | None,
) -> Outcome:
    """A curator's review of a proposal, committed on its own (see `review`)."""
    try:
        async with engine.begin() as conn:
            return await review(conn, credentials, request_id, approve, reason)
    except Rejected as refused:
        return Outcome(errors=refused.errors)


# Why a read of change requests is refused without a key (here, or by the GraphQL layer
# when a document runs without an HTTP request, hence without any key).
NO_KEY = "writes and change requests need a valid API key (X-API-Key)"


async def _reviewer_scope(conn: Connection, credentials: Credentials | None) -> str | None:
    """Whose proposals a key may list: None for a curator's (all), else its own actor."""
    principal = await keys.verify(conn, credentials)
    if principal is None:
        raise Unauthenticated(NO_KEY)
    return None if principal.may_change_anything() else principal.actor


async def change_requests(
    engine: Any,
    credentials: Credentials | None,
    status: ChangeRequestStatus | None,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> tuple[list[dict[str, Any]], bool]:
    """The proposals a key may see, oldest first: a curator's every one, a partner's its own.
    A pending one is `stale` when its record has changed since it was proposed."""
    async with engine.connect() as conn:
        proposer = await _reviewer_scope(conn, credentials)
        value = None if status is None else status.value
        rows, more = await repo.change_requests_page(conn, value, proposer, after, limit)
    for row in rows:
        changed = row["current_revision"] != row["base_revision"]
        row["stale"] = row["status"] == ChangeRequestStatus.PENDING.value and changed
    return rows, more


async def change_requests_count(
    engine: Any, credentials: Credentials | None, status: ChangeRequestStatus | None
) -> int:
    """How many proposals `change_requests` lists on all its pages."""
    async with engine.connect() as conn:
        proposer = await _reviewer_scope(conn, credentials)
        value = None if status is None else status.value
        return await repo.change_requests_count(conn, value, proposer)
