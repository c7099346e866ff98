"""One SQL statement that returns a whole answer as JSON, from a plan of the selection.

PostGraphile's speed comes from letting PostgreSQL build the response: a nested GraphQL
selection becomes one statement of `json_build_object` and `json_agg` over LATERAL pages, and
the server only passes the JSON on. This module does the same for a plan of the selection
(soilapi.graphql.compiler makes the plan from a query; it knows GraphQL, this module knows the
tables). Pages, their order, cursors and global IDs are the same as the resolvers' (the same
sort columns and tags, and the same encodings, computed in SQL), which the test suite checks
by running every query through both paths.

A plan is a tree of frozen dataclasses, so it is its own cache key: the statement of a plan is
built and compiled once, and a request only supplies bind values (page sizes, cursors, filter
values, ids), named per list so several lists of one statement never share a bind.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

from soilapi import vocab
from soilapi.db import models as m
from soilapi.db.history import Revision
from soilapi.db.session import MAX_CACHEABLE_STATEMENT_BYTES, Prepared, Reader
from soilapi.lru import Lru
from soilapi.repositories import dates
from soilapi.repositories import entities as repo
from soilapi.repositories import facets as facet_repo
from soilapi.repositories import search as search_repo
from soilapi.repositories.paging import (
    ColumnElement,
    Window,
    keyset_condition,
    order_by,
    prepared_bytes,
)


def _statement_bytes(plan: Hashable, prepared: Prepared) -> int:
    # The plan it keeps alive, the SQL text, its bind names and the binds' default values
    # (measured: ~65 and ~150 bytes each).
    return 6 * len(repr(plan)) + prepared_bytes(prepared)


# Compiled statements by plan. Plans come from client documents: keep them bounded.
_STATEMENTS: Lru[Hashable, Prepared] = Lru(
    "statements", max_entries=256, max_bytes=32 * 1024 * 1024, weigh=_statement_bytes
)

_JSON_ARGS = 100  # PostgreSQL's limit on function arguments: json_build_object takes pairs

# --- the plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of the row: of `entities`, of the kind's detail table, or of a plain row.

    `form` says how the value is written: as is, an enum's GraphQL name, or a float.
    """

    key: str
    name: str
    detail: bool = False
    form: str = "plain"  # plain | enum | float | datetime


@dataclass(frozen=True)
class Const:
    """A value fixed by the plan (`__typename`)."""

    key: str
    value: str | None


@dataclass(frozen=True)
class GlobalId:
    """The Relay ID of the row: base64url of "Type:uuid", as soilapi.graphql.ids encodes it."""

    key: str
    type_name: str


@dataclass(frozen=True)
class DateObject:
    """A PartialDate from a `<prefix>_date`/`<prefix>_precision` column pair; `parts` are
    (key, iso | year | value | precision | =TypeName)."""

    key: str
    prefix: str
    detail: bool
    parts: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Lines:
    """A LineRange from `line_start`/`line_end`; `parts` are (key, start | end | =TypeName)."""

    key: str
    parts: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SameRow:
    """An object read from the same row (an attached row's `source`)."""

    key: str
    fields: tuple[Any, ...]


@dataclass(frozen=True)
class DocumentRef:
    """The source document a row's `document_id` points at."""

    key: str
    fields: tuple[Any, ...]


@dataclass(frozen=True)
class EntityRef:
    """The entity a foreign key column of the row (or its detail row) points at."""

    key: str
    column: str
    detail: bool
    target: Entities


@dataclass(frozen=True)
class Entities:
    """How an entity row is written, per kind it may have (one kind in a typed position)."""

    branches: tuple[tuple[vocab.EntityKind, tuple[Any, ...]], ...]


@dataclass(frozen=True)
class PageInfoPlan:
    """pageInfo's fields: (key, hasNextPage | hasPreviousPage | startCursor | endCursor |
    =TypeName)."""

    key: str
    parts: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Nodes:
    """A connection's `nodes`: each row written as `node` plans it."""

    key: str
    node: Any  # Entities or a tuple of row fields


@dataclass(frozen=True)
class Edges:
    """A connection's `edges`: cursor, node and `__typename` as asked."""

    key: str
    parts: tuple[tuple[str, Any], ...]  # (key, "cursor" | "=TypeName" | node plan)


@dataclass(frozen=True)
class TotalCount:
    """A connection's `totalCount`: a COUNT of the whole list."""

    key: str


@dataclass(frozen=True)
class FacetsPlan:
    """A root list's `facets`: the facets counted (they shape the SQL), the prefix of its
    `first` bind, and (key, field | value | count | =TypeName) of each entry."""

    key: str
    bind: str
    fields: tuple[vocab.Facet, ...]
    parts: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TotalsPlan:
    """A list of partner agreements' `aggregates`: (key, fte | instruments | =TypeName, or
    the (key, instrumentType | count | =TypeName) of each type's entry)."""

    key: str
    parts: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class ListSource:
    """Which rows a nested list pages through, from soilapi.repositories.entities' specs."""

    what: str  # related | relations (RELATION_ROWS) | children | attached
    spec: Any  # RelationList | ChildList | attached name


@dataclass(frozen=True)
class WindowForm:
    """What of a page request changes the SQL (not its values).

    `size` is the page size. A statement has it in its text (`LIMIT 11`), so that
    PostgreSQL plans it once, for any values, at its first runs. As a parameter it made
    PostgreSQL plan the statement again at every run (a plan for an unknown LIMIT assumes a
    tenth of the table, so the plan made for any values never looked as good as one made for
    the values at hand): 0.2-1.5 ms of planning each time, most of a dashboard's database
    time at scale 1, and half of a page's after a cursor at scale 100 (0.8 ms of database
    CPU against 0.44). Cursors, ids and slugs select a start in an index, or one row, alike
    for any value. A statement that binds a filter's values (a category, countries, a
    timeline's dates) keeps its page size a parameter, and PostgreSQL goes on planning it
    for the values at hand: how many rows they select shapes the plan, and a plan for any
    values was up to 3x slower (a category's organisations at scale 100: 7 ms planned for
    'network', 19 ms for any category). See `statement`. Either way each page size is a plan
    of its own (`size` is part of the form); sizes are few, from 1 to the page-size limit.
    """

    after: int | None
    before: int | None
    from_end: bool
    descending: bool
    size: int


@dataclass(frozen=True)
class Page:
    """A connection: one page of a list per parent row, with the parts the client asked for.

    `bind` prefixes this list's bind names; `tag` is the list's cursor tag.
    """

    key: str
    source: ListSource
    bind: str
    tag: str
    window: WindowForm
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class FirstOf:
    """The first entity of a list, or null (an organisation's `parent`)."""

    key: str
    source: ListSource
    node: Entities


@dataclass(frozen=True)
class TopList:
    """A root list with filters. Only the filter's shape (which filters are set) is part of
    the plan; its values are binds, so `filter` is any filter of that shape."""

    kind: vocab.EntityKind
    shape: tuple[Any, ...]
    order: vocab.Order
    tag: str
    window: WindowForm
    parts: tuple[Any, ...]
    filter: repo.EntityFilter = field(compare=False, hash=False)


