"""Mutations on records and relations: create, update and retire organisations; relate two
records and retire a relation; review proposals. Each is one call of the write pipeline
(soilapi.services.writes) with its input as plain data (soilapi.services.changes)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import strawberry
from strawberry import UNSET

from soilapi.errors import Rejected
from soilapi.graphql import enums
from soilapi.graphql.mutations.common import (
    FieldChange,
    SourceInput,
    WriteError,
    Written,
    caller,
    error_of,
    perform,
    record_id,
)
from soilapi.graphql.resolve import AnyInfo, entity
from soilapi.graphql.types import registry  # noqa: F401 - declares every record type first
from soilapi.graphql.types.organizations import Organization
from soilapi.services import changes, writes
from soilapi.vocab import EntityKind

PARTIAL_DATE = "A date to the precision the source gives: YYYY, YYYY-MM or YYYY-MM-DD."
INPUT = strawberry.argument(description="What to write, where it comes from, and how.")
NEW_OR_NULL = " Omit it to leave it as it is; null clears it."


@strawberry.input(description="The fields of an organisation that partners keep current.")
class OrganizationFields:
    name: str | None = strawberry.field(default=UNSET, description="Preferred name.")
    acronym: str | None = strawberry.field(default=UNSET, description="Acronym.")
    description: str | None = strawberry.field(default=UNSET, description="What it does.")
    country: str | None = strawberry.field(
        default=UNSET, description="ISO 3166-1 alpha-2 code of its seat (upper case)."
    )
    start: str | None = strawberry.field(default=UNSET, description=f"Founded. {PARTIAL_DATE}")
    end: str | None = strawberry.field(default=UNSET, description=f"Dissolved. {PARTIAL_DATE}")
    org_class: enums.OrgClass | None = strawberry.field(
        default=UNSET, description="Formal organisation, unit or collaboration."
    )
    category: enums.OrgCategory | None = strawberry.field(
        default=UNSET, description="What kind of organisation it is."
    )
    is_international_org: bool | None = strawberry.field(
        default=UNSET, description="Whether it is an international organisation."
    )
    jurisdiction_label: str | None = strawberry.field(
        default=UNSET, description="The area it works for, as the sources name it."
    )
    purpose: str | None = strawberry.field(default=UNSET, description="Its stated purpose.")


def given(fields: Any) -> dict[str, Any]:
    """The fields a client set (null included), as the service's plain values."""
    found: dict[str, Any] = {}
    for name in fields.__strawberry_definition__.fields:
        value = getattr(fields, name.python_name)
        if value is UNSET:
            continue
        found[name.python_name] = getattr(value, "value", value)
    return found


@strawberry.input(description="A new organisation.")
class OrganizationCreateInput:
    slug: str = strawberry.field(description="Its lookup key: lower-case words joined by -.")
    fields: OrganizationFields = strawberry.field(description="Its fields (`name` required).")
    source: SourceInput = strawberry.field(description="Where its facts come from.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retry safety: the same key and input give the first answer."
    )
    dry_run: bool = strawberry.field(
        default=False, description="Validate and return the diff; write nothing."
    )
    comment: str | None = strawberry.field(default=None, description="Why, for the history.")


@strawberry.input(description="New values for some fields of an organisation.")
class OrganizationUpdateInput:
    id: strawberry.ID = strawberry.field(description="The organisation.")
    fields: OrganizationFields = strawberry.field(description="The fields to change." + NEW_OR_NULL)
    source: SourceInput = strawberry.field(description="Where the new values come from.")
    expected_revision: int | None = strawberry.field(
        default=None,
        description="The revision the change is based on; another one gets CONFLICT.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retry safety: the same key and input give the first answer."
    )
    dry_run: bool = strawberry.field(
        default=False, description="Validate and return the diff; write nothing."
    )
    comment: str | None = strawberry.field(default=None, description="Why, for the history.")


