"""The changes partners make, as plain data: records of any kind (their shared fields and
their kind's), relations between records, and retirement. Each plans itself for the write
pipeline (soilapi.services.writes), which runs them all the same way.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from soilapi.db.session import Connection
from soilapi.errors import ErrorCode, FieldError, Rejected
from soilapi.repositories import writes as repo
from soilapi.services.writes import Cited, Plan, change, day_of, diff_of, ordered, text
from soilapi.vocab import EntityKind, Operation, OrgCategory, OrgClass, Predicate, Rank

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
COUNTRY = re.compile(r"[A-Z]{2}")
HIERARCHY = {Predicate.SUB_ORGANIZATION_OF, Predicate.UNIT_OF, Predicate.TECHNICAL_NETWORK_OF}

Check = Callable[[Any, tuple[str, ...]], dict[str, Any]]


def _text(column: str, *, required: bool = False, lines: bool = False) -> Check:
    return lambda v, path: {column: text(v, path, required=required, lines=lines)}


def _date(prefix: str) -> Check:
    def check(value: Any, path: tuple[str, ...]) -> dict[str, Any]:
        day, precision = day_of(value, path)
        return {f"{prefix}_date": day, f"{prefix}_precision": precision}

    return check


def _country(value: Any, path: tuple[str, ...]) -> dict[str, Any]:
    if value is not None and not COUNTRY.fullmatch(value):
        raise Rejected([FieldError(path, "is not an ISO 3166-1 alpha-2 code (upper case)")])
    return {"country_code": value}


def _choice(column: str, values: type[Any]) -> Check:
    def check(value: Any, path: tuple[str, ...]) -> dict[str, Any]:
        if value is not None and value not in {v.value for v in values}:
            raise Rejected([FieldError(path, f"is not one of {values.__name__}")])
        return {column: value}

    return check


def _flag(column: str) -> Check:
    return lambda v, path: {column: None if v is None else bool(v)}


# What a record's shared fields are called in an input, and how each is checked. The GraphQL
# inputs declare the same names (tests/api/test_writes.py proves they agree).
SHARED: dict[str, Check] = {
    "name": _text("name", required=True),
    "acronym": _text("acronym"),
    "description": _text("description", lines=True),
    "country": _country,
    "start": _date("start"),
    "end": _date("end"),
}
# Each kind's own fields that partners may write.
DETAIL: dict[EntityKind, dict[str, Check]] = {
    EntityKind.ORGANIZATION: {
        "org_class": _choice("org_class", OrgClass),
        "category": _choice("category", OrgCategory),
        "is_international_org": _flag("is_international_org"),
        "jurisdiction_label": _text("jurisdiction_label"),
        "purpose": _text("purpose", lines=True),
    },
}


def _checked(
    kind: EntityKind, values: dict[str, Any], unset: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(shared columns, kind's columns) of the given input fields, every error at once."""
    errors: list[FieldError] = []
    base: dict[str, Any] = {}
    detail: dict[str, Any] = {}
    own = DETAIL.get(kind, {})
    for name, value in values.items():
        check = SHARED.get(name) or own.get(name)
        if check is None:
            errors.append(FieldError((name,), f"is not a field of a {kind.value}"))
            continue
        try:
            (base if name in SHARED else detail).update(check(value, (name,)))
        except Rejected as exc:
            errors.extend(exc.errors)
    for name in unset:
        if name == "name":
            errors.append(FieldError((name,), "cannot be unset"))
        elif name in SHARED or name in own:
            target = base if name in SHARED else detail
            target.update(dict.fromkeys((SHARED.get(name) or own[name])(None, (name,))))
    if errors:
        raise Rejected(errors)
    return base, detail


def _dates_in_order(before: dict[str, Any], base: dict[str, Any]) -> None:
    start = base.get("start_date", before.get("start_date"))
    end = base.get("end_date", before.get("end_date"))
    ordered(start, end, ("end",))


def _decode(value: str, path: tuple[str, ...]) -> uuid.UUID:
    """A record's id (GraphQL decodes the global ID it was sent as)."""
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise Rejected([FieldError(path, "is not a valid ID", ErrorCode.NOT_FOUND)]) from None


