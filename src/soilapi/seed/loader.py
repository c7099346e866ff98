"""Write the validated dataset into PostgreSQL, idempotently.

The loader computes the full desired content of every table, compares it with what is there,
and inserts, updates or deletes only the difference, all in one transaction: a second run
changes nothing, and a failed run changes nothing either. Each record or relation it changes
gets one revision (actor "seed:<data file>", soilapi.seed.history), and what contributors
own is left as they wrote it (soilapi.seed.keeper).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from soilapi.db import models
from soilapi.db.base import stable_id
from soilapi.db.session import Connection
from soilapi.repositories import seed as tables
from soilapi.repositories.cache import bump_data_version
from soilapi.repositories.history import record
from soilapi.seed import history
from soilapi.seed.dataset import (
    ATTRS,
    Dataset,
    EntitySpec,
    PartialDate,
    Provenance,
    Ref,
    RelationSpec,
)
from soilapi.seed.history import Changes, Conflict, Guard, Names
from soilapi.seed.keeper import DETAIL_TABLES, Keeper
from soilapi.vocab import EntityKind

Row = dict[str, Any]


@dataclass
class TableReport:
    """What one seed run did to one table."""

    table: str
    total: int
    inserted: int
    updated: int
    deleted: int


def entity_id(slug: str) -> uuid.UUID:
    """The stable id of the entity with this slug."""
    return stable_id("entity", slug)


def document_id(key: str) -> uuid.UUID:
    """The stable id of a source document."""
    return stable_id("document", key)


def _dates(prefix: str, value: PartialDate | None) -> Row:
    return {
        f"{prefix}_date": value.value if value else None,
        f"{prefix}_precision": value.precision if value else None,
    }


def _prov(p: Provenance) -> Row:
    return {
        "document_id": document_id(p.doc),
        "line_start": p.line_start,
        "line_end": p.line_end,
        "quote": p.quote,
        "evidence": p.evidence,
    }


def _entity_rows(spec: EntitySpec) -> tuple[Row, Row]:
    eid = entity_id(spec.slug)
    base: Row = {
        "id": eid,
        "kind": spec.kind,
        "slug": spec.slug,
        "name": spec.name,
        "acronym": spec.acronym,
        "description": spec.description,
        "country_code": spec.country,
        **_dates("start", spec.start),
        **_dates("end", spec.end),
    }
    detail: Row = {"id": eid}
    table = models.DETAIL_MODELS[spec.kind].__table__
    for key, check in ATTRS[spec.kind].items():
        value = spec.attrs.get(key)
        if isinstance(check, Ref):
            detail[f"{key}_id"] = entity_id(value) if value else None
        elif check == PartialDate.parse:
            detail.update(_dates(key, value))
        else:
            detail[key] = value
    if spec.kind == "strategic_objective":
        detail["goal_letter"] = spec.attrs["label"][0]
    if spec.kind == "citation":
        detail["source_document_id"] = document_id(spec.sources[0].doc)
    unknown = set(detail) - set(table.columns.keys())
    if unknown:
        raise ValueError(f"{spec.slug}: attributes without a column: {sorted(unknown)}")
    # Columns with defaults (booleans, arrays) must not be written as NULL.
    for column in table.columns:
        if detail.get(column.name) is None and column.default is not None:
            detail[column.name] = column.default.arg
    return base, detail


def agreement_dates(
    instruments: Iterable[tuple[date | None, date | None]],
) -> tuple[date | None, date | None]:
    """(earliest signature, earliest start) of an agreement from its instruments' (signed,
    start) dates; an instrument with no start counts from its signature."""
    pairs = list(instruments)
    signed = [day for day, _ in pairs if day is not None]
    started = [start for day, first in pairs if (start := first or day) is not None]
    return min(signed, default=None), min(started, default=None)


def _agreement_date_columns(ds: Dataset) -> dict[str, Row]:
    """The stored sort dates of each partner agreement (by slug), from its instruments."""
    found: dict[str, list[tuple[date | None, date | None]]] = defaultdict(list)
    for spec in ds.entities.values():
        if spec.kind == EntityKind.AGREEMENT_INSTRUMENT:
            signed: PartialDate | None = spec.attrs.get("signed")
            found[spec.attrs["agreement"]].append(
                (signed.value if signed else None, spec.start.value if spec.start else None)
            )
    columns = {}
    for slug, spec in ds.entities.items():
        if spec.kind == EntityKind.PARTNER_AGREEMENT:
            signed_on, started_on = agreement_dates(found[slug])
            columns[slug] = {"earliest_signed_date": signed_on, "earliest_start_date": started_on}
    return columns


def desired_rows(ds: Dataset) -> dict[str, list[Row]]:
    """Every row the dataset asks for, keyed by table name, in insertion order."""
    rows: dict[str, list[Row]] = {"source_documents": [], "entities": []}
    for key, text in sorted(ds.texts.items()):
        meta = ds.documents[key]
        rows["source_documents"].append(
            {
                "id": document_id(key),
                "key": key,
                "file_name": text.file_name,
                "sha256": text.sha256,
                "title": meta.title,
                "genre": meta.genre,
                **_dates("published", meta.published),
                "publisher": meta.publisher,
                "notes": meta.notes,
                "content": "\n".join(text.lines),
                "line_count": len(text.lines),
            }
        )
    for model in models.DETAIL_MODELS.values():
        rows.setdefault(str(model.__tablename__), [])
    sort_dates = _agreement_date_columns(ds)
    for spec in ds.entities.values():
        base, detail = _entity_rows(spec)
        detail.update(sort_dates.get(spec.slug, {}))
        rows["entities"].append(base)
        rows[str(models.DETAIL_MODELS[spec.kind].__tablename__)].append(detail)
    rows.update(_side_rows(ds))
    return rows


def _side_rows(ds: Dataset) -> dict[str, list[Row]]:
    sources: list[Row] = []
    names: list[Row] = []
    identifiers: list[Row] = []
    for spec in ds.entities.values():
        eid = entity_id(spec.slug)
        sources.extend(_source_row(eid, p) for p in spec.sources)
        names.extend(
            {"id": stable_id("name", eid, n.kind, n.value), "entity_id": eid,
             "value": n.value, "kind": n.kind, **_prov(n.prov)}
            for n in spec.names
        )  # fmt: skip
        identifiers.extend(
            {"id": stable_id("identifier", eid, i.scheme, i.value), "entity_id": eid,
             "scheme": i.scheme, "value": i.value, **_prov(i.prov)}
            for i in spec.identifiers
        )  # fmt: skip
    sources.extend(_source_row(entity_id(slug), p) for slug, p, _ in ds.mentions)
    relations = [
        {
            "id": relation_id(r),
            "subject_id": entity_id(r.subject),
            "predicate": r.predicate,
            "object_id": entity_id(r.object),
            "ordinal": r.ordinal,
            "note": r.note,
            **_dates("start", r.start),
            **_dates("end", r.end),
            "rank": r.rank,
            **_prov(r.prov),
        }
        for r in ds.relations
    ]
    quantities = [
        {
            "id": stable_id("quantity", q.subject, q.metric, q.value, q.as_of, q.note, q.text),
            "subject_id": entity_id(q.subject),
            "metric": q.metric,
            "value": q.value,
            "qualifier": q.qualifier,
            "unit": q.unit,
            **_dates("as_of", q.as_of),
            "text": q.text,
            "note": q.note,
            **_prov(q.prov),
        }
        for q in ds.quantities
    ]
    statements = [
        {
            "id": stable_id("statement", s.subject, s.property, s.ordinal, s.text),
            "subject_id": entity_id(s.subject),
            "property": s.property,
            "ordinal": s.ordinal,
            "text": s.text,
            **_prov(s.prov),
        }
        for s in ds.statements
    ]
    notes = [
        {
            "id": stable_id("note", n.subject, n.code, n.note),
            "subject_id": entity_id(n.subject) if n.subject else None,
            "code": n.code,
            "note": n.note,
            **_prov(n.prov),
        }
        for n in ds.notes
    ]
    return {
        "entity_sources": sources,
        "entity_names": names,
        "entity_identifiers": identifiers,
        "relations": relations,
        "quantities": quantities,
        "statements": statements,
        "quality_notes": notes,
    }


def relation_id(r: RelationSpec) -> uuid.UUID:
    """The stable id of a relation, from the facts that tell it apart."""
    return stable_id("relation", r.subject, r.predicate, r.object, r.ordinal, r.note)


def _origins(ds: Dataset) -> dict[uuid.UUID, str]:
    """The data file each record and relation comes from: its revisions' actor."""
    found = {entity_id(slug): spec.file for slug, spec in ds.entities.items()}
    found.update((relation_id(r), r.file) for r in ds.relations)
    return found