@dataclass(frozen=True)
class Timeline:
    """The timeline: a page of entries (TIMELINE_ROWS). Only the filter's shape is part of
    the plan; its values are binds, so `filter` is any filter of that shape."""

    shape: Hashable
    tag: str
    window: WindowForm
    parts: tuple[Any, ...]
    filter: dates.TimelineFilter = field(compare=False, hash=False)


@dataclass(frozen=True)
class Feed:
    """A page of the change feed (REVISION_ROWS in id order); `kinds`: whether the bind
    `kinds` keeps some kinds. An empty page's `endCursor` is the bind `held`."""

    kinds: bool
    tag: str
    window: WindowForm
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Search:
    """A page of `search`'s hits (SEARCH_ROWS). Only the search's shape is part of the plan;
    its query and filters are binds, and so is its cursor tag (`tag`: a hash of the query),
    so `filter` is any search of that shape."""

    shape: Hashable
    window: WindowForm
    parts: tuple[Any, ...]
    filter: search_repo.SearchFilter = field(compare=False, hash=False)


@dataclass(frozen=True)
class RowRef:
    """The plain row of `table` (RELATION_ROWS) whose id the row's `column` holds, or null."""

    key: str
    column: str
    table: str
    fields: tuple[Any, ...]


@dataclass(frozen=True)
class Target:
    """A revision's `target`: the global ID of `target_id` under its kind's type name
    (`names`: pairs of kind value and type name)."""

    key: str
    names: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Diff:
    """A revision's `diff` as a list; `parts` are (key, field | before | after | =TypeName)."""

    key: str
    parts: tuple[tuple[str, str], ...]


# A ChangeSource's fields, by the key of the revision's `provenance` JSON each reads.
PROVENANCE_KEYS = {
    "document": "document",
    "quote": "quote",
    "evidence": "evidence",
    "url": "url",
    "title": "title",
    "readOn": "read_on",
    "stated": "stated",
}


@dataclass(frozen=True)
class ProvenanceJson:
    """A revision's `provenance` JSON as a ChangeSource: (key, a PROVENANCE_KEYS name or
    =TypeName, or the (key, start | end | =TypeName) of its `lines`)."""

    key: str
    parts: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class LatestRevision:
    """A record's (or relation's) newest revision, its fields read from REVISION_ROWS."""

    key: str
    fields: tuple[Any, ...]


@dataclass(frozen=True)
class RevisionTime:
    """When a record's (or relation's) first revision (`first`) or latest one was made."""

    key: str
    first: bool


@dataclass(frozen=True)
class BySlug:
    """A root field answering one entity of a kind by slug (None: any kind)."""

    kind: vocab.EntityKind | None
    column: str  # slug, or a unique detail column (code, label, symbol, target)
    node: Entities


@dataclass(frozen=True)
class ByIds:
    """`node`/`nodes`: entities by id and kind, in the order asked, null where none."""

    single: bool
    node: Entities


def window_form(window: Window) -> WindowForm:
    """The SQL-shaping part of a validated window."""
    return WindowForm(
        len(window.after) if window.after is not None else None,
        len(window.before) if window.before is not None else None,
        window.from_end,
        window.descending,
        window.limit,
    )


def window_values(bind: str, window: Window) -> dict[str, Any]:
    """Bind values of a page: its size (+1 to see if more follow, where it is bound: see
    WindowForm) and its cursors."""
    values: dict[str, Any] = {f"{bind}limit": window.limit + 1, f"{bind}size": window.limit}
    for side, key in (("after", window.after), ("before", window.before)):
        for i, value in enumerate(key or ()):
            values[f"{bind}{side}{i}"] = value
    return values


_BASE = m.Entity.__table__
_REVISIONS = Revision.__table__

# --- columns of the plan ---------------------------------------------------------------
# The planner (soilapi.graphql.compiler) names attributes; these say which column holds them.

DOCUMENT_ROWS = "source_documents"  # the rows of a source document, beside ATTACHED's names
RELATION_ROWS = "relations"  # the rows of a list of relations (and its ListSource's `what`)
REVISION_ROWS = "revisions"  # the rows of a record's revisions (and its ListSource's `what`)


def _columns(model: Any) -> dict[str, Any]:
    mapper: Any = sa.inspect(model)
    return {prop.key: prop.columns[0] for prop in mapper.column_attrs}


_ENTITY_COLUMNS = {kind: _columns(model) for kind, model in m.DETAIL_MODELS.items()}
_ROW_COLUMNS = {what: _columns(model) for what, (model, _) in repo.ATTACHED.items()}
_ROW_COLUMNS[DOCUMENT_ROWS] = _columns(m.SourceDocument)
_ROW_COLUMNS[RELATION_ROWS] = _columns(m.Relation)
_ROW_COLUMNS[REVISION_ROWS] = _columns(Revision)
TIMELINE_ROWS = "timeline"  # a timeline entry's columns (soilapi.repositories.dates)
_ROW_COLUMNS[TIMELINE_ROWS] = dates.TIMELINE_COLUMNS
SEARCH_ROWS = "search"  # a search hit's columns (soilapi.repositories.search)
_ROW_COLUMNS[SEARCH_ROWS] = search_repo.SEARCH_COLUMNS


def _form(column: Any) -> str:
    if isinstance(column.type, sa.Enum):
        return "enum"
    if isinstance(column.type, sa.DateTime):
        return "datetime"
    if isinstance(column.type, sa.Numeric) and not isinstance(column.type, sa.Integer):
        return "float"
    return "plain"


def entity_column(kind: vocab.EntityKind, key: str, attribute: str) -> Column | None:
    """The plan of an entity's attribute (None: the kind has no such column)."""
    column = _ENTITY_COLUMNS[kind].get(attribute)
    if column is None:
        return None
    return Column(key, column.name, column.table is not _BASE, _form(column))


def entity_date(key: str, prefix: str, parts: tuple[tuple[str, str], ...]) -> DateObject:
    """The plan of an entity's PartialDate (on `entities`, or on its kind's detail table)."""
    return DateObject(key, prefix, f"{prefix}_date" not in _BASE.c, parts)


def entity_ref(kind: vocab.EntityKind, key: str, attribute: str, target: Entities) -> EntityRef:
    """The plan of the entity a foreign key attribute of an entity points at."""
    column = _ENTITY_COLUMNS[kind][attribute]
    return EntityRef(key, column.name, column.table is not _BASE, target)


def row_column(rows: str, key: str, attribute: str, *, enum: bool = False) -> Column | None:
    """The plan of an attribute of a plain row: an attached list's rows, or DOCUMENT_ROWS;
    `enum`: its GraphQL type is an enum, whose names are the stored values in upper case
    (a revision's `kind` and `actor_role` are plain strings)."""
    column = _ROW_COLUMNS[rows].get(attribute)
    if column is None:
        return None
    form = _form(column)
    return Column(key, column.name, False, "enum" if enum and form == "plain" else form)


