"""The mutations, made from the write declarations (soilapi.services.fields): for every
writable kind, `<kind>Create`, `<kind>Update` and `<kind>Retire` with their input and payload
types; `relationCreate` and `relationRetire`; `quantity…` and `statement…` for the facts
about a record; and the curators' `changeRequestApprove` / `changeRequestReject`.

Each mutation builds its change as plain data (soilapi.services.changes) and runs it through
the one write pipeline (soilapi.services.writes). No `from __future__ import annotations`
here: the generated resolvers' annotations must be the classes themselves.
"""

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Optional

import strawberry
from strawberry import UNSET

from soilapi.errors import Rejected
from soilapi.graphql import enums
from soilapi.graphql.mutations.common import (
    SourceInput,
    WriteError,
    Written,
    caller,
    perform,
    record_id,
)
from soilapi.graphql.resolve import AnyInfo, entity
from soilapi.graphql.types import registry  # noqa: F401 - declares every record type first
from soilapi.graphql.types.history import FieldChange
from soilapi.graphql.types.node import ENTITY_TYPES, TYPE_NAMES
from soilapi.services import changes, writes
from soilapi.services.fields import (
    DETAIL,
    NAME,
    OWNING,
    QUANTITY,
    STATEMENT,
    Shape,
    Writable,
    writable,
)
from soilapi.vocab import EntityKind

INPUT = strawberry.argument(description="What to write, where it comes from, and how.")
RECORD_TYPES = {t.__name__: t for t in ENTITY_TYPES}
ANY_RECORD = tuple(TYPE_NAMES.values())
SCALARS: dict[Shape, Any] = {
    Shape.TEXT: str,
    Shape.LINES: str,
    Shape.DATE: str,
    Shape.COUNTRY: str,
    Shape.BOOL: bool,
    Shape.INT: int,
    Shape.NUMBER: float,
    Shape.REF: strawberry.ID,
}


def camel(kind: EntityKind) -> str:
    """partner_agreement: partnerAgreement (the mutations' and payload fields' prefix)."""
    name = TYPE_NAMES[kind]
    return name[0].lower() + name[1:]


def _graphql_type(w: Writable) -> Any:
    if w.shape is Shape.CHOICE:
        assert w.choices is not None
        return getattr(enums, w.choices.__name__)
    return SCALARS[w.shape]


def _declare(kind: Callable[..., Any], name: str, description: str, fields: dict[str, Any]) -> Any:
    """A strawberry input or type named `name` with `fields`: {name: (annotation, field)}."""
    namespace: dict[str, Any] = {"__annotations__": {k: a for k, (a, _) in fields.items()}}
    namespace.update({k: f for k, (_, f) in fields.items() if f is not None})
    return kind(type(name, (), namespace), description=description)


def fields_input(name: str, declared: tuple[Writable, ...], what: str) -> Any:
    """The input of a record's writable fields: each omitted is left as it is, null clears it."""
    return _declare(
        strawberry.input,
        name,
        f"The fields of {what} a write may set. Omit one to leave it as it is; null clears it.",
        {
            w.name: (
                Optional[_graphql_type(w)],  # noqa: UP045 - an annotation built at run time
                strawberry.field(default=UNSET, description=w.description),
            )
            for w in declared
        },
    )


OPTIONS: dict[str, Any] = {
    "idempotency_key": (
        Optional[str],  # noqa: UP045
        strawberry.field(
            default=None,
            description="Retry safety: the same key and input give the first answer again.",
        ),
    ),
    "dry_run": (
        bool,
        strawberry.field(default=False, description="Validate and return the diff; write nothing."),
    ),
    "comment": (
        Optional[str],  # noqa: UP045
        strawberry.field(default=None, description="Why, for the history."),
    ),
}
EXPECTED = {
    "expected_revision": (
        Optional[int],  # noqa: UP045
        strawberry.field(
            default=None,
            description="The revision the change is based on; any other gets CONFLICT.",
        ),
    )
}
SOURCE = {"source": (SourceInput, strawberry.field(description="Where the facts come from."))}


