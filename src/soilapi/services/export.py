"""The full dump: every record and relation, as JSON Lines or CSV, stamped with its feed cursor.

The dump reads one snapshot (REPEATABLE READ, READ ONLY), and its cursor is the feed's
position just after the latest revision that snapshot sees: every change in the dump is at or
before the cursor and every later change is after it, so an integration that loads the dump
and then follows `changes(after: cursor)` misses nothing and sees nothing twice.

How IDs and cursors are written belongs to the API (soilapi.graphql): the caller passes both
encoders in, so this module stays free of GraphQL.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.db.attributes import AttributeType, attributes
from soilapi.repositories import export as sql
from soilapi.vocab import EntityKind, partial_iso

FORMAT = "soilapi-dump"
FORMAT_VERSION = 1
FORMATS = ("jsonl", "csv")
CSV_COLUMNS = (
    "type", "id", "kind", "slug", "revision", "name", "acronym", "description", "country",
    "start", "startPrecision", "end", "endPrecision", "subject", "predicate", "object",
    "ordinal", "note", "rank", "attributes", "names", "identifiers", "sources", "quantities",
    "statements", "qualityNotes", "source",
)  # fmt: skip

GlobalId = Callable[[EntityKind, uuid.UUID], str]
Entry = dict[str, Any]


@dataclass(frozen=True)
class Encoders:
    """How the API writes a record's global ID and the feed's cursor."""

    global_id: GlobalId
    cursor: Callable[[int], str]
    relation_id: Callable[[uuid.UUID], str]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _dated(day: Any, precision: Any) -> dict[str, str] | None:
    """A partial date as the API writes one: `{iso, precision}` ("2013-11", "MONTH")."""
    if day is None:
        return None
    value = day if isinstance(day, date) else date.fromisoformat(str(day))
    return {"iso": partial_iso(value, str(precision)), "precision": str(precision).upper()}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A row's columns with `<x>_date`/`<x>_precision` pairs as one partial date, in camelCase."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        stem = key.rsplit("_", 1)[0]
        if key.endswith("_precision") and f"{stem}_date" in row:
            continue
        if key.endswith("_date") and f"{stem}_precision" in row:
            out[_camel(stem)] = _dated(value, row[f"{stem}_precision"])
        else:
            out[_camel(key)] = value
    return out


@dataclass(frozen=True)
class Dump:
    """An open dump: its header (cursor, format, time), its length, and its entries."""

    header: Entry
    total: int
    conn: Any
    encoders: Encoders

    async def entries(self) -> AsyncIterator[Entry]:
        """Every record, then every relation, each as one JSON object."""
        async for row in sql.records(self.conn):
            yield self._record(row)
        async for row in sql.relations(self.conn):
            yield self._relation(row)

    def _record(self, row: dict[str, Any]) -> Entry:
        kind = EntityKind(row["kind"])
        attrs = dict(row["attrs"])
        for attribute in attributes(kind):
            key = f"{attribute.name}_id"
            if attribute.value_type is AttributeType.REFERENCE and attrs.get(key):
                attrs[key] = self.encoders.global_id(attribute.refers_to[0], uuid.UUID(attrs[key]))
        entry: Entry = {
            "type": "record",
            "id": self.encoders.global_id(kind, row["id"]),
            "kind": kind.value,
            "slug": row["slug"],
            "revision": row["revision"],
            "name": row["name"],
            "acronym": row["acronym"],
            "description": row["description"],
            "country": row["country_code"],
            "start": _dated(row["start_date"], row["start_precision"]),
            "end": _dated(row["end_date"], row["end_precision"]),
            "attributes": {k.removesuffix("Id"): v for k, v in _plain(attrs).items()},
        }
        for name in sql.SUBFACT_TABLES:
            entry[name] = [_plain(item) for item in row[name]]
        return entry

    def _relation(self, row: dict[str, Any]) -> Entry:
        ends = {
            end: self.encoders.global_id(EntityKind(row[f"{end}_kind"]), row[f"{end}_id"])
            for end in ("subject", "object")
        }
        return {
            "type": "relation",
            "id": self.encoders.relation_id(row["id"]),
            "revision": row["revision"],
            "subject": ends["subject"],
            "predicate": str(row["predicate"]),
            "object": ends["object"],
            "ordinal": row["ordinal"],
            "note": row["note"],
            "start": _dated(row["start_date"], row["start_precision"]),
            "end": _dated(row["end_date"], row["end_precision"]),
            "rank": str(row["rank"]),
            "source": row["source"],
        }


@asynccontextmanager
async def open_dump(engine: AsyncEngine, encoders: Encoders) -> AsyncIterator[Dump]:
    """A dump read from one snapshot, stamped with the feed cursor that snapshot is at."""
    async with sql.snapshot(engine) as conn:
        revision = await sql.last_revision(conn)
        header = {
            "type": "header",
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "cursor": encoders.cursor(revision),
            "revision": revision,
            "exportedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        yield Dump(header, await sql.size(conn), conn, encoders)


def _json(value: Any) -> bytes:
    return orjson.dumps(value, default=str)


async def jsonl(dump: Dump) -> AsyncIterator[bytes]:
    """The dump as JSON Lines: the header object first, then one entry per line."""
    yield _json(dump.header) + b"\n"
    async for entry in dump.entries():
        yield _json(entry) + b"\n"


def csv_row(entry: Entry) -> list[str]:
    """An entry as one CSV row: dates split into ISO and precision, lists and objects as JSON."""
    cells: list[str] = []
    for column in CSV_COLUMNS:
        stem = column.removesuffix("Precision")
        value = entry.get(stem)
        if isinstance(value, dict) and "precision" in value and stem in ("start", "end"):
            value = value["precision"] if column != stem else value["iso"]
        elif column != stem:
            value = None
        if isinstance(value, dict | list):
            value = _json(value).decode()
        cells.append("" if value is None else str(value))
    return cells


def _csv_line(cells: list[str] | tuple[str, ...]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue().encode()


async def csv_lines(dump: Dump) -> AsyncIterator[bytes]:
    """The dump as CSV: a column header row, then one row per record or relation.

    CSV has no room for the dump's own header: the caller sends it beside the file (HTTP
    response headers, or a companion `<file>.header.json`).
    """
    yield _csv_line(CSV_COLUMNS)
    async for entry in dump.entries():
        yield _csv_line(csv_row(entry))


def writer(fmt: str) -> Callable[[Dump], AsyncIterator[bytes]]:
    """The encoder of a format (`jsonl` or `csv`)."""
    return {"jsonl": jsonl, "csv": csv_lines}[fmt]