# --- SQL -----------------------------------------------------------------------------------

_BASE_COLUMNS = [c.name for c in _BASE.columns]
DETAIL_PREFIX = "d_"  # a kind's detail columns, read after a page's LIMIT (`_detail_late`)


def _b64url(text: ColumnElement) -> ColumnElement:
    """base64url without padding, like `base64.urlsafe_b64encode(...).rstrip("=")`.

    PostgreSQL's base64 breaks lines every 76 characters: the newlines are dropped. Three
    `replace` calls, not one `translate`: translate walks the text character by character
    as multibyte text, three times slower (2.3 against 0.8 µs an ID; a page of 20 records
    writes 21 of them).
    """
    encoded = sa.func.encode(sa.func.convert_to(text, "UTF8"), "base64")
    for old, new in (("\n", ""), ("+", "-"), ("/", "_")):
        encoded = sa.func.replace(encoded, old, new)
    return sa.func.rtrim(encoded, "=")


def _text(value: ColumnElement) -> ColumnElement:
    return sa.cast(value, sa.Text)


def _concat(*parts: Any) -> ColumnElement:
    """`a || b || ...` of SQL text; Python strings become literals."""
    items = [sa.literal(p, sa.Text) if isinstance(p, str) else p for p in parts]
    out = items[0]
    for item in items[1:]:
        out = out.op("||")(item)
    return out


def _json_string(value: ColumnElement) -> ColumnElement:
    """A text value as a JSON string literal (quoted and escaped)."""
    return _text(sa.func.to_json(_text(value)))


def _cursor(tag: str | ColumnElement, keys: Sequence[ColumnElement]) -> ColumnElement:
    """soilapi.graphql.pagination.encode_cursor in SQL: the same JSON, the same bytes; `tag`
    is the list's, or a bind where it depends on the request (a search's)."""
    named = sa.literal(tag, sa.Text) if isinstance(tag, str) else tag
    parts: list[Any] = ['[["t",', sa.func.to_json(named).cast(sa.Text), "]"]
    for key in keys:
        kind = key.type
        if isinstance(kind, sa.Uuid):
            parts += [',["u","', _text(key), '"]']
        elif isinstance(kind, sa.Date):
            parts += [',["d","', _iso_day(key), '"]']
        elif isinstance(kind, sa.Integer):
            parts += [',["i",', _text(key), "]"]
        else:
            parts += [',["s",', _json_string(key), "]"]
    return _b64url(_concat(*parts, "]"))


def _iso_day(day: ColumnElement) -> ColumnElement:
    """A date as Python's `isoformat()` writes it; asyncpg sends date.max and date.min (the
    sort keys of undated rows) as infinity and -infinity, which Python reads back as those."""
    return sa.case(
        (day == sa.text("'infinity'::date"), "9999-12-31"),
        (day == sa.text("'-infinity'::date"), "0001-01-01"),
        else_=sa.func.to_char(day, "YYYY-MM-DD"),
    )


def _global_id(type_name: str, row_id: ColumnElement) -> ColumnElement:
    return _b64url(_concat(f"{type_name}:", _text(row_id)))


def _obj(pairs: Sequence[tuple[str, ColumnElement]]) -> ColumnElement:
    if len(pairs) * 2 > _JSON_ARGS:
        raise ValueError("too many fields for one json_build_object")
    args: list[Any] = []
    for key, value in pairs:
        args += [sa.literal(key, sa.Text), value]
    return sa.func.json_build_object(*args)


def _enum_name(value: ColumnElement) -> ColumnElement:
    """An enum stored as its lower-case value, written as its GraphQL name (the upper case)."""
    return sa.func.upper(value)


class _Params:
    """Named binds of one statement: each list's names carry its own prefix. `sized`: page
    sizes are written into the text rather than bound (WindowForm). `filtered`: it binds
    a filter's values (`filter_values`)."""

    def __init__(self, sized: bool) -> None:
        self.sized = sized
        self.filtered = False

    def filter_values(self, names: Collection[str]) -> None:
        """Note the binds of a filter's values: how many rows they select shapes the plan,
        unlike a cursor's, an id's or a slug's (see WindowForm)."""
        self.filtered = self.filtered or bool(names)

    def size(self, name: str, value: int) -> Any:
        """A page's size (or its LIMIT): in the text when sized, else the bind `name`."""
        return sa.literal(value, sa.Integer) if self.sized else self(name, sa.Integer)

    def __call__(self, name: str, type_: Any = None) -> Any:
        return sa.bindparam(name, type_=type_)


class _Row:
    """Where a plan's fields read their columns: the row, and its detail row when needed
    (a table of its own, or the row itself, whose detail columns are named with `prefix`)."""

    def __init__(self, row: Any, detail: Any = None, prefix: str = "") -> None:
        self.row = row
        self.detail = detail
        self.prefix = prefix

    def col(self, name: str, detail: bool = False) -> ColumnElement:
        if detail:
            return self.detail.c[self.prefix + name]
        return self.row.c[name]


def _date(row: _Row, plan: DateObject) -> ColumnElement:
    value = row.col(f"{plan.prefix}_date", plan.detail)
    precision = row.col(f"{plan.prefix}_precision", plan.detail)
    pairs: list[tuple[str, ColumnElement]] = []
    for key, what in plan.parts:
        if what.startswith("="):
            pairs.append((key, sa.literal(what[1:], sa.Text)))
        elif what == "iso":
            iso = sa.case(
                (precision == "year", sa.func.to_char(value, "YYYY")),
                (precision == "month", sa.func.to_char(value, "YYYY-MM")),
                else_=sa.func.to_char(value, "YYYY-MM-DD"),
            )
            pairs.append((key, iso))
        elif what == "year":
            pairs.append((key, sa.cast(sa.extract("year", value), sa.Integer)))
        elif what == "value":
            pairs.append((key, sa.func.to_char(value, "YYYY-MM-DD")))
        else:  # precision
            pairs.append((key, _enum_name(precision)))
    return sa.case((value.is_(None), sa.null()), else_=_obj(pairs))


def _column(f: Column, row: _Row, _params: _Params) -> ColumnElement:
    value = row.col(f.name, f.detail)
    if f.form == "enum":
        return _enum_name(value)
    if f.form == "float":
        return sa.cast(value, sa.Float)
    if f.form == "datetime":
        return date_time_text(value)
    return value


# soilapi.graphql.scalars.DATE_TIME_FORMAT in SQL: UTC, six fractional digits, "Z".
DATE_TIME_SQL = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def date_time_text(value: ColumnElement) -> ColumnElement:
    """A timestamptz written as the DateTime scalar writes it."""
    return sa.func.to_char(sa.func.timezone("UTC", value), DATE_TIME_SQL)


def _lines(f: Lines, row: _Row, _params: _Params) -> ColumnElement:
    return _obj(
        [
            (key, sa.literal(w[1:], sa.Text) if w.startswith("=") else row.col(f"line_{w}"))
            for key, w in f.parts
        ]
    )


