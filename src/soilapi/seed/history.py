"""What the seed loader's changes look like as revisions, and which rows it may change.

A record (an `entities` row, its detail row and its sub-facts) and a relation are the targets
of revisions. Their fields, as the diffs name them, are the seed files' own keys: `name`,
`acronym`, `country`, `start` and `end` (a partial date written with its precision: "2012",
"2013-11", "2021-05-27"), each `attrs:` key (a reference as the slug it names), and the
list-valued `names`, `identifiers`, `sources`, `quantities`, `statements` and `quality_notes`;
a relation's are `subject`, `predicate`, `object`, `ordinal`, `note`, `start`, `end`, `rank`
and `source` (document key, lines, quote, evidence: the shape of a revision's provenance).

Ownership comes from the revisions alone. A target is the seed's unless its latest CREATE was
by a non-seed actor; a field is a contributor's when the latest revision touching it was. A
target with no revisions at all (a database seeded before revisions existed) is the seed's.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from soilapi.db.attributes import attributes
from soilapi.repositories.history import NewRevision
from soilapi.vocab import EntityKind, Operation, partial_iso

Row = dict[str, Any]
View = dict[str, Any]
Tables = dict[str, dict[uuid.UUID, Row]]

SEED_PREFIX = "seed:"
SEED_ROLE = "seed"
# Sub-fact tables: the column naming their record, and the record's list field they fill.
SUBFACTS: dict[str, tuple[str, str]] = {
    "entity_names": ("entity_id", "names"),
    "entity_identifiers": ("entity_id", "identifiers"),
    "entity_sources": ("entity_id", "sources"),
    "quantities": ("subject_id", "quantities"),
    "statements": ("subject_id", "statements"),
    "quality_notes": ("subject_id", "quality_notes"),
}
LIST_FIELDS = {name: table for table, (_, name) in SUBFACTS.items()}
PROVENANCE = ("document_id", "line_start", "line_end", "quote", "evidence")
# Bookkeeping, not facts: the revision machinery and the database write these.
_HIDDEN = {"id", "revision", "created_at", "updated_at"}
_RENAMED = {"country_code": "country"}
# Each kind's seed attributes: the fields of its detail row (derived columns are not facts).
_ATTRIBUTES = {kind: frozenset(a.name for a in attributes(kind)) for kind in EntityKind}

log = logging.getLogger("soilapi.seed")


def is_seed(actor: str | None) -> bool:
    """True for the seed loader's actors, and for no actor at all (no revision yet)."""
    return actor is None or actor.startswith(SEED_PREFIX)