def given(fields: Any, declared: dict[str, Writable]) -> dict[str, Any]:
    """The fields a client set (null included) as plain values; an ID becomes the record's id,
    refused unless it names a record of a kind the field takes."""
    found: dict[str, Any] = {}
    for name, w in declared.items():
        value = getattr(fields, name, UNSET)
        if value is UNSET:
            continue
        if w.shape is Shape.REF and value is not None:
            value = record_id(value, name, tuple(TYPE_NAMES[k] for k in w.refs))
        found[name] = getattr(value, "value", value)
    return found


@strawberry.input(description="Retire a record, relation or fact: it leaves lists and lookups.")
class RetireInput:
    id: strawberry.ID = strawberry.field(description="What to retire.")
    expected_revision: int | None = strawberry.field(
        default=None, description="The revision the retirement is based on; any other: CONFLICT."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retry safety: the same key and input give the first answer."
    )
    dry_run: bool = strawberry.field(
        default=False, description="Validate and return the diff; write nothing."
    )
    comment: str | None = strawberry.field(default=None, description="Why, for the history.")


@strawberry.type(description="The result of a write: what changed, or why nothing did.")
class WritePayload:
    written: strawberry.Private[Written]

    @strawberry.field(description="The record's revision after the write (before it, with dryRun).")
    def revision(self) -> int | None:
        out = self.written.outcome
        return None if out.errors else out.revision

    @strawberry.field(description="What changed, or would change (dryRun), field by field.")
    def diff(self) -> list[FieldChange]:
        return self.written.diff()

    @strawberry.field(
        description="Set when a partner's change lies outside its organisations: the proposal "
        "filed for a curator instead (nothing else was written)."
    )
    def change_request(self) -> strawberry.ID | None:
        found = self.written.outcome.change_request_id
        return None if found is None else strawberry.ID(str(found))

    @strawberry.field(description="Why the write was refused; empty when it succeeded.")
    def errors(self) -> list[WriteError]:
        return self.written.errors()


def record_payload(kind: EntityKind) -> Any:
    """`<Type>Payload`: a WritePayload with the record as it is after the write."""
    record_type = RECORD_TYPES[TYPE_NAMES[kind]]

    async def record(root: Any, info: AnyInfo) -> Optional[record_type]:  # type: ignore[valid-type]  # noqa: UP045
        out = root.written.outcome
        if out.errors or out.change_request_id or out.dry_run or out.target_id is None:
            return None
        return await entity(info, out.target_id)  # type: ignore[no-any-return]

    namespace = {
        camel(kind): strawberry.field(
            resolver=record,
            description="The record as it is now (null if refused, proposed or a dry run).",
        )
    }
    cls = type(f"{TYPE_NAMES[kind]}Payload", (WritePayload,), namespace)
    return strawberry.type(cls, description=f"The result of a write to a {kind.value}.")


def typed(resolver: Callable[..., Any], input_type: Any, payload: Any) -> None:
    """Give a generated resolver the generated input and payload types strawberry reads."""
    resolver.__annotations__["input"] = Annotated[input_type, INPUT]
    resolver.__annotations__["return"] = payload


async def _write(info: AnyInfo, build: Callable[[], Any], source: Any, data: Any) -> Written:
    """Build the change (decoding IDs may refuse it) and run it."""
    try:
        change = build()
    except Rejected as refused:
        return Written(writes.Outcome(errors=refused.errors))
    options = writes.Options(
        idempotency_key=data.idempotency_key,
        expected_revision=getattr(data, "expected_revision", None),
        dry_run=data.dry_run,
        comment=data.comment,
    )
    return Written(await perform(info, change, source, options))