def _document(f: DocumentRef, row: _Row, params: _Params) -> ColumnElement:
    doc = m.SourceDocument.__table__.alias()
    return (
        sa.select(_obj(_fields(_Row(doc), f.fields, params)))
        .where(doc.c.id == row.col("document_id"))
        .scalar_subquery()
    )


def _entity_ref(f: EntityRef, row: _Row, params: _Params) -> ColumnElement:
    target = _BASE.alias()
    return (
        sa.select(_entity(target, f.target, params))
        .where(target.c.id == row.col(f.column, f.detail))
        .scalar_subquery()
    )


def _row_ref(f: RowRef, row: _Row, params: _Params) -> ColumnElement:
    table = _ROW_COLUMNS[f.table]["id"].table.alias()
    return (
        sa.select(_obj(_fields(_Row(table), f.fields, params)))
        .where(table.c.id == row.col(f.column))
        .scalar_subquery()
    )


def _target(f: Target, row: _Row, _params: _Params) -> ColumnElement:
    """The global ID of `target_id` under the type name of the row's `kind`."""
    kind = row.col("kind")
    name = sa.case(
        *((kind == value, sa.literal(type_name, sa.Text)) for value, type_name in f.names)
    )
    return _b64url(_concat(name, ":", _text(row.col("target_id"))))


def _key(value: ColumnElement, name: str | int, as_text: bool = False) -> ColumnElement:
    """`value -> name` (or `->>`, `as_text`) of a JSONB value."""
    literal = sa.literal(name, sa.Integer if isinstance(name, int) else sa.Text)
    return value.op("->>" if as_text else "->")(literal)


def _diff(f: Diff, row: _Row, _params: _Params) -> ColumnElement:
    """A revision's `{field: [before, after]}` as a list, in the order of JSONB's keys."""
    each = (
        sa.func.jsonb_each(row.col("diff"))
        .table_valued("key", "value", with_ordinality="ord")
        .render_derived(name="each")
    )
    values = {
        "field": each.c.key,
        "before": _key(each.c.value, 0),
        "after": _key(each.c.value, 1),
    }
    entry = _obj(
        [(k, sa.literal(w[1:], sa.Text) if w.startswith("=") else values[w]) for k, w in f.parts]
    )
    listed = sa.func.json_agg(aggregate_order_by(entry, each.c.ord))
    return sa.select(sa.func.coalesce(listed, _EMPTY)).select_from(each).scalar_subquery()


_NO_PROVENANCE: tuple[ColumnElement, ...] = (
    sa.literal_column("'null'::jsonb"),
    sa.literal_column("'{}'::jsonb"),
)


def _provenance(f: ProvenanceJson, row: _Row, _params: _Params) -> ColumnElement:
    """A ChangeSource from the `provenance` JSON the write pipeline stores (as
    soilapi.graphql.types.history.change_source reads it); null when it gave none."""
    given = row.col("provenance")
    start, start_text = _key(given, "line_start"), _key(given, "line_start", True)
    end = sa.case(
        (sa.func.coalesce(_key(given, "line_end", True), "0") == "0", start),
        else_=_key(given, "line_end"),
    )
    line_values = {"start": start, "end": end}
    values: dict[str, ColumnElement] = {
        name: _key(given, key, True) for name, key in PROVENANCE_KEYS.items()
    }
    values["evidence"] = _enum_name(values["evidence"])
    values["stated"] = sa.func.coalesce(sa.cast(values["stated"], sa.Boolean), sa.false())
    pairs: list[tuple[str, ColumnElement]] = []
    for key, what in f.parts:
        if isinstance(what, tuple):
            lines = _obj(
                [
                    (k, sa.literal(w[1:], sa.Text) if w.startswith("=") else line_values[w])
                    for k, w in what
                ]
            )
            pairs.append((key, sa.case((start_text.is_(None), sa.null()), else_=lines)))
        elif what.startswith("="):
            pairs.append((key, sa.literal(what[1:], sa.Text)))
        else:
            pairs.append((key, values[what]))
    absent = sa.or_(given.is_(None), *(given == empty for empty in _NO_PROVENANCE))
    return sa.case((absent, sa.null()), else_=_obj(pairs))


def _latest(f: LatestRevision, row: _Row, params: _Params) -> ColumnElement:
    """The row's newest revision (the (target_id, number) index, backwards, one row)."""
    own = _REVISIONS.alias()
    return (
        sa.select(_obj(_fields(_Row(own), f.fields, params)))
        .where(own.c.target_id == row.col("id"))
        .order_by(own.c.number.desc())
        .limit(1)
        .scalar_subquery()
    )


def _revision_time(f: RevisionTime, row: _Row, _params: _Params) -> ColumnElement:
    """When the row's first revision (the earliest time of its history, as
    soilapi.repositories.history.latest_revisions gives it) or its latest one was made."""
    own = _REVISIONS.alias()
    found = sa.select(sa.func.min(own.c.created_at) if f.first else own.c.created_at)
    found = found.where(own.c.target_id == row.col("id"))
    if not f.first:
        found = found.order_by(own.c.number.desc()).limit(1)
    return date_time_text(found.scalar_subquery())


# How each kind of planned field is read from a row.
_FIELD_SQL: dict[type, Callable[[Any, _Row, _Params], ColumnElement]] = {
    Column: _column,
    Const: lambda f, _row, _params: sa.literal(f.value, sa.Text),
    GlobalId: lambda f, row, _params: _global_id(f.type_name, row.col("id")),
    DateObject: lambda f, row, _params: _date(row, f),
    Lines: _lines,
    SameRow: lambda f, row, params: _obj(_fields(row, f.fields, params)),
    DocumentRef: _document,
    EntityRef: _entity_ref,
    Page: lambda f, row, params: _nested_page(row.row, f, params),
    FirstOf: lambda f, row, params: _first_of(row.row, f, params),
    RowRef: _row_ref,
    Target: _target,
    Diff: _diff,
    ProvenanceJson: _provenance,
    LatestRevision: _latest,
    RevisionTime: _revision_time,
}


def _fields(row: _Row, fields: Sequence[Any], params: _Params) -> list[tuple[str, ColumnElement]]:
    """(key, SQL value) for each planned field of a row."""
    return [(f.key, _FIELD_SQL[type(f)](f, row, params)) for f in fields]


def _entity(row: Any, plan: Entities, params: _Params, late: _Late | None = None) -> ColumnElement:
    """The JSON of an entity row of `entities` columns, per its kind; a row that also read
    its kind's detail row (`late`, `_detail_late`) reads those columns there, not through a
    lookup of its detail row."""
    shared = _shared_fields(plan)
    if shared is not None:
        return _entity_of_any_kind(row, plan, shared, params)
    branches = []
    for kind, fields in plan.branches:
        if late is not None and kind is late.kind:
            json = _obj(_fields(_Row(row, row, late.prefix), fields, params))
        elif any(getattr(f, "detail", False) for f in fields):
            detail = m.DETAIL_MODELS[kind].__table__.alias()
            json = (
                sa.select(_obj(_fields(_Row(row, detail), fields, params)))
                .where(detail.c.id == row.c.id)
                .scalar_subquery()
            )
        else:
            json = _obj(_fields(_Row(row), fields, params))
        branches.append((kind, json))
    if len(branches) == 1:
        return branches[0][1]
    return sa.case(*((row.c.kind == kind.value, json) for kind, json in branches))