def _names(*states: dict[str, dict[uuid.UUID, Row]]) -> Names:
    """Slugs and document keys of every record and document before and after the load."""
    names = Names()
    for rows in states:
        names.slugs.update((key, row["slug"]) for key, row in rows["entities"].items())
        names.documents.update((key, row["key"]) for key, row in rows["source_documents"].items())
    return names


def _source_row(eid: uuid.UUID, p: Provenance) -> Row:
    return {
        "id": stable_id("source", eid, p.doc, p.line_start, p.line_end, p.quote, p.property),
        "entity_id": eid,
        "property": p.property,
        **_prov(p),
    }


def _unique_by_id(table: str, rows: Iterable[Row]) -> dict[uuid.UUID, Row]:
    out: dict[uuid.UUID, Row] = {}
    for row in rows:
        if row["id"] in out and out[row["id"]] != row:
            raise ValueError(f"{table}: two different rows share the natural key of {row}")
        out[row["id"]] = row
    return out


def _detail_order() -> list[str]:
    """Detail tables sorted so that referenced tables are written first."""
    return [t.name for t in models.Base.metadata.sorted_tables]


@dataclass
class SeedReport:
    """What one seed run did: per table, the revisions it recorded, the conflicts it kept."""

    tables: list[TableReport]
    revisions: int = 0
    conflicts: list[Conflict] = field(default_factory=list)

    def changes(self) -> int:
        """Rows inserted, updated or deleted, over every table."""
        return sum(r.inserted + r.updated + r.deleted for r in self.tables)


