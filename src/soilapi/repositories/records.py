"""Rows as plain objects for the read path: the attribute names of the models, no ORM state.

The API only reads, so the identity map, change tracking and the 18-table polymorphic join of
ORM loading bought nothing and cost about a third of a request's CPU (py-spy at bench scale
100). Repositories read with Core and wrap each row in a record of its table; GraphQL types read
the same attribute names they would on a model instance.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from soilapi import vocab
from soilapi.db import models as m
from soilapi.db.session import Prepared, Reader


def _ids_of(table: Any) -> Any:
    """`id = ANY($ids)`: the batch condition of every by-id read."""
    return table.c.id == sa.any_(sa.bindparam("ids", type_=ARRAY(sa.Uuid(as_uuid=True))))


class Record:
    """One row: attributes named as the model's, filled in from a Core row."""

    model: ClassVar[type[m.Base]]

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__dict__.get('id')}>"

    def __getattr__(self, name: str) -> Any:
        # Only reached for missing attributes; declared so the type checker accepts any name.
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")


def _attributes(model: type[m.Base], table: sa.Table) -> list[tuple[str, sa.Column[Any]]]:
    """(attribute name, column) for every column of one of the model's tables."""
    mapper = sa.inspect(model)
    found = []
    for prop in mapper.column_attrs:
        for column in prop.columns:
            if isinstance(column, sa.Column) and column.table is table:
                found.append((prop.key, column))
    return found


class TableReader:
    """Reads whole rows of one table into records of one class."""

    def __init__(self, model: type[m.Base]) -> None:
        table = model.__table__
        assert isinstance(table, sa.Table)
        self.table = table
        self.columns = _attributes(model, table)
        self.record: type[Record] = type(f"{model.__name__}Record", (Record,), {"model": model})
        self.by_ids = Prepared(self.select().where(_ids_of(table)))

    def labelled(self) -> list[Any]:
        """Every column, labelled with its attribute name."""
        return [column.label(key) for key, column in self.columns]

    def select(self) -> sa.Select[Any]:
        """SELECT of every column, labelled with its attribute name."""
        return sa.select(*self.labelled())

    def one(self, values: dict[str, Any]) -> Record:
        """The record of one row's `labelled()` values."""
        return self.record(values)

    def wrap(self, rows: Iterable[Any]) -> dict[Any, Record]:
        """Records by id (rows of asyncpg or SQLAlchemy: anything with named columns)."""
        make = self.record
        return {row["id"]: make(dict(row)) for row in rows}

    async def load(self, reader: Reader, ids: Sequence[Any]) -> dict[Any, Record]:
        """Records by id, for a batch of ids, in one statement."""
        if not ids:
            return {}
        return self.wrap(await reader.fetch(self.by_ids, {"ids": list(dict.fromkeys(ids))}))


def _converter(column: sa.Column[Any]) -> Callable[[Any], Any] | None:
    """How a JSON value of a detail column becomes the value the model would hold."""
    kind = column.type
    if isinstance(kind, sa.Enum) and kind.enum_class is not None:
        enum_class: type[Enum] = kind.enum_class
        return enum_class
    if isinstance(kind, sa.Date):
        return date.fromisoformat
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return lambda v: Decimal(str(v))
    if isinstance(kind, sa.Uuid):
        return uuid.UUID
    return None


class EntityReader:
    """Reads entities of any kind in one statement, each with only its own detail columns.

    The shared columns come as typed columns; the detail row comes as `to_jsonb(detail)` from a
    scalar subquery chosen by `CASE kind`, so PostgreSQL looks up one detail table per row
    instead of joining all eighteen, and each row carries a dozen values, not 150.
    """

    def __init__(self) -> None:
        self.base = _attributes(m.Entity, m.Entity.__table__)  # type: ignore[arg-type]
        self.details: dict[vocab.EntityKind, list[tuple[str, str, Any]]] = {}
        self.records: dict[vocab.EntityKind, type[Record]] = {}
        branches = []
        entities = m.Entity.__table__
        for kind, model in m.DETAIL_MODELS.items():
            table: Any = model.__table__
            columns = [(k, c) for k, c in _attributes(model, table) if c.name != "id"]
            self.details[kind] = [(c.name, k, _converter(c)) for k, c in columns]
            self.records[kind] = type(f"{model.__name__}Record", (Record,), {"model": model})
            detail = table.alias("d")
            as_json = (
                sa.select(sa.func.to_jsonb(detail.table_valued()))
                .where(detail.c.id == entities.c.id)
                .scalar_subquery()
            )
            branches.append((entities.c.kind == kind.value, as_json))
        self.table = entities
        self._detail = sa.case(*branches).label("detail")
        self.by_ids = Prepared(sa.select(*self.labelled()).where(_ids_of(entities)))

    def labelled(self) -> list[Any]:
        """The shared columns by attribute name, and the detail row as `detail`."""
        return [*(column.label(key) for key, column in self.base), self._detail]

    async def load(self, reader: Reader, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Record]:
        """Entities of any kind by id, in one statement."""
        if not ids:
            return {}
        return self.wrap(await reader.fetch(self.by_ids, {"ids": list(dict.fromkeys(ids))}))

    def one(self, values: dict[str, Any]) -> Record:
        """The record of one row's `labelled()` values, of the class of its kind."""
        raw = values.pop("detail")
        detail = orjson.loads(raw) if isinstance(raw, str) else (raw or {})
        kind = values["kind"]
        for name, key, convert in self.details[kind]:
            value = detail.get(name)
            values[key] = value if value is None or convert is None else convert(value)
        return self.records[kind](values)

    def wrap(self, rows: Iterable[Any]) -> dict[uuid.UUID, Record]:
        """Records by id, of the record class of each row's kind."""
        records = (self.one(dict(row)) for row in rows)
        return {record.id: record for record in records}


ENTITIES = EntityReader()
RELATIONS = TableReader(m.Relation)
SOURCE_DOCUMENTS = TableReader(m.SourceDocument)
ATTACHED_READERS: dict[type[m.Base], TableReader] = {
    model: TableReader(model)
    for model in (
        m.EntitySource,
        m.EntityName,
        m.EntityIdentifier,
        m.Quantity,
        m.Statement,
        m.QualityNote,
    )
}


def model_of(obj: Any) -> type[m.Base] | None:
    """The model a record was read from (None for anything else), for GraphQL's type checks."""
    return getattr(type(obj), "model", None)


_KIND_OF_MODEL: dict[Any, Any] = {model: kind for kind, model in m.DETAIL_MODELS.items()}


def entity_kind(obj: Any) -> Any:
    """The kind of an entity record (None for any other object), for GraphQL's type checks."""
    return _KIND_OF_MODEL.get(getattr(type(obj), "model", None))


def is_source_document(obj: Any) -> bool:
    """Whether a record is a source document's row."""
    return model_of(obj) is m.SourceDocument