def _shared_fields(plan: Entities) -> tuple[Any, ...] | None:
    """The fields that every kind of `plan` writes alike from `entities`, but for the type
    name in their global IDs; None when kinds differ, or when there is one kind.

    A position open to every kind (`nodes`, `... on Entity`) is planned per kind, and
    written as a CASE over 18 kinds would repeat the same object 18 times: PostgreSQL then
    parses, plans and walks all of it to write each record.
    """
    if len(plan.branches) < 2:
        return None
    shapes = {
        tuple(replace(f, type_name="") if isinstance(f, GlobalId) else f for f in fields)
        for _, fields in plan.branches
    }
    if len(shapes) != 1:
        return None
    (shape,) = shapes
    return None if any(getattr(f, "detail", False) for f in shape) else shape


def _entity_of_any_kind(
    row: Any, plan: Entities, shared: tuple[Any, ...], params: _Params
) -> ColumnElement:
    """An entity written as one object whatever its kind (`_shared_fields`): only the type
    name of its global IDs depends on the kind. A kind the plan does not name writes null,
    as the CASE per kind does."""
    names = {
        kind.value: f"{f.type_name}:"
        for kind, fields in plan.branches
        for f in fields
        if isinstance(f, GlobalId)
    }
    own = _Row(row)

    def value(f: Any) -> ColumnElement:
        if isinstance(f, GlobalId):
            return _b64url(_concat(sa.case(names, value=row.c.kind), _text(row.c.id)))
        return _FIELD_SQL[type(f)](f, own, params)

    json = _obj([(f.key, value(f)) for f in shared])
    if len(plan.branches) == len(vocab.EntityKind):
        return json
    known = sa.literal([kind.value for kind, _ in plan.branches], ARRAY(sa.String))
    return sa.case((row.c.kind == sa.any_(known), json))


class _Late(NamedTuple):
    """A table a page's rows read by their id after the page's LIMIT, so that only the rows
    shown look it up; its columns (but the id) come under their names with `prefix`."""

    table: Any
    prefix: str
    kind: vocab.EntityKind | None = None  # the kind whose detail table it is, if one


def _detail_late(kind: vocab.EntityKind) -> _Late:
    """A kind's detail row, read after the LIMIT, its columns named with DETAIL_PREFIX."""
    return _Late(m.DETAIL_MODELS[kind].__table__, DETAIL_PREFIX, kind)


# A relation list's page reads the records at its far ends so.
_ENTITY_LATE = _Late(_BASE, "")


class _Source(NamedTuple):
    """Where a nested list's rows come from, and what they carry."""

    parent: Any  # the column naming the row's parent
    sort: list[Any]
    where: list[Any]
    from_: Any
    columns: list[ColumnElement]  # what a page's query reads
    late: _Late | None = None  # a table each row of a page reads after its LIMIT


def _source_parts(source: ListSource) -> _Source:
    """Where the rows of a nested list come from."""
    if source.what in ("related", RELATION_ROWS):
        spec: repo.RelationList = source.spec
        sides = repo.relation_sides(spec.direction)
        parent, _ = repo.relation_ends(sides)
        predicates = [p.value for p in spec.predicates]
        where = [sides.c.predicate == sa.any_(sa.literal(predicates, ARRAY(sa.String)))]
        kinds = sa.literal(repo.relation_kind_values(spec), ARRAY(sa.String))
        where += repo.relation_kinds(spec, sides, kinds)
        sort = repo.relation_sort(sides)
        if source.what == RELATION_ROWS:  # the relations themselves, not their far ends
            return _Source(parent, sort, where, sides, _table_columns(sides))
        # The page is chosen on the relations alone (their order and kinds are theirs): from
        # the end's index, however many records the parent relates to. Only the page's rows
        # then read their record.
        return _Source(parent, sort, where, sides, [sides.c.far.label("id")], late=_ENTITY_LATE)
    if source.what == REVISION_ROWS:  # a record's revisions, by number
        own = _REVISIONS.alias("own")
        return _Source(own.c.target_id, [own.c.number], [], own, _table_columns(own))
    if source.what == "children":
        child: repo.ChildList = source.spec
        detail = m.DETAIL_MODELS[child.kind].__table__
        # The page is chosen on the detail table, joined to `entities` by a LEFT JOIN, which
        # PostgreSQL drops when no column of `entities` is read (its key is unique, and every
        # detail row has its entity): the page of an organisation's partner agreements is
        # then read from the (owner, ordinal, id) index alone, and stops at its size however
        # many the owner has. Only the page's rows then read their detail row (`_page_rows`),
        # whose columns the records read in place (`_entity`), when they show one of them
        # (`_nested_page`).
        from_ = sa.outerjoin(detail, _BASE, _BASE.c.id == detail.c.id)
        parent = detail.c[child.parent_column]
        columns = [detail.c.id.label("id"), *_entity_columns(but="id")]
        sort = repo.child_sort(child)
        return _Source(parent, sort, [], from_, columns, _detail_late(child.kind))
    model, column = repo.ATTACHED[source.spec]
    parent = getattr(model, column)
    columns = _table_columns(model.__table__)
    return _Source(parent, repo.attached_sort(model), [], repo.attached_from(model), columns)


def _page_rows(
    columns: Sequence[ColumnElement],
    sort: Sequence[ColumnElement],
    where: Sequence[ColumnElement],
    from_: Any,
    bind: str,
    window: WindowForm,
    params: _Params,
    owner: Any = None,
    late: _Late | None = None,
) -> Any:
    """The rows of one page (limit + 1), numbered in display order... reversed for `last`;
    `owner` is the parent row a nested list's page reads; `late` a table whose row each row
    of the page reads too, by its id, after the LIMIT (for the page's rows only).

    The numbering is done on the page's rows, outside the LIMIT: inside, `row_number()` over
    the list's order would make PostgreSQL number every matching row before the LIMIT, a full
    sort where an index scan or a top-N sort reads only the page.
    """
    shape = _shape(window)
    keyset = keyset_condition(sort, shape, named=True)
    renamed = [_prefixed(c, bind, only=("after", "before")) for c in keyset]
    page = (
        sa.select(*columns, *(c.label(f"k{i}") for i, c in enumerate(sort)))
        .select_from(from_)
        .where(*where, *renamed)
        .order_by(*order_by(sort, shape))
        .limit(params.size(f"{bind}limit", window.size + 1))  # one more: is there a next?
        .correlate(owner)
        .lateral()
    )
    keys = [page.c[f"k{i}"] for i in range(len(sort))]
    number = sa.func.row_number().over(order_by=order_by(keys, shape)).label("rn")
    return _reading(page, late, number)