@change
@dataclass(frozen=True)
class RecordCreate:
    """A new record of `kind`, with its slug and fields."""

    mutation: ClassVar[str] = "recordCreate"
    kind: str
    slug: str
    values: dict[str, Any] = field(default_factory=dict)

    async def plan(self, conn: Connection) -> Plan:
        kind = EntityKind(self.kind)
        slug = text(self.slug, ("slug",), required=True) or ""
        if len(slug) > 120 or not SLUG.fullmatch(slug):
            message = "is lower-case letters and digits joined by single hyphens, up to 120"
            raise Rejected([FieldError(("slug",), message)])
        base, detail = _checked(kind, dict(self.values), [])
        if "name_" in base or base.get("name") is None:
            raise Rejected([FieldError(("name",), "is required")])
        _dates_in_order({}, base)
        if await repo.slug_owner(conn, slug) is not None:
            raise Rejected([FieldError(("slug",), f"{slug!r} is taken", ErrorCode.SLUG_TAKEN)])
        new_id = uuid.uuid4()
        row = {"id": new_id, "kind": kind.value, "slug": slug, **base}
        columns = {**row, **detail}
        diff = diff_of({}, {k: v for k, v in columns.items() if k != "id" and v is not None})

        async def apply(c: Connection, _cited: Cited) -> None:
            await repo.insert_entity(c, kind, row, {"id": new_id, **detail})

        return Plan(new_id, kind.value, Operation.CREATE, None, diff, frozenset(), apply)


@change
@dataclass(frozen=True)
class RecordUpdate:
    """New values for some fields of a record; `unset` clears optional ones."""

    mutation: ClassVar[str] = "recordUpdate"
    id: str
    values: dict[str, Any] = field(default_factory=dict)
    unset: list[str] = field(default_factory=list)
    kind: str | None = None  # the kind the mutation is for; another kind is NOT_FOUND

    async def plan(self, conn: Connection) -> Plan:
        target = _decode(self.id, ("id",))
        before = await repo.lock_entity(conn, target)
        if before is None or (self.kind is not None and before["kind"] != self.kind):
            raise Rejected([FieldError(("id",), "no such record", ErrorCode.NOT_FOUND)])
        kind = EntityKind(before["kind"])
        base, detail = _checked(kind, dict(self.values), list(self.unset))
        _dates_in_order(before, base)
        diff = diff_of(before, {**base, **detail})
        scope = frozenset((await repo.owners(conn, [target]))[target])

        async def apply(c: Connection, _cited: Cited) -> None:
            await repo.update_entity(c, kind, target, base, detail)

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
        target = _decode(self.id, ("id",))
        before = await repo.lock_entity(conn, target)
        if before is None or (self.kind is not None and before["kind"] != self.kind):
            raise Rejected([FieldError(("id",), "no such record", ErrorCode.NOT_FOUND)])
        scope = frozenset((await repo.owners(conn, [target]))[target])
        relations = await repo.relations_touching(conn, target)
        last = {k: history_value(v) for k, v in before.items() if v is not None}
        diff = {k: [v, None] for k, v in last.items()}

        async def apply(c: Connection, _cited: Cited) -> None:
            await repo.delete_entity(c, target)

        also = [
            (r["id"], {k: [history_value(v), None] for k, v in r.items() if v is not None})
            for r in relations
        ]
        return Plan(
            target, before["kind"], Operation.RETIRE, before["revision"], diff, scope, apply, also
        )


def _provenance(cited: Cited) -> dict[str, Any]:
    if cited is None:  # the pipeline refuses a write without a source first
        raise Rejected([FieldError(("source",), "every write says where its fact comes from")])
    return {k: cited[k] for k in ("document_id", "line_start", "line_end", "quote", "evidence")}


@change
@dataclass(frozen=True)
class RelationRetire:
    """Remove a relation (it stays in the history, and the feed shows a tombstone)."""

    mutation: ClassVar[str] = "relationRetire"
    id: str

    async def plan(self, conn: Connection) -> Plan:
        target = _decode(self.id, ("id",))
        before = await repo.lock_relation(conn, target)
        if before is None:
            raise Rejected([FieldError(("id",), "no such relation", ErrorCode.NOT_FOUND)])
        ends = [before["subject_id"], before["object_id"]]
        scope = await repo.owners(conn, ends)
        diff = {k: [history_value(v), None] for k, v in before.items() if v is not None}

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
        )


def history_value(value: Any) -> Any:
    """A column value as a JSON diff holds it."""
    from soilapi.services.writes import as_json  # noqa: PLC0415

    return as_json(value)


RELATION_FIELDS = ("predicate", "ordinal", "note", "start", "end", "rank")


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
        subject = _decode(self.subject, ("subject",))
        target = _decode(self.object, ("object",))
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
        if self.ordinal is not None and self.ordinal < 0:
            raise Rejected([FieldError(("ordinal",), "is not below zero")])
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
        diff = diff_of({}, {k: v for k, v in row.items() if k != "id" and v is not None})

        async def apply(c: Connection, cited: Cited) -> None:
            await repo.insert_relation(c, {**row, **_provenance(cited)})

        return Plan(new_id, "relation", Operation.CREATE, None, diff, owned, apply)


__all__ = ["RecordCreate", "RecordRetire", "RecordUpdate", "RelationCreate", "RelationRetire"]