def record_mutations(kind: EntityKind) -> dict[str, Any]:
    """`<kind>Create`, `<kind>Update` and `<kind>Retire`."""
    type_name, prefix = TYPE_NAMES[kind], camel(kind)
    declared = writable(kind)
    fields = fields_input(f"{type_name}Fields", tuple(declared.values()), f"a {kind.value}")
    owners: dict[str, Any] = {}
    if kind in OWNING:
        owners["owners"] = (
            list[strawberry.ID],
            strawberry.field(
                default_factory=list,
                description="The organisations it belongs to (a partner may create it for "
                f"its own): linked as {OWNING[kind][0].value}.",
            ),
        )
    create_input = _declare(
        strawberry.input,
        f"{type_name}CreateInput",
        f"A new {kind.value}.",
        {
            "slug": (
                str,
                strawberry.field(description="Its lookup key: lower-case words joined by -."),
            ),
            "fields": (
                fields,
                strawberry.field(description="Its fields (the required ones at least)."),
            ),
            **owners,
            **SOURCE,
            **OPTIONS,
        },
    )
    update_input = _declare(
        strawberry.input,
        f"{type_name}UpdateInput",
        f"New values for some fields of a {kind.value}.",
        {
            "id": (strawberry.ID, strawberry.field(description="The record.")),
            "fields": (fields, strawberry.field(description="The fields to change.")),
            **SOURCE,
            **EXPECTED,
            **OPTIONS,
        },
    )
    payload = record_payload(kind)

    async def create(info: AnyInfo, input: Any) -> Any:
        def build() -> Any:
            ids = [record_id(o, "owners", ("Organization",)) for o in getattr(input, "owners", [])]
            return changes.RecordCreate(kind.value, input.slug, given(input.fields, declared), ids)

        return payload(written=await _write(info, build, input.source, input))

    async def update(info: AnyInfo, input: Any) -> Any:
        def build() -> Any:
            target = record_id(input.id, "id", (type_name,))
            return changes.RecordUpdate(target, given(input.fields, declared), kind.value)

        return payload(written=await _write(info, build, input.source, input))

    async def retire(info: AnyInfo, input: Annotated[RetireInput, INPUT]) -> WritePayload:
        def build() -> Any:
            return changes.RecordRetire(record_id(input.id, "id", (type_name,)), kind.value)

        return WritePayload(written=await _write(info, build, None, input))

    typed(create, create_input, payload)
    typed(update, update_input, payload)
    return {
        f"{prefix}_create": strawberry.mutation(
            resolver=create, description=f"Add a {kind.value}."
        ),
        f"{prefix}_update": strawberry.mutation(
            resolver=update, description=f"Change some fields of a {kind.value}."
        ),
        f"{prefix}_retire": strawberry.mutation(
            resolver=retire,
            description=f"Retire a {kind.value}: it leaves lists and lookups, its relations go "
            "with it, and its history stays (the feed shows a tombstone).",
        ),
    }


def fact_mutations(fact: str, declared: tuple[Writable, ...]) -> dict[str, Any]:
    """`<fact>Create` and `<fact>Retire`: a quantity or statement about a record."""
    type_name = fact.capitalize()
    fields = fields_input(f"{type_name}Fields", declared, f"a {fact}")
    by_name = {w.name: w for w in declared}
    create_input = _declare(
        strawberry.input,
        f"{type_name}CreateInput",
        f"A {fact} about a record (a revision of that record).",
        {
            "subject": (strawberry.ID, strawberry.field(description="The record it is about.")),
            "fields": (fields, strawberry.field(description="Its fields.")),
            **SOURCE,
            **OPTIONS,
        },
    )

    async def create(info: AnyInfo, input: Any) -> WritePayload:
        def build() -> Any:
            subject = record_id(input.subject, "subject", ANY_RECORD)
            return changes.FactCreate(fact, subject, given(input.fields, by_name))

        return WritePayload(written=await _write(info, build, input.source, input))

    async def retire(info: AnyInfo, input: Annotated[RetireInput, INPUT]) -> WritePayload:
        def build() -> Any:
            return changes.FactRetire(fact, record_id(input.id, "id", (type_name,)))

        return WritePayload(written=await _write(info, build, None, input))

    typed(create, create_input, WritePayload)
    typed(create, create_input, WritePayload)
    return {
        f"{fact}_create": strawberry.mutation(resolver=create, description=f"Add a {fact}."),
        f"{fact}_retire": strawberry.mutation(resolver=retire, description=f"Remove a {fact}."),
    }