def _reading(rows: Any, late: _Late | None, *more: ColumnElement) -> Any:
    """`rows` (a page, after its LIMIT) with `more` columns, each row with its `late` row."""
    if late is None:
        return sa.select(*rows.c, *more)
    row = late.table.alias()
    read = [c.label(late.prefix + c.name) for c in row.columns if c.name != "id"]
    return sa.select(*rows.c, *read, *more).select_from(rows.join(row, row.c.id == rows.c.id))


def _shape(window: WindowForm) -> Window:
    """A window of the form's cursor arity and direction, for building its SQL."""
    return Window(
        limit=0,
        after=(None,) * window.after if window.after is not None else None,
        before=(None,) * window.before if window.before is not None else None,
        from_end=window.from_end,
        descending=window.descending,
    )


def _page_info(
    part: PageInfoPlan,
    window: WindowForm,
    more: ColumnElement,
    cursor_at: Callable[[bool], ColumnElement],
) -> ColumnElement:
    """pageInfo as Relay defines it: with `last`, more rows mean a previous page."""
    after_last = sa.literal(window.before is not None)
    before_first = sa.literal(window.after is not None)
    values: dict[str, Callable[[], ColumnElement]] = {
        "hasNextPage": lambda: after_last if window.from_end else more,
        "hasPreviousPage": lambda: more if window.from_end else before_first,
        "startCursor": lambda: cursor_at(False),
        "endCursor": lambda: cursor_at(True),
    }
    return _obj(
        [
            (key, sa.literal(what[1:], sa.Text) if what.startswith("=") else values[what]())
            for key, what in part.parts
        ]
    )


def _connection(
    page: Any,
    parts: Sequence[Any],
    window: WindowForm,
    tag: str | ColumnElement,
    sort_len: int,
    bind: str,
    params: _Params,
    node_json: Callable[[Any], ColumnElement],
    count: Callable[[], ColumnElement],
    whole: Callable[[FacetsPlan | TotalsPlan], ColumnElement] | None = None,
    empty_end: ColumnElement | None = None,
) -> ColumnElement:
    """The JSON of a connection over `page` (rows numbered `rn` by `_page_rows`); `whole`
    writes what a root list tells of all its records (facets, totals); `empty_end` is the
    `endCursor` of a page that shows no row (the change feed's), which then has no next."""
    size = params.size(f"{bind}size", window.size)
    shown = page.c.rn <= size
    display = page.c.rn.desc() if window.from_end else page.c.rn
    keys = [page.c[f"k{i}"] for i in range(sort_len)]

    def agg(value: ColumnElement) -> ColumnElement:
        return sa.func.coalesce(
            sa.func.json_agg(aggregate_order_by(value, display)).filter(shown),
            sa.text("'[]'::json"),
        )

    def cursor_at(end: bool) -> ColumnElement:
        """The cursor of the first (or last) row shown: the keys of that one row, each
        picked by an aggregate, encoded once (not a cursor per row, most thrown away)."""
        order = page.c.rn.desc() if window.from_end != end else page.c.rn
        picked = [
            sa.type_coerce(
                sa.func.array_agg(aggregate_order_by(key, order)).filter(shown)[1], key.type
            )
            for key in keys
        ]
        found = _cursor(tag, picked)
        return found if empty_end is None or not end else sa.func.coalesce(found, empty_end)

    def edge(what: Any) -> ColumnElement:
        if what == "cursor":
            return _cursor(tag, keys)
        return sa.literal(what[1:], sa.Text) if isinstance(what, str) else node_json(what)

    pairs: list[tuple[str, ColumnElement]] = []
    for part in parts:
        if isinstance(part, Nodes):
            pairs.append((part.key, agg(node_json(part.node))))
        elif isinstance(part, Edges):
            pairs.append((part.key, agg(_obj([(k, edge(w)) for k, w in part.parts]))))
        elif isinstance(part, PageInfoPlan):
            more = sa.func.count() > size
            if empty_end is not None:
                more = sa.and_(more, sa.func.count().filter(shown) > 0)
            pairs.append((part.key, _page_info(part, window, more, cursor_at)))
        elif isinstance(part, TotalCount):
            pairs.append((part.key, count()))
        elif isinstance(part, FacetsPlan | TotalsPlan):
            if whole is None:
                raise ValueError("only a root list tells of its whole list")
            pairs.append((part.key, whole(part)))
        else:
            pairs.append((part.key, sa.literal(part.value, sa.Text)))
    # GROUP BY (): one row even when no part aggregates (only `totalCount` asked for).
    return sa.select(_obj(pairs)).select_from(page).group_by(sa.text("()")).scalar_subquery()


def _node_json(page: Any, node: Any, params: _Params, late: _Late | None = None) -> ColumnElement:
    if isinstance(node, Entities):
        return _entity(page, node, params, late)
    return _obj(_fields(_Row(page), node, params))


def _nested_page(owner: Any, plan: Page, params: _Params) -> ColumnElement:
    """A connection per row of `owner`. Its subqueries name `owner` as a correlated FROM:
    SQLAlchemy only correlates to the directly enclosing SELECT by itself, and `owner` is
    further out (the page sits under the connection's aggregate)."""
    source = _source_parts(plan.source)
    late = source.late
    if late is not None and late.kind is not None and not _reads_detail(plan.parts, late.kind):
        late = None  # the records show no field of their detail row: it is not read
    where = [source.parent == owner.c.id, *source.where]
    rows = (
        _page_rows(
            source.columns,
            source.sort,
            where,
            source.from_,
            plan.bind,
            plan.window,
            params,
            owner,
            late,
        )
        .correlate(owner)
        .lateral()
    )

    def count() -> ColumnElement:
        return (
            sa.select(sa.func.count())
            .select_from(source.from_)
            .where(*where)
            .correlate(owner)
            .scalar_subquery()
        )

    return _connection(
        rows,
        plan.parts,
        plan.window,
        plan.tag,
        len(source.sort),
        plan.bind,
        params,
        lambda node: _node_json(rows, node, params, late),
        count,
    )


def _entity_columns(but: str | None = None) -> list[ColumnElement]:
    """Every column of `entities` (but one), under its own name."""
    return [_BASE.c[name].label(name) for name in _BASE_COLUMNS if name != but]


def _table_columns(table: Any) -> list[ColumnElement]:
    """Every column of a table, under its own name."""
    return [c.label(c.name) for c in table.columns]


def _first_of(owner: Any, plan: FirstOf, params: _Params) -> ColumnElement:
    source = _source_parts(plan.source)
    rows = (
        sa.select(*source.columns)
        .select_from(source.from_)
        .where(source.parent == owner.c.id, *source.where)
        .order_by(*source.sort)
        .limit(1)
        .correlate(owner)
        .lateral()
    )
    if source.late is not None:  # the first row reads its record after the LIMIT too
        rows = _reading(rows, source.late).correlate(owner).lateral()
    json = _entity(rows, plan.node, params, source.late)
    return sa.select(json).select_from(rows).scalar_subquery()


# --- root statements -----------------------------------------------------------------------


