"""The changes partners make, as plain data (JSON values only, so a proposal can be kept and
planned again): records of every writable kind, relations between records, the quantities
and statements about a record, and retirement. Each plans itself for the write pipeline
(soilapi.services.writes), which runs them all the same way; what each kind's fields are is
declared once, in soilapi.services.fields.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from soilapi.db.session import Connection
from soilapi.errors import ErrorCode, FieldError, Rejected
from soilapi.repositories import writes as repo
from soilapi.repositories.entities import HIERARCHY
from soilapi.services.fields import (
    NAME,
    OWNING,
    QUANTITY,
    SHARED_COLUMNS,
    STATEMENT,
    Shape,
    Writable,
    writable,
)
from soilapi.services.writes import Cited, Plan, change, day_of, ordered, text
from soilapi.vocab import SLUG, EntityKind, Operation, Predicate, Rank

PROVENANCE = ("document_id", "line_start", "line_end", "quote", "evidence")


def record_id(value: str, path: tuple[str, ...]) -> uuid.UUID:
    """A record's id (GraphQL decodes the global ID it was sent as)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Rejected([FieldError(path, "is not a valid ID", ErrorCode.NOT_FOUND)]) from None


def checked(
    declared: dict[str, Writable], values: dict[str, Any], *, creating: bool
) -> tuple[dict[str, Any], list[tuple[str, Writable, uuid.UUID]]]:
    """The columns the given input fields set, every error at once; and the references to
    check (field name, declaration, id). A new record needs its required fields."""
    errors: list[FieldError] = []
    columns: dict[str, Any] = {}
    refs: list[tuple[str, Writable, uuid.UUID]] = []
    for name, value in values.items():
        found = declared.get(name)
        if found is None:
            errors.append(FieldError((name,), "is not a field of this record"))
            continue
        try:
            set_ = found.columns(value, (name,))
        except Rejected as exc:
            errors.extend(exc.errors)
            continue
        columns.update(set_)
        if found.shape is Shape.REF and value is not None:
            refs.append((name, found, set_[found.stored_as]))
    if creating:
        errors.extend(
            FieldError((w.name,), "is required")
            for w in declared.values()
            if w.required and w.name not in values
        )
    if errors:
        raise Rejected(errors)
    return columns, refs


async def field_diff(
    conn: Connection,
    declared: dict[str, Writable],
    before: dict[str, Any],
    columns: dict[str, Any],
) -> dict[str, list[Any]]:
    """{field: [before, after]} for every field the new columns change, named and written as
    the seed loader's diffs are (the input's field names; references by slug)."""
    after = {**before, **columns}
    refs = [
        row.get(w.stored_as)
        for w in declared.values()
        if w.shape is Shape.REF
        for row in (before, after)
    ]
    slugs = await repo.slugs_of(conn, [r for r in refs if r is not None])
    found = {}
    for name, w in declared.items():
        old, new = w.shown(before, slugs), w.shown(after, slugs)
        if old != new:
            found[name] = [old, new]
    return found


RELATION_FIELDS: dict[str, Writable] = {
    "subject": Writable("subject", Shape.REF, "", column="subject_id"),
    "predicate": Writable("predicate", Shape.TEXT, ""),
    "object": Writable("object", Shape.REF, "", column="object_id"),
    "ordinal": Writable("ordinal", Shape.INT, ""),
    "note": Writable("note", Shape.TEXT, ""),
    "start": Writable("start", Shape.DATE, ""),
    "end": Writable("end", Shape.DATE, ""),
    "rank": Writable("rank", Shape.TEXT, ""),
}


async def relation_diff(
    conn: Connection, before: dict[str, Any], after: dict[str, Any]
) -> dict[str, list[Any]]:
    """A relation's diff, by the fields the seed loader's relation diffs name."""
    return await field_diff(conn, RELATION_FIELDS, before, after)


async def gone(conn: Connection, declared: dict[str, Writable], row: dict[str, Any]) -> Any:
    """The diff of a retirement: every field's last value, then nothing."""
    return await field_diff(conn, declared, row, dict.fromkeys(row))


async def check_refs(conn: Connection, refs: Sequence[tuple[str, Writable, uuid.UUID]]) -> None:
    """Every referenced record exists, and is of a kind its field takes."""
    if not refs:
        return
    kinds = await repo.kinds_of(conn, [ref for _, _, ref in refs])
    wrong = [
        FieldError(
            (name,),
            f"is not the ID of a {' or '.join(k.value for k in w.refs)}",
            ErrorCode.NOT_FOUND,
        )
        for name, w, ref in refs
        if kinds.get(ref) not in {k.value for k in w.refs}
    ]
    if wrong:
        raise Rejected(wrong)