@dataclass
class Names:
    """How ids read in a diff: records by slug, source documents by key."""

    slugs: dict[uuid.UUID, str] = field(default_factory=dict)
    documents: dict[uuid.UUID, str] = field(default_factory=dict)

    def value(self, raw: Any) -> Any:
        """A column's value as JSON."""
        if isinstance(raw, uuid.UUID):
            return self.slugs.get(raw) or self.documents.get(raw) or str(raw)
        if isinstance(raw, StrEnum):
            return raw.value
        if isinstance(raw, Decimal):
            return int(raw) if raw == raw.to_integral_value() else float(raw)
        if isinstance(raw, date):
            return raw.isoformat()
        if isinstance(raw, list | tuple):
            return [self.value(item) for item in raw]
        return raw

    def source(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A row's inline provenance, in the shape of a revision's `provenance`."""
        return {
            "document": self.value(row["document_id"]),
            "lines": {"start": row["line_start"], "end": row["line_end"]},
            "quote": row["quote"],
            "evidence": self.value(row["evidence"]),
        }


def partial(day: date | None, precision: Any) -> str | None:
    """A partial date as the seed files write it: "2012", "2013-11" or "2021-05-27"."""
    return None if day is None else partial_iso(day, precision)


def field_columns(row: Mapping[str, Any], skip: Iterable[str] = ()) -> dict[str, tuple[str, ...]]:
    """The fields a row holds, each with the columns it is stored in."""
    return _field_columns(tuple(row), frozenset(skip))


@functools.cache
def _field_columns(row: tuple[str, ...], skip: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """`field_columns` by the row's column names: a table's rows share one answer."""
    hidden = _HIDDEN | skip
    out: dict[str, tuple[str, ...]] = {}
    for column in row:
        stem = column.rsplit("_", 1)[0]
        if column in hidden or (column.endswith("_precision") and f"{stem}_date" in row):
            continue
        if column in PROVENANCE:
            out["source"] = PROVENANCE
        elif column.endswith("_date") and f"{stem}_precision" in row:
            out[stem] = (column, f"{stem}_precision")
        elif column.endswith("_id"):
            out[column.removesuffix("_id")] = (column,)
        else:
            out[_RENAMED.get(column, column)] = (column,)
    return out


def field_of(key: str) -> str:
    """The field a diff key names, whether the writer named the field (`start`, `country`) or
    a column of it (`start_date`, `start_precision`, `country_code`, `facility_id`)."""
    for suffix in ("_date", "_precision", "_id"):
        if key.endswith(suffix) and key not in PROVENANCE:
            return key.removesuffix(suffix)
    if key in PROVENANCE:
        return "source"
    return _RENAMED.get(key, key)


def field_value(row: Mapping[str, Any], columns: tuple[str, ...], names: Names) -> Any:
    """One field of a row as JSON."""
    if columns == PROVENANCE:
        return names.source(row)
    if len(columns) == 2:
        return partial(row[columns[0]], row[columns[1]])
    return names.value(row[columns[0]])


def row_view(row: Mapping[str, Any], names: Names, skip: Iterable[str] = ()) -> View:
    """Every field of a row, as JSON."""
    return {f: field_value(row, cols, names) for f, cols in field_columns(row, skip).items()}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def items(rows: Iterable[Row], owner: str, names: Names) -> list[View]:
    """A record's sub-facts as one list field's value, in a stable order."""
    return sorted((row_view(r, names, (owner,)) for r in rows), key=_canonical)


def record_view(
    entity: Row, detail: Row | None, subfacts: Mapping[str, Sequence[Row]], names: Names
) -> View:
    """A record's fields: its shared columns, its kind's attributes and its sub-facts."""
    view = row_view(entity, names)
    if detail is not None:
        kept = _ATTRIBUTES[EntityKind(entity["kind"])]
        view.update({k: v for k, v in row_view(detail, names).items() if k in kept})
    for table, (owner, name) in SUBFACTS.items():
        view[name] = items(subfacts.get(table, ()), owner, names)
    return {k: v for k, v in view.items() if v is not None and v != []}


def diff(before: View, after: View) -> dict[str, list[Any]]:
    """`{field: [before, after]}` for each field that differs (None: absent)."""
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


@dataclass(frozen=True)
class Conflict:
    """A seed fact the loader did not apply because a contributor changed it."""

    record: str
    field: str
    seed: Any
    contributed: Any

    def __str__(self) -> str:
        return (
            f"{self.record}: {self.field}: the seed says {_canonical(self.seed)}, "
            f"a contributor's {_canonical(self.contributed)} is kept"
        )


@dataclass
class Guard:
    """Who owns what, from the revisions (soilapi.repositories.seed.ownership)."""

    creators: dict[uuid.UUID, str]
    touched: dict[tuple[uuid.UUID, str], str]
    contributed: dict[uuid.UUID, set[str]] = field(default_factory=dict)
    seed_actor: dict[uuid.UUID, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for (target, name), actor in self.touched.items():
            if is_seed(actor):
                self.seed_actor[target] = actor
            else:
                self.contributed.setdefault(target, set()).add(field_of(name))

    def contributor_made(self, target: uuid.UUID) -> bool:
        """True when a contributor created the target (its latest CREATE was not the seed's)."""
        return not is_seed(self.creators.get(target))

    def owns(self, target: uuid.UUID, name: str) -> bool:
        """True when the field is a contributor's, or the whole target is."""
        return self.contributor_made(target) or name in self.contributed.get(target, ())


def report(conflicts: Sequence[Conflict]) -> None:
    """Log each conflict: the operator sees which contributed values outlived the seed's."""
    for conflict in conflicts:
        log.warning("seed conflict: %s", conflict)


def differs(current: Row, wanted: Row) -> bool:
    """True when a wanted row would change the stored one (columns it does not name aside)."""
    return any(current.get(key) != value for key, value in wanted.items())


def _touched(have: dict[uuid.UUID, Row], want: dict[uuid.UUID, Row]) -> list[Row]:
    """The rows a load inserts, updates or deletes, each as it is or as it will be."""
    gone = [row for key, row in have.items() if key not in want]
    return gone + [row for key, row in want.items() if key not in have or differs(have[key], row)]


@dataclass
class Changes:
    """The rows before and after a load, and where each seed fact came from."""

    existing: Tables
    wanted: Tables
    detail_tables: Mapping[EntityKind, str]
    guard: Guard
    names: Names
    origins: dict[uuid.UUID, str]

    def revisions(self) -> list[NewRevision]:
        """One revision per record or relation the load changes, in a stable order."""
        records = {row["id"] for row in self._touched("entities")}
        for table in self.detail_tables.values():
            records.update(row["id"] for row in self._touched(table))
        for table, (owner, _) in SUBFACTS.items():
            records.update(row[owner] for row in self._touched(table) if row[owner] is not None)
        relations = {row["id"] for row in self._touched("relations")}
        before, after = self._views(self.existing, records), self._views(self.wanted, records)
        for state, views in ((self.existing, before), (self.wanted, after)):
            for key in relations & set(state["relations"]):
                views[key] = row_view(state["relations"][key], self.names)
        found = [self._revision(key, before, after) for key in records | relations]
        return sorted((r for r in found if r is not None), key=_order)

    def _touched(self, table: str) -> list[Row]:
        return _touched(self.existing[table], self.wanted[table])

    def _views(self, rows: Tables, keys: set[uuid.UUID]) -> dict[uuid.UUID, View]:
        subfacts: dict[uuid.UUID, dict[str, list[Row]]] = {}
        for table, (owner, _) in SUBFACTS.items():
            for row in rows[table].values():
                if row[owner] in keys:
                    subfacts.setdefault(row[owner], {}).setdefault(table, []).append(row)
        views: dict[uuid.UUID, View] = {}
        for key in keys:
            entity = rows["entities"].get(key)
            if entity is not None:
                detail = rows[self.detail_tables[EntityKind(entity["kind"])]].get(key)
                views[key] = record_view(entity, detail, subfacts.get(key, {}), self.names)
        return views

    def _revision(
        self, key: uuid.UUID, before: dict[uuid.UUID, View], after: dict[uuid.UUID, View]
    ) -> NewRevision | None:
        old, new = before.get(key), after.get(key)
        change = diff(old or {}, new or {})
        if not change:
            return None
        operation = Operation.CREATE if old is None else Operation.UPDATE
        if new is None:
            operation = Operation.RETIRE
        view = new or old or {}
        kind = str(view["kind"]) if "kind" in view else "relation"
        actor = self.origins.get(key)
        return NewRevision(
            target_id=key,
            kind=kind,
            operation=operation,
            diff=change,
            actor=SEED_PREFIX + actor if actor else self.guard.seed_actor.get(key, DATASET),
            actor_role=SEED_ROLE,
            provenance=_provenance(view),
        )


DATASET = SEED_PREFIX + "dataset"  # the actor of a retirement whose file no revision names


def _provenance(view: View) -> dict[str, Any] | None:
    """The one excerpt that backs a record or relation, when exactly one does."""
    if "source" in view:
        return dict(view["source"])
    sources = view.get("sources", [])
    return dict(sources[0]["source"]) if len(sources) == 1 else None


def _order(revision: NewRevision) -> tuple[str, str, str]:
    return (revision.actor, revision.kind, str(revision.target_id))