def _top_list(plan: TopList, params: _Params) -> Any:
    values = repo.filter_values(plan.filter)
    where = repo.filter_where(plan.filter, values)
    params.filter_values(values)
    sort = repo.sort_columns(plan.kind, plan.order)
    from_ = repo.entities_from(plan.kind, [*where, *sort])
    # The page's rows read their detail row after the LIMIT, in one join, rather than one
    # lookup per record written: on a small table (the seed's 50 organisations) PostgreSQL
    # reads such a lookup by scanning the whole table, once per record.
    late = _detail_late(plan.kind) if _reads_detail(plan.parts, plan.kind) else None
    rows = _page_rows(
        _entity_columns(),
        sort,
        where,
        from_,
        "",
        plan.window,
        params,
        late=late,
    ).subquery()

    def count() -> ColumnElement:
        return repo.count_query(plan.kind, where).scalar_subquery()

    def whole(part: FacetsPlan | TotalsPlan) -> ColumnElement:
        if isinstance(part, FacetsPlan):
            first = params(f"{part.bind}first", sa.Integer)
            return _facets(facet_repo.facets_query(plan.kind, where, part.fields, first), part)
        return _totals(facet_repo.totals_query(where), part)

    return sa.select(
        _connection(
            rows,
            plan.parts,
            plan.window,
            plan.tag,
            len(sort),
            "",
            params,
            lambda node: _node_json(rows, node, params, late),
            count,
            whole,
        )
    )


def _reads_detail(parts: Sequence[Any], kind: vocab.EntityKind) -> bool:
    """Whether a connection's records of `kind` write a field of its detail table."""
    nodes = [part.node for part in parts if isinstance(part, Nodes)]
    nodes += [
        w for p in parts if isinstance(p, Edges) for _, w in p.parts if isinstance(w, Entities)
    ]
    return kind in m.DETAIL_MODELS and any(
        getattr(field, "detail", False)
        for node in nodes
        if isinstance(node, Entities)
        for branch, fields in node.branches
        if branch is kind
        for field in fields
    )


def _part(rows: Any, what: str, columns: Mapping[str, str]) -> ColumnElement:
    """A planned value read from `rows`: a `=TypeName`, or the column `columns` names."""
    return sa.literal(what[1:], sa.Text) if what.startswith("=") else rows.c[columns[what]]


_EMPTY = sa.text("'[]'::json")
_FACET_COLUMNS = {"field": "field", "value": "value", "count": "count"}
_TYPE_COLUMNS = {"instrumentType": "instrument_type", "count": "count"}


def _facets(query: sa.Select[Any], plan: FacetsPlan) -> ColumnElement:
    """`facets` as JSON: the entries of soilapi.repositories.facets' statement, in its order."""
    rows = query.subquery("facets")
    entry = _obj([(key, _part(rows, what, _FACET_COLUMNS)) for key, what in plan.parts])
    listed = sa.func.json_agg(aggregate_order_by(entry, rows.c.field_index, rows.c.rank))
    return sa.select(sa.func.coalesce(listed, _EMPTY)).select_from(rows).scalar_subquery()


def _totals(query: sa.Select[Any], plan: TotalsPlan) -> ColumnElement:
    """`aggregates` as JSON, from the rows of soilapi.repositories.facets' statement: the
    total's row, and one row per type in its order."""
    rows = query.subquery("totals")
    of_total = rows.c.total == 1
    pairs: list[tuple[str, ColumnElement]] = []
    for key, what in plan.parts:
        if isinstance(what, tuple):
            entry = _obj([(k, _part(rows, w, _TYPE_COLUMNS)) for k, w in what])
            listed = sa.func.json_agg(aggregate_order_by(entry, rows.c.position))
            pairs.append((key, sa.func.coalesce(listed.filter(sa.not_(of_total)), _EMPTY)))
        elif what.startswith("="):
            pairs.append((key, sa.literal(what[1:], sa.Text)))
        else:
            column = rows.c.fte if what == "fte" else rows.c["count"]
            pairs.append((key, sa.func.max(column).filter(of_total)))
    # GROUP BY (): one row even when no part aggregates (only `__typename` asked for).
    return sa.select(_obj(pairs)).select_from(rows).group_by(sa.text("()")).scalar_subquery()


def _timeline(plan: Timeline, params: _Params) -> Any:
    """A page of the timeline: soilapi.repositories.dates' page, numbered like any list's
    (`_page_rows`), its binds named as a root list's (`limit`, `after0`...)."""
    shape = _shape(plan.window)
    page = dates.timeline_select(plan.filter, shape).subquery()
    params.filter_values(dates.timeline_values(plan.filter))
    keys = [page.c[f"k{i}"] for i in range(dates.TIMELINE_KEYS)]
    number = sa.func.row_number().over(order_by=order_by(keys, shape)).label("rn")
    rows = sa.select(*page.c, number).subquery()

    def count() -> ColumnElement:
        return dates.timeline_count_select(plan.filter).scalar_subquery()

    return sa.select(
        _connection(
            rows,
            plan.parts,
            plan.window,
            plan.tag,
            dates.TIMELINE_KEYS,
            "",
            params,
            lambda node: _node_json(rows, node, params),
            count,
        )
    )


def _by_slug(plan: BySlug, params: _Params) -> Any:
    row = _BASE.alias()
    if plan.column == "slug":
        where = [row.c.slug == params("value", sa.Text)]
        from_: Any = row
    else:
        assert plan.kind is not None
        detail = m.DETAIL_MODELS[plan.kind].__table__.alias()
        from_ = row.join(detail, detail.c.id == row.c.id)
        where = [detail.c[plan.column] == params("value", sa.Text)]
    if plan.kind is not None:
        where.append(row.c.kind == plan.kind.value)
    found = sa.select(_entity(row, plan.node, params)).select_from(from_).where(*where)
    return sa.select(found.scalar_subquery())


def _by_ids(plan: ByIds, params: _Params) -> Any:
    asked = (
        sa.func.unnest(
            params("ids", ARRAY(sa.Uuid(as_uuid=True))), params("kinds", ARRAY(sa.String))
        )
        .table_valued("id", "kind", with_ordinality="ord")
        .render_derived(name="asked")
    )
    row = _BASE.alias()
    joined = asked.outerjoin(row, sa.and_(row.c.id == asked.c.id, row.c.kind == asked.c.kind))
    value = sa.case((row.c.id.is_(None), sa.null()), else_=_entity(row, plan.node, params))
    if plan.single:
        return sa.select(value).select_from(joined)
    listed = sa.func.json_agg(aggregate_order_by(value, asked.c.ord))
    # json_agg of no rows is NULL; `nodes(ids: [])` answers an empty list.
    return sa.select(sa.func.coalesce(listed, sa.text("'[]'::json"))).select_from(joined)