def split(kind: EntityKind, columns: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(shared columns, the kind's columns): the shared ones are SHARED's."""
    base = {k: v for k, v in columns.items() if k in SHARED_COLUMNS}
    return base, {k: v for k, v in columns.items() if k not in SHARED_COLUMNS}


def _in_order(before: dict[str, Any], columns: dict[str, Any]) -> None:
    start = columns.get("start_date", before.get("start_date"))
    end = columns.get("end_date", before.get("end_date"))
    ordered(start, end, ("end",))


async def _after_instruments(conn: Connection, kind: EntityKind, row: dict[str, Any]) -> None:
    """An instrument's dates are its agreement's sort keys: recompute them."""
    if kind is EntityKind.AGREEMENT_INSTRUMENT and row.get("agreement_id") is not None:
        await repo.refresh_agreement_dates(conn, [row["agreement_id"]])


def provenance(cited: Cited) -> dict[str, Any]:
    """The inline provenance columns of a relation or sub-fact."""
    if cited is None:  # the pipeline refuses a write without a source before this
        raise Rejected([FieldError(("source",), "every write says where its fact comes from")])
    return {k: cited[k] for k in PROVENANCE}


@change
@dataclass(frozen=True)
class RecordCreate:
    """A new record of `kind`, with its slug, fields and, optionally, the organisations it
    belongs to (`owners`: its parent, its authors or organisers, the parties to it)."""

    mutation: ClassVar[str] = "recordCreate"
    kind: str
    slug: str
    values: dict[str, Any] = field(default_factory=dict)
    owners: list[str] = field(default_factory=list)

    async def plan(self, conn: Connection) -> Plan:
        kind = EntityKind(self.kind)
        slug = text(self.slug, ("slug",), required=True) or ""
        if len(slug) > 120 or not SLUG.fullmatch(slug):
            message = "is lower-case letters and digits joined by single hyphens, up to 120"
            raise Rejected([FieldError(("slug",), message)])
        columns, refs = checked(writable(kind), dict(self.values), creating=True)
        _in_order({}, columns)
        owners = [record_id(o, ("owners",)) for o in self.owners]
        if owners and kind not in OWNING:
            raise Rejected([FieldError(("owners",), f"a {kind.value} has no owners")])
        org = Writable("owners", Shape.REF, "", refs=(EntityKind.ORGANIZATION,))
        await check_refs(conn, [*refs, *(("owners", org, o) for o in owners)])
        if await repo.slug_owner(conn, slug) is not None:
            raise Rejected([FieldError(("slug",), f"{slug!r} is taken", ErrorCode.SLUG_TAKEN)])
        new_id = uuid.uuid4()
        base, detail = split(kind, columns)
        row = {"id": new_id, "kind": kind.value, "slug": slug, **base}
        diff = {"slug": [None, slug], **await field_diff(conn, writable(kind), {}, columns)}
        if owners:
            named = await repo.slugs_of(conn, owners)
            diff["owners"] = [None, sorted(named.get(o, str(o)) for o in owners)]
        scope = frozenset(owners) | frozenset((await repo.owners(conn, [new_id]))[new_id])
        parent: uuid.UUID | None = detail.get("agreement_id") or detail.get("organization_id")
        if parent is not None:  # an instrument is its agreement's; a post its organisation's
            scope |= frozenset((await repo.owners(conn, [parent]))[parent])

        ties = [_ownership(kind, org, new_id) for org in owners]

        async def apply(c: Connection, cited: Cited) -> None:
            await repo.insert_entity(c, kind, row, {"id": new_id, **detail})
            for tie in ties:
                await repo.insert_relation(c, {**tie, **provenance(cited)})
            await _after_instruments(c, kind, detail)

        made = [(tie["id"], Operation.CREATE, await relation_diff(conn, {}, tie)) for tie in ties]
        plan = Plan(new_id, kind.value, Operation.CREATE, None, diff, scope, apply, made)
        plan.sourced = tuple(name for name in diff if name != "owners")
        return plan


def _ownership(kind: EntityKind, org: uuid.UUID, record: uuid.UUID) -> dict[str, Any]:
    """The relation that makes a new record one of an organisation's (OWNING)."""
    predicate, org_first = OWNING[kind]
    subject, target = (org, record) if org_first else (record, org)
    return {
        "id": uuid.uuid4(),
        "subject_id": subject,
        "predicate": predicate.value,
        "object_id": target,
        "rank": Rank.NORMAL.value,
    }


@change
@dataclass(frozen=True)
class RecordUpdate:
    """New values for some fields of a record (null clears an optional one)."""

    mutation: ClassVar[str] = "recordUpdate"
    id: str
    values: dict[str, Any] = field(default_factory=dict)
    kind: str | None = None  # the kind the mutation is for; another kind is NOT_FOUND

    async def plan(self, conn: Connection) -> Plan:
        target = record_id(self.id, ("id",))
        before = await repo.lock_entity(conn, target)
        if before is None or (self.kind is not None and before["kind"] != self.kind):
            raise Rejected([FieldError(("id",), "no such record", ErrorCode.NOT_FOUND)])
        kind = EntityKind(before["kind"])
        columns, refs = checked(writable(kind), dict(self.values), creating=False)
        _in_order(before, columns)
        await check_refs(conn, refs)
        base, detail = split(kind, columns)
        diff = await field_diff(conn, writable(kind), before, columns)
        scope = frozenset((await repo.owners(conn, [target]))[target])

        async def apply(c: Connection, _cited: Cited) -> None:
            await repo.update_entity(c, kind, target, base, detail)
            await _after_instruments(c, kind, {**before, **detail})
            if before.get("agreement_id") != detail.get("agreement_id", before.get("agreement_id")):
                await _after_instruments(c, kind, before)  # the agreement it left

        return Plan(target, kind.value, Operation.UPDATE, before["revision"], diff, scope, apply)


@change
@dataclass(frozen=True)
class RecordRetire:
    """Retire a record: it leaves lists and lookups; its history stays, and the feed shows a
    tombstone. Its relations retire with it."""

    mutation: ClassVar[str] = "recordRetire"
    id: str
    kind: str | None = None

    async def plan(self, conn: Connection) -> Plan:
        target = record_id(self.id, ("id",))
        before = await repo.lock_entity(conn, target)
        if before is None or (self.kind is not None and before["kind"] != self.kind):
            raise Rejected([FieldError(("id",), "no such record", ErrorCode.NOT_FOUND)])
        scope = frozenset((await repo.owners(conn, [target]))[target])
        relations = await repo.relations_touching(conn, target)
        kind = EntityKind(before["kind"])
        diff = {"slug": [before["slug"], None], **await gone(conn, writable(kind), before)}

        async def apply(c: Connection, _cited: Cited) -> None:
            await repo.delete_entity(c, target)
            await _after_instruments(c, kind, before)

        also = [
            (r["id"], Operation.RETIRE, await gone(conn, RELATION_FIELDS, r)) for r in relations
        ]
        return Plan(
            target,
            kind.value,
            Operation.RETIRE,
            before["revision"],
            diff,
            scope,
            apply,
            also,
            states=False,
        )


@change
@dataclass(frozen=True)
class RelationCreate:
    """A typed relation "subject predicate object", optionally dated."""

    mutation: ClassVar[str] = "relationCreate"
    subject: str
    predicate: str
    object: str
    start: str | None = None
    end: str | None = None
    note: str | None = None
    ordinal: int | None = None

    async def plan(self, conn: Connection) -> Plan:
        subject = record_id(self.subject, ("subject",))
        target = record_id(self.object, ("object",))
        try:
            predicate = Predicate(self.predicate)
        except ValueError:
            raise Rejected([FieldError(("predicate",), "is not a predicate")]) from None
        kinds = await repo.kinds_of(conn, [subject, target])
        missing = [
            FieldError((n,), "no such record", ErrorCode.NOT_FOUND)
            for n, i in (("subject", subject), ("object", target))
            if i not in kinds
        ]
        if missing:
            raise Rejected(missing)
        if subject == target:
            raise Rejected([FieldError(("object",), "a record cannot relate to itself")])
        if predicate in HIERARCHY and subject in await repo.ancestors(conn, target):
            message = "would make the subject its own ancestor in the organisation tree"
            raise Rejected([FieldError(("object",), message, ErrorCode.CYCLE)])
        start, start_precision = day_of(self.start, ("start",))
        end, end_precision = day_of(self.end, ("end",))
        ordered(start, end, ("end",))
        note = text(self.note, ("note",), lines=True)
        if self.ordinal is not None and not 0 <= self.ordinal < 2**31:
            raise Rejected([FieldError(("ordinal",), "is not between 0 and 2147483647")])
        new_id = uuid.uuid4()
        row = {
            "id": new_id,
            "subject_id": subject,
            "predicate": predicate.value,
            "object_id": target,
            "ordinal": self.ordinal,
            "note": note,
            "start_date": start,
            "start_precision": start_precision,
            "end_date": end,
            "end_precision": end_precision,
            "rank": Rank.NORMAL.value,
        }
        scope = await repo.owners(conn, [subject, target])
        owned = frozenset(scope[subject] | scope[target])
        diff = await relation_diff(conn, {}, row)

        async def apply(c: Connection, cited: Cited) -> None:
            await repo.insert_relation(c, {**row, **provenance(cited)})

        return Plan(new_id, "relation", Operation.CREATE, None, diff, owned, apply)


@change
@dataclass(frozen=True)
class RelationRetire:
    """Remove a relation (it stays in the history, and the feed shows a tombstone)."""

    mutation: ClassVar[str] = "relationRetire"
    id: str

    async def plan(self, conn: Connection) -> Plan:
        target = record_id(self.id, ("id",))
        before = await repo.lock_relation(conn, target)
        if before is None:
            raise Rejected([FieldError(("id",), "no such relation", ErrorCode.NOT_FOUND)])
        ends = [before["subject_id"], before["object_id"]]
        scope = await repo.owners(conn, ends)
        diff = await gone(conn, RELATION_FIELDS, before)

        async def apply(c: Connection, _cited: Cited) -> None:
            await repo.delete_relations(c, [target])

        return Plan(
            target,
            "relation",
            Operation.RETIRE,
            before["revision"],
            diff,
            frozenset(scope[ends[0]] | scope[ends[1]]),
            apply,
            states=False,
        )


# A record's sub-facts: (table, declared fields). Their changes are revisions of the record.
@dataclass(frozen=True)
class SubFact:
    """A kind of fact about a record: its table, the column naming the record, the field a
    diff of the record lists it under (as the seed loader's diffs do), and its fields."""

    table: str
    subject: str
    field: str
    declared: tuple[Writable, ...]


SUB_FACTS: dict[str, SubFact] = {
    "quantity": SubFact("quantities", "subject_id", "quantities", QUANTITY),
    "statement": SubFact("statements", "subject_id", "statements", STATEMENT),
    "name": SubFact("entity_names", "entity_id", "names", NAME),
}


@change
@dataclass(frozen=True)
class FactCreate:
    """A quantity, statement or name of a record; a revision of that record."""

    mutation: ClassVar[str] = "factCreate"
    fact: str
    subject: str
    values: dict[str, Any] = field(default_factory=dict)

    async def plan(self, conn: Connection) -> Plan:
        fact = SUB_FACTS[self.fact]
        table, declared = fact.table, fact.declared
        subject = record_id(self.subject, ("subject",))
        columns, _ = checked({w.name: w for w in declared}, dict(self.values), creating=True)
        revisions = await repo.lock_entities(conn, [subject])
        if subject not in revisions:
            raise Rejected([FieldError(("subject",), "no such record", ErrorCode.NOT_FOUND)])
        kind = (await repo.kinds_of(conn, [subject]))[subject]
        new_id = uuid.uuid4()
        row = {"id": new_id, fact.subject: subject, **columns}
        facts = {w.name: w for w in declared}
        shown = {
            "id": str(new_id),
            **{k: v for k, (_, v) in (await field_diff(conn, facts, {}, columns)).items()},
        }
        scope = frozenset((await repo.owners(conn, [subject]))[subject])

        async def apply(c: Connection, cited: Cited) -> None:
            await repo.insert_row(c, table, {**row, **provenance(cited)})

        plan = Plan(
            subject,
            kind,
            Operation.UPDATE,
            revisions[subject],
            {fact.field: [None, shown]},
            scope,
            apply,
        )
        plan.sourced = ()  # the row carries its own provenance
        return plan


@change
@dataclass(frozen=True)
class FactRetire:
    """Remove a quantity, statement or name (a revision of its record)."""

    mutation: ClassVar[str] = "factRetire"
    fact: str
    id: str

    async def plan(self, conn: Connection) -> Plan:
        fact = SUB_FACTS[self.fact]
        table = fact.table
        target = record_id(self.id, ("id",))
        before = await repo.lock_row(conn, table, target)
        if before is None:
            raise Rejected([FieldError(("id",), f"no such {self.fact}", ErrorCode.NOT_FOUND)])
        subject = before[fact.subject]
        revisions = await repo.lock_entities(conn, [subject])
        kind = (await repo.kinds_of(conn, [subject]))[subject]
        facts = {w.name: w for w in fact.declared}
        last = await gone(conn, facts, before)
        shown = {"id": str(target), **{k: v for k, (v, _) in last.items()}}
        scope = frozenset((await repo.owners(conn, [subject]))[subject])

        async def apply(c: Connection, _cited: Cited) -> None:
            await repo.delete_row(c, table, target)

        plan = Plan(
            subject,
            kind,
            Operation.UPDATE,
            revisions[subject],
            {fact.field: [shown, None]},
            scope,
            apply,
        )
        plan.sourced, plan.states = (), False  # a removal states nothing
        return plan