async def load(conn: Connection, ds: Dataset) -> SeedReport:
    """Bring the database to the dataset's content, but for what contributors wrote; record
    every change as a revision and report the seed facts a contributor's value outlived."""
    await tables.hold_writers(conn)
    desired = desired_rows(ds)
    order = [name for name in _detail_order() if name in desired]
    wanted = {name: _unique_by_id(name, desired[name]) for name in order}
    existing: dict[str, dict[uuid.UUID, Row]] = {}
    for name in order:
        existing[name] = await tables.rows_by_id(conn, name)
    guard = Guard(*await tables.ownership(conn))
    names = _names(existing, wanted)
    conflicts = Keeper(existing, wanted, guard, names).run()
    reports = await _write(conn, order, existing, wanted)
    changes = Changes(existing, wanted, DETAIL_TABLES, guard, names, _origins(ds)).revisions()
    await record(conn, changes)
    if any(r.inserted or r.updated or r.deleted for r in reports.values()):
        if not changes:  # record() bumps the data version itself
            # Every cached response was computed from the old data: retire them all,
            # atomically with this write (see soilapi/graphql/answers.py).
            await bump_data_version(conn)
        # Fresh statistics, so the planner sees the real (small) tables right away instead
        # of waiting for autovacuum.
        await tables.analyze(conn, order)
    history.report(conflicts)
    return SeedReport([reports[name] for name in order], len(changes), conflicts)


async def _write(
    conn: Connection,
    order: list[str],
    existing: dict[str, dict[uuid.UUID, Row]],
    wanted: dict[str, dict[uuid.UUID, Row]],
) -> dict[str, TableReport]:
    """Delete, insert and update the difference between `existing` and `wanted`."""
    reports: dict[str, TableReport] = {}
    # Deletes go child-first so foreign keys never point at a removed row.
    for name in reversed(order):
        gone = [i for i in existing[name] if i not in wanted[name]]
        if gone:
            await tables.delete(conn, name, gone)
        reports[name] = TableReport(name, len(wanted[name]), 0, 0, len(gone))
    for name in order:
        new = [r for i, r in wanted[name].items() if i not in existing[name]]
        changed = [
            r for i, r in wanted[name].items()
            if i in existing[name] and history.differs(existing[name][i], r)
        ]  # fmt: skip
        if new:
            await tables.insert(conn, name, new)
        await tables.update(conn, name, changed)
        reports[name].inserted = len(new)
        reports[name].updated = len(changed)
    return reports
