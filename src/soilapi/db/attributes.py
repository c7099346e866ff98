"""What each kind's records carry besides the shared columns, read off its detail table.

The seed files write a record's kind-specific facts under `attrs:`, and the seed reader
validates them. The columns of the kind's model already say everything that validation needs:
the value's type (text, integer, enum ...), whether it may be absent, and for a foreign key which
kinds it may point at. Reading them here, rather than keeping a second table by hand, means a
column added to a model is a seed attribute at once, checked and loaded with no other change.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from soilapi.db.models import DERIVED, DETAIL_MODELS
from soilapi.vocab import EntityKind


class AttributeType(StrEnum):
    """The kinds of value an attribute holds, as its seed file writes it."""

    TEXT = "text"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    NUMBER = "number"
    ENUM = "enum"
    TEXT_LIST = "text_list"
    PARTIAL_DATE = "partial_date"  # "2012", "2013-11" or "2021-05-27": `<name>_date|_precision`
    REFERENCE = "reference"  # another record's slug: the `<name>_id` foreign key


@dataclass(frozen=True)
class Attribute:
    """One seed attribute of a kind: its key, its type and whether a record must have it."""

    name: str
    value_type: AttributeType
    required: bool
    enum: type[StrEnum] | None = None
    refers_to: tuple[EntityKind, ...] = ()


_KIND_OF_TABLE = {model.__tablename__: kind for kind, model in DETAIL_MODELS.items()}


def _attribute(column: sa.Column[object], columns: set[str]) -> Attribute | None:
    """The attribute a detail column stores, or None for the precision half of a date."""
    name = column.name
    required = not column.nullable and column.default is None
    column_type = column.type
    if name.endswith("_precision") and f"{name.removesuffix('_precision')}_date" in columns:
        return None
    if name.endswith("_date") and f"{name.removesuffix('_date')}_precision" in columns:
        return Attribute(name.removesuffix("_date"), AttributeType.PARTIAL_DATE, required)
    if column.foreign_keys:
        (key,) = column.foreign_keys
        kind = _KIND_OF_TABLE[key.column.table.name]  # a detail table: records are its rows
        return Attribute(name.removesuffix("_id"), AttributeType.REFERENCE, required, None, (kind,))
    if isinstance(column_type, sa.Enum):  # before String, which Enum extends
        enum = column_type.enum_class
        if enum is None or not issubclass(enum, StrEnum):
            raise TypeError(f"{column.table.name}.{name}: an enum column takes a StrEnum")
        return Attribute(name, AttributeType.ENUM, required, enum)
    for sql_type, attribute_type in _PLAIN_TYPES:
        if isinstance(column_type, sql_type):
            return Attribute(name, attribute_type, required)
    raise TypeError(f"{column.table.name}.{name}: no seed attribute type for {column_type!r}")


_PLAIN_TYPES: tuple[tuple[type[sa.types.TypeEngine[Any]], AttributeType], ...] = (
    (sa.Boolean, AttributeType.BOOLEAN),
    (sa.Integer, AttributeType.INTEGER),
    (sa.Numeric, AttributeType.NUMBER),
    (sa.String, AttributeType.TEXT),  # Text is a String
    (ARRAY, AttributeType.TEXT_LIST),
)


def attributes(kind: EntityKind) -> tuple[Attribute, ...]:
    """The seed attributes of one kind (see `table_attributes`)."""
    table = DETAIL_MODELS[kind].__table__
    assert isinstance(table, sa.Table)
    return table_attributes(table)


def table_attributes(table: sa.Table) -> tuple[Attribute, ...]:
    """The seed attributes a detail table stores, in column order: every column but the key and
    the columns marked derived."""
    columns = {c.name for c in table.columns}
    found = (
        _attribute(column, columns)
        for column in table.columns
        if not column.primary_key and not DERIVED.items() <= column.info.items()
    )
    return tuple(attribute for attribute in found if attribute is not None)