@strawberry.input(description="Retire a record or relation: it leaves lists and lookups.")
class RetireInput:
    id: strawberry.ID = strawberry.field(description="What to retire.")
    expected_revision: int | None = strawberry.field(
        default=None, description="The revision the retirement is based on (else CONFLICT)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retry safety: the same key and input give the first answer."
    )
    dry_run: bool = strawberry.field(
        default=False, description="Validate and return the diff; write nothing."
    )
    comment: str | None = strawberry.field(default=None, description="Why, for the history.")


@strawberry.input(description='A typed relation "subject predicate object".')
class RelationCreateInput:
    subject: strawberry.ID = strawberry.field(description="The record it starts from.")
    predicate: enums.Predicate = strawberry.field(description="The type of relation.")
    object: strawberry.ID = strawberry.field(description="The record it points to.")
    start: str | None = strawberry.field(default=None, description=f"From. {PARTIAL_DATE}")
    end: str | None = strawberry.field(default=None, description=f"Until. {PARTIAL_DATE}")
    note: str | None = strawberry.field(default=None, description="A short qualifier.")
    ordinal: int | None = strawberry.field(default=None, description="Order among siblings.")
    source: SourceInput = strawberry.field(description="Where the relation is stated.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retry safety: the same key and input give the first answer."
    )
    dry_run: bool = strawberry.field(
        default=False, description="Validate and return the diff; write nothing."
    )
    comment: str | None = strawberry.field(default=None, description="Why, for the history.")


@strawberry.input(description="A curator's decision on a proposal.")
class ChangeRequestReviewInput:
    id: strawberry.ID = strawberry.field(description="The change request (`changeRequest`).")
    reason: str | None = strawberry.field(default=None, description="Why (required to reject).")


@strawberry.type(description="The result of a write to an organisation.")
class OrganizationPayload:
    written: strawberry.Private[Written]

    @strawberry.field(description="The organisation as it is now (null if refused or proposed).")
    async def organization(self, info: AnyInfo) -> Organization | None:
        out = self.written.outcome
        if out.errors or out.change_request_id or out.dry_run or out.target_id is None:
            return None
        return await entity(info, out.target_id)  # type: ignore[no-any-return]

    @strawberry.field(description="Its revision after the write (before it, with dryRun).")
    def revision(self) -> int | None:
        return self.written.outcome.revision

    @strawberry.field(description="What changed, or would change (dryRun), field by field.")
    def diff(self) -> list[FieldChange]:
        return self.written.diff()

    @strawberry.field(
        description="Set when a partner's change lies outside its organisations: the "
        "proposal filed for a curator instead (nothing else was written)."
    )
    def change_request(self) -> strawberry.ID | None:
        found = self.written.outcome.change_request_id
        return None if found is None else strawberry.ID(str(found))

    @strawberry.field(description="Why the write was refused; empty when it succeeded.")
    def errors(self) -> list[WriteError]:
        return self.written.errors()


@strawberry.type(description="The result of a write that has no record to return.")
class WritePayload:
    written: strawberry.Private[Written]

    @strawberry.field(description="The revision the write recorded (null if refused).")
    def revision(self) -> int | None:
        out = self.written.outcome
        return None if out.errors else out.revision

    @strawberry.field(description="What changed, or would change (dryRun), field by field.")
    def diff(self) -> list[FieldChange]:
        return self.written.diff()

    @strawberry.field(description="The proposal filed instead, for a partner out of scope.")
    def change_request(self) -> strawberry.ID | None:
        found = self.written.outcome.change_request_id
        return None if found is None else strawberry.ID(str(found))

    @strawberry.field(description="Why the write was refused; empty when it succeeded.")
    def errors(self) -> list[WriteError]:
        return self.written.errors()


def _options(data: Any, revision: int | None = None) -> writes.Options:
    return writes.Options(
        idempotency_key=data.idempotency_key,
        expected_revision=revision,
        dry_run=data.dry_run,
        comment=data.comment,
    )


async def _write(
    info: AnyInfo, build: Any, source: SourceInput | None, options: writes.Options
) -> Written:
    try:
        change = build()
    except Rejected as refused:
        return Written(writes.Outcome(errors=refused.errors))
    return Written(await perform(info, change, source, options))