def _feed(plan: Feed, params: _Params) -> Any:
    """A page of the change feed: revisions in id order (commit order), of some kinds, as
    soilapi.repositories.history.feed_page reads them, its binds named as a root list's."""
    where = []
    if plan.kinds:
        params.filter_values(["kinds"])
        where.append(_REVISIONS.c.kind == sa.any_(params("kinds", ARRAY(sa.String))))
    sort = [_REVISIONS.c.id]
    columns = _table_columns(_REVISIONS)
    rows = _page_rows(columns, sort, where, _REVISIONS, "", plan.window, params).subquery()

    def count() -> ColumnElement:
        return sa.select(sa.func.count()).select_from(_REVISIONS).where(*where).scalar_subquery()

    return sa.select(
        _connection(
            rows,
            plan.parts,
            plan.window,
            plan.tag,
            len(sort),
            "",
            params,
            lambda node: _node_json(rows, node, params),
            count,
            empty_end=params("held", sa.Text),
        )
    )


def _search(plan: Search, params: _Params) -> Any:
    """A page of hits: soilapi.repositories.search's page statement (the ranking, written
    once for both engines), numbered like any list's (`_page_rows`), its records written
    from `entity_id`; its binds named as a root list's (`limit`, `after0`...)."""
    shape = _shape(plan.window)
    stmt, key_len = search_repo.page_statement(plan.filter, replace(shape, limit=plan.window.size))
    page = stmt.subquery()
    keys = [page.c[f"k{i}"] for i in range(key_len)]
    number = sa.func.row_number().over(order_by=order_by(keys, shape)).label("rn")
    rows = sa.select(*page.c, number).subquery()

    def count() -> ColumnElement:
        return search_repo.count_select(plan.filter).scalar_subquery()

    return sa.select(
        _connection(
            rows,
            plan.parts,
            plan.window,
            params("tag", sa.Text),
            key_len,
            "",
            params,
            lambda node: _node_json(rows, node, params),
            count,
        )
    )


RootPlan = TopList | Timeline | BySlug | ByIds | Feed | Search


def _answer_select(plan: RootPlan, params: _Params) -> Any:
    """A root field's SELECT of its answer as JSON text (one row, one column)."""
    if isinstance(plan, TopList):
        stmt = _top_list(plan, params)
    elif isinstance(plan, Timeline):
        stmt = _timeline(plan, params)
    elif isinstance(plan, BySlug):
        stmt = _by_slug(plan, params)
    elif isinstance(plan, Feed):
        stmt = _feed(plan, params)
    elif isinstance(plan, Search):
        stmt = _search(plan, params)
    else:
        stmt = _by_ids(plan, params)
    # The timeline's page is the repository's, with a bound LIMIT (a search's page has its
    # LIMIT in the text whatever this says, and its words enter the plan through InitPlans
    # no plan sees: search_repo.words).
    if params.sized and isinstance(plan, Timeline):
        stmt = _sized(stmt, plan.window)
    # As text: the answer goes into the response as it is (`run`), never decoded.
    return sa.select(sa.cast(stmt.scalar_subquery(), sa.Text))


def _sized(stmt: Any, window: WindowForm) -> Any:
    """The statement with its page's `limit` bind written as the page size (+1), as
    `_Params.size` writes the others (WindowForm): the repository builds this page for both
    engines, with a bind the resolvers fill."""
    limit = sa.literal(window.size + 1, sa.Integer)

    def size(element: Any, **_: Any) -> Any:
        if isinstance(element, BindParameter) and element.key == "limit":
            return limit
        return None

    return visitors.replacement_traverse(stmt, {}, size)


# A root field's compiled statement: what `statement` gives and `run` takes.
Statement = Prepared


def statement(plan: RootPlan) -> Statement:
    """The compiled statement of a root field's plan (built at its first use): with its page
    sizes in the text unless it binds a filter's values (WindowForm)."""
    return _STATEMENTS.get_or_build(plan, lambda: Prepared(_sized_select(plan)))


def _sized_select(plan: RootPlan) -> Any:
    """A root field's SELECT with its page sizes in the text, or bound where it binds a
    filter's values (WindowForm)."""
    params = _Params(sized=True)
    select = _answer_select(plan, params)
    return _answer_select(plan, _Params(sized=False)) if params.filtered else select


def together(plans: Sequence[RootPlan]) -> Statement | None:
    """One statement answering several root fields: a row whose i-th column is the answer of
    `plans[i]` (as its own statement gives it), its binds prefixed `r<i>_` (`together_values`).

    Run one after another, a request's root fields cost a round trip each and a transaction
    to share one snapshot (BEGIN, the reads, ROLLBACK): for a dashboard's four small lists,
    more time in the round trips than in the reads. One statement reads one snapshot by
    itself. Reader.fetch_each runs it whenever the root fields would not run side by side.
    None when the plans cannot share a statement (two searches' CTEs have the same names),
    or when theirs would be too long to stay prepared (MAX_CACHEABLE_STATEMENT_BYTES: parsed
    and planned at every run, it would cost more than the round trips it saves). Built when
    first needed (soilapi.graphql.compiler.Statements keeps it).
    """
    columns = [
        _prefixed(_sized_select(plan), f"r{i}_").scalar_subquery().label(f"r{i}")
        for i, plan in enumerate(plans)
    ]
    try:
        joined = Prepared(sa.select(*columns))
    except sa.exc.CompileError:
        return None
    return joined if len(joined.sql.encode()) <= MAX_CACHEABLE_STATEMENT_BYTES else None


def together_values(values: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The binds of `together`'s statement, from each root field's own."""
    return {f"r{i}_{name}": value for i, own in enumerate(values) for name, value in own.items()}


def _prefixed(stmt: Any, prefix: str, only: tuple[str, ...] = ("",)) -> Any:
    """The statement with each named bind (constants aside) whose name starts with one of
    `only` renamed `prefix` + its name: a root field's in `together`, a nested list's keyset
    binds (`after0`...) in its page."""

    def rename(element: Any, **_: Any) -> Any:
        if (
            isinstance(element, BindParameter)
            and not element.unique
            and element.key.startswith(only)
        ):
            return sa.bindparam(
                prefix + element.key,
                element.value,
                type_=element.type,
                required=element.required,
                expanding=element.expanding,
            )
        return None

    return visitors.replacement_traverse(stmt, {}, rename)


async def run_each(
    reader: Reader,
    statements: Sequence[tuple[Statement, Mapping[str, Any]]],
    joined: Callable[[], Statement | None] | None = None,
) -> list[orjson.Fragment | None]:
    """The JSON answers of root fields' statements, run concurrently in the request's
    snapshot (Reader.fetch_each; one statement alone needs no snapshot at all), or as one
    statement (`joined`: the `together` of their plans) when they would not run side by side.

    The JSON PostgreSQL wrote is passed on as an orjson Fragment: orjson.dumps copies it into
    the response as it is, so Python neither parses nor re-encodes the answer (a tenth of a
    request's CPU). PostgreSQL's JSON has a space after each colon and comma, which clients'
    parsers ignore.
    """

    def one() -> tuple[Statement, Mapping[str, Any]] | None:
        found = joined() if joined is not None else None
        return None if found is None else (found, together_values([v for _, v in statements]))

    return [_answer(rows) for rows in await reader.fetch_each(statements, one)]


def _answer(rows: list[Any]) -> orjson.Fragment | None:
    text = rows[0][0] if rows else None
    return None if text is None else orjson.Fragment(text)