@strawberry.input(description='A typed relation "subject predicate object".')
class RelationCreateInput:
    subject: strawberry.ID = strawberry.field(description="The record it starts from.")
    predicate: enums.Predicate = strawberry.field(description="The type of relation.")
    object: strawberry.ID = strawberry.field(description="The record it points to.")
    start: str | None = strawberry.field(
        default=None, description="From: YYYY, YYYY-MM or YYYY-MM-DD."
    )
    end: str | None = strawberry.field(
        default=None, description="Until: YYYY, YYYY-MM or YYYY-MM-DD."
    )
    note: str | None = strawberry.field(default=None, description="A short qualifier (a role).")
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


async def relation_create(
    info: AnyInfo, input: Annotated[RelationCreateInput, INPUT]
) -> WritePayload:
    def build() -> Any:
        return changes.RelationCreate(
            record_id(input.subject, "subject", ANY_RECORD),
            input.predicate.value,
            record_id(input.object, "object", ANY_RECORD),
            input.start,
            input.end,
            input.note,
            input.ordinal,
        )

    return WritePayload(written=await _write(info, build, input.source, input))


async def relation_retire(info: AnyInfo, input: Annotated[RetireInput, INPUT]) -> WritePayload:
    def build() -> Any:
        return changes.RelationRetire(record_id(input.id, "id", ("Relation",)))

    return WritePayload(written=await _write(info, build, None, input))


async def _review(info: AnyInfo, input: ChangeRequestReviewInput, *, approve: bool) -> Written:
    try:
        request_id = uuid.UUID(str(input.id))
    except ValueError:
        request_id = uuid.UUID(int=0)  # names no proposal: NOT_FOUND
    engine, who = caller(info)
    outcome = await writes.commit_review(engine, who, request_id, approve, input.reason)
    await info.context.after_write()
    return Written(outcome)


async def change_request_approve(
    info: AnyInfo, input: Annotated[ChangeRequestReviewInput, INPUT]
) -> WritePayload:
    return WritePayload(written=await _review(info, input, approve=True))


async def change_request_reject(
    info: AnyInfo, input: Annotated[ChangeRequestReviewInput, INPUT]
) -> WritePayload:
    return WritePayload(written=await _review(info, input, approve=False))


def _mutation_type() -> Any:
    namespace: dict[str, Any] = {}
    for kind in DETAIL:
        namespace.update(record_mutations(kind))
    namespace["relation_create"] = strawberry.mutation(
        resolver=relation_create, description='Add a typed relation "subject predicate object".'
    )
    namespace["relation_retire"] = strawberry.mutation(
        resolver=relation_retire, description="Retire a relation (its history stays)."
    )
    namespace.update(fact_mutations("quantity", QUANTITY))
    namespace.update(fact_mutations("statement", STATEMENT))
    namespace.update(fact_mutations("name", NAME))
    namespace["change_request_approve"] = strawberry.mutation(
        resolver=change_request_approve,
        description="Curators: apply a proposal, as a revision credited to its proposer and to "
        "you. A proposal whose record changed since gets STALE.",
    )
    namespace["change_request_reject"] = strawberry.mutation(
        resolver=change_request_reject, description="Curators: reject a proposal, saying why."
    )
    return strawberry.type(
        type("Mutation", (), namespace),
        description="Writes. A partner's key changes its own organisations' records and "
        "proposes the rest; a curator's changes anything (README, For partners).",
    )


Mutation = _mutation_type()
__all__ = ["Mutation"]