ORGANIZATION = EntityKind.ORGANIZATION.value


@strawberry.type(
    description="Writes: a partner's key changes its own records, and proposes "
    "the rest; a curator's changes anything (README, For partners)."
)
class Mutation:
    @strawberry.mutation(description="Add an organisation.")
    async def organization_create(
        self, info: AnyInfo, input: Annotated[OrganizationCreateInput, INPUT]
    ) -> OrganizationPayload:
        build = lambda: changes.RecordCreate(ORGANIZATION, input.slug, given(input.fields))  # noqa: E731
        written = await _write(info, build, input.source, _options(input))
        return OrganizationPayload(written=written)

    @strawberry.mutation(description="Change some fields of an organisation.")
    async def organization_update(
        self, info: AnyInfo, input: Annotated[OrganizationUpdateInput, INPUT]
    ) -> OrganizationPayload:
        def build() -> Any:
            target = record_id(input.id, "id", ("Organization",))
            return changes.RecordUpdate(target, given(input.fields), kind=ORGANIZATION)

        options = _options(input, input.expected_revision)
        return OrganizationPayload(written=await _write(info, build, input.source, options))

    @strawberry.mutation(
        description="Retire an organisation: it leaves lists and lookups, its relations go "
        "with it, and its history stays (the feed shows a tombstone)."
    )
    async def organization_retire(
        self, info: AnyInfo, input: Annotated[RetireInput, INPUT]
    ) -> WritePayload:
        def build() -> Any:
            return changes.RecordRetire(record_id(input.id, "id", ("Organization",)), ORGANIZATION)

        options = _options(input, input.expected_revision)
        return WritePayload(written=await _write(info, build, None, options))

    @strawberry.mutation(description='Add a typed relation "subject predicate object".')
    async def relation_create(
        self, info: AnyInfo, input: Annotated[RelationCreateInput, INPUT]
    ) -> WritePayload:
        def build() -> Any:
            types = tuple(_TYPE_NAMES)
            return changes.RelationCreate(
                record_id(input.subject, "subject", types),
                input.predicate.value,
                record_id(input.object, "object", types),
                input.start,
                input.end,
                input.note,
                input.ordinal,
            )

        return WritePayload(written=await _write(info, build, input.source, _options(input)))

    @strawberry.mutation(description="Retire a relation (its history stays).")
    async def relation_retire(
        self, info: AnyInfo, input: Annotated[RetireInput, INPUT]
    ) -> WritePayload:
        def build() -> Any:
            return changes.RelationRetire(record_id(input.id, "id", ("Relation",)))

        options = _options(input, input.expected_revision)
        return WritePayload(written=await _write(info, build, None, options))

    @strawberry.mutation(
        description="Curators: apply a proposal, as a revision credited to its proposer and "
        "to you. A proposal whose record changed since gets STALE."
    )
    async def change_request_approve(
        self, info: AnyInfo, input: Annotated[ChangeRequestReviewInput, INPUT]
    ) -> WritePayload:
        return WritePayload(written=await _review(info, input, approve=True))

    @strawberry.mutation(description="Curators: reject a proposal, saying why.")
    async def change_request_reject(
        self, info: AnyInfo, input: Annotated[ChangeRequestReviewInput, INPUT]
    ) -> WritePayload:
        return WritePayload(written=await _review(info, input, approve=False))


async def _review(info: AnyInfo, input: ChangeRequestReviewInput, *, approve: bool) -> Written:
    try:
        request_id = uuid.UUID(str(input.id))
    except ValueError:
        request_id = uuid.UUID(int=0)
    engine, presented = caller(info)
    outcome = await writes.commit_review(engine, presented, request_id, approve, input.reason)
    await info.context.after_write()
    return Written(outcome)


from soilapi.graphql.types.node import TYPE_NAMES as _KIND_TYPES  # noqa: E402

_TYPE_NAMES = tuple(_KIND_TYPES.values())
__all__ = ["Mutation", "error_of"]
