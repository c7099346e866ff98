"""What a field reads, declared once with the field, for both ways of answering a query.

A field factory below builds a field's resolver (graphql-core's engine calls it) and marks the
resolver with what it reads, a small frozen dataclass the SQL compiler (soilapi.graphql.compiler)
turns into SQL. Both come from the one call that declares the field, so the two engines cannot
read different things. A field without a mark is never compiled: the query it is in runs
through the resolvers. Plain attributes need no mark: they are columns of the same name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry
from strawberry import Parent

from soilapi.repositories.entities import ChildList, RelationList

F = TypeVar("F", bound=Callable[..., Any])

_ATTRIBUTE = "__soilapi_reads__"


@dataclass(frozen=True)
class Column:
    """A column of the record's row; `optional`: some row types lack it (then null)."""

    attribute: str
    optional: bool = False


@dataclass(frozen=True)
class DateOf:
    """A PartialDate from the columns `<prefix>_date` and `<prefix>_precision`."""

    prefix: str


@dataclass(frozen=True)
class GlobalIdOf:
    """The record's Relay ID."""


@dataclass(frozen=True)
class LinesOf:
    """A LineRange from `line_start` and `line_end`."""


@dataclass(frozen=True)
class SameRow:
    """An object read from the same row (an attached row's `source`)."""


@dataclass(frozen=True)
class DocumentOf:
    """The source document the row's `document_id` points at."""


@dataclass(frozen=True)
class Related:
    """A page of the records linked to this one by relations (`spec`)."""

    spec: RelationList


@dataclass(frozen=True)
class RelationRows:
    """A page of the relations themselves (`spec`), whose fields read the relation's row."""

    spec: RelationList


@dataclass(frozen=True)
class Children:
    """A page of the records pointing at this one through a foreign key (`spec`)."""

    spec: ChildList


@dataclass(frozen=True)
class Attached:
    """A page of the rows attached to the record: sources, names, quantities..."""

    what: str


@dataclass(frozen=True)
class FirstRelated:
    """The first record linked by relations (`spec`), or null."""

    spec: RelationList


@dataclass(frozen=True)
class Ref:
    """The record a foreign key column of the row points at."""

    column: str


@dataclass(frozen=True)
class RowRef:
    """The plain row of `rows` (json_query's RELATION_ROWS) whose id the row's `column`
    holds; null when there is none (a revision's relation, once retired)."""

    column: str
    rows: str


@dataclass(frozen=True)
class TargetOf:
    """The global ID of a revision's record: `target_id` under the type name its `kind`
    has in `names` (pairs of kind value and type name)."""

    names: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DiffOf:
    """A revision's `diff` JSON (`{field: [before, after]}`) as a list of field changes, in
    the order PostgreSQL's JSONB keeps its keys (the order the resolvers read them in)."""


@dataclass(frozen=True)
class ProvenanceOf:
    """A revision's `provenance` JSON as a ChangeSource (null when absent or empty)."""


@dataclass(frozen=True)
class LatestRevision:
    """The record's (or relation's) newest revision, as a row of `revisions`; null if none."""


@dataclass(frozen=True)
class RevisionTime:
    """When the record's (or relation's) first revision (`first`) or latest one was made."""

    first: bool


@dataclass(frozen=True)
class Revisions:
    """A page of the record's (or relation's) revisions, newest first."""


@dataclass(frozen=True)
class Facets:
    """A root list's facet counts over every record its filter keeps (`facets`)."""


@dataclass(frozen=True)
class Totals:
    """A list of partner agreements' totals over their instruments (`aggregates`)."""


Mark = (
    Column
    | DateOf
    | GlobalIdOf
    | LinesOf
    | SameRow
    | DocumentOf
    | Related
    | RelationRows
    | Children
    | Attached
    | FirstRelated
    | Ref
    | RowRef
    | TargetOf
    | DiffOf
    | ProvenanceOf
    | LatestRevision
    | RevisionTime
    | Revisions
)
Listed = Related | RelationRows | Children | Attached | Revisions


def reads(mark: Any) -> Callable[[F], F]:
    """Mark a resolver with what it reads (one of the dataclasses above, or a root's read)."""

    def marked(func: F) -> F:
        setattr(func, _ATTRIBUTE, mark)
        return func

    return marked


def mark_of(func: Any) -> Any:
    """The mark of a resolver function, if it has one."""
    return getattr(func, _ATTRIBUTE, None)


# --- field factories -----------------------------------------------------------------------


def date_field(prefix: str, description: str, *, required: bool = False) -> Any:
    """A PartialDate field read from `<prefix>_date` and `<prefix>_precision` (`required`:
    never null, as a timeline entry's date)."""
    from soilapi.graphql.types.values import PartialDate, partial  # noqa: PLC0415 - cycle

    @reads(DateOf(prefix))
    def resolver(root: Parent[Any]) -> Any:
        return partial(getattr(root, f"{prefix}_date"), getattr(root, f"{prefix}_precision"))

    resolver.__annotations__["return"] = PartialDate if required else PartialDate | None
    return strawberry.field(resolver=resolver, description=description)


def column_field(
    attribute: str, annotation: Any, description: str, convert: Callable[[Any], Any] | None = None
) -> Any:
    """A scalar read from a column whose name differs from the field's (or needs `convert`,
    e.g. a NUMERIC column written as a float, which the compiler does from the column type)."""

    @reads(Column(attribute))
    def resolver(root: Parent[Any]) -> Any:
        value = getattr(root, attribute)
        return value if convert is None or value is None else convert(value)

    resolver.__annotations__["return"] = annotation
    return strawberry.field(resolver=resolver, description=description)
