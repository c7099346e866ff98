"""Reads of entities and of everything attached to them; the only module that builds SQL.

Every function takes a batch of keys so DataLoaders can answer a whole level of a query with
one statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.util import find_tables

from soilapi import vocab
from soilapi.db import models as m
from soilapi.db.search import SearchEntry
from soilapi.db.session import Reader
from soilapi.repositories import dates
from soilapi.repositories.paging import (
    ColumnElement,
    ListParts,
    Parts,
    Slice,
    Window,
    any_of,
    count_per_parent,
    fetch_pages_per_parent,
    prepared_count,
    prepared_page,
    prepared_pages_per_parent,
)
from soilapi.repositories.records import (
    ATTACHED_READERS,
    ENTITIES,
    RELATIONS,
    SOURCE_DOCUMENTS,
    Record,
)
from soilapi.vocab import Order

FAR_FUTURE = m.FAR_FUTURE

# Relations that make up the organisational tree (parent, children, ancestors, descendants).
HIERARCHY = (
    vocab.Predicate.SUB_ORGANIZATION_OF,
    vocab.Predicate.UNIT_OF,
    vocab.Predicate.TECHNICAL_NETWORK_OF,
)
MAX_TREE_DEPTH = 16


async def entities_by_ids(reader: Reader, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Record]:
    """Load entities of any kind, with their detail columns, in one statement."""
    return await ENTITIES.load(reader, ids)


async def ids_by_slugs(reader: Reader, slugs: Sequence[str]) -> dict[str, uuid.UUID]:
    """Map slugs to entity ids."""
    rows = await reader.execute(
        sa.select(m.Entity.slug, m.Entity.id).where(any_of(m.Entity.slug, slugs))
    )
    return {row[0]: row[1] for row in rows.all()}


async def ids_by_column(
    reader: Reader, kind: vocab.EntityKind, name: str, values: Sequence[Any]
) -> dict[Any, uuid.UUID]:
    """Map values of a unique lookup column of a kind (code, label, symbol, target) to ids."""
    table = m.DETAIL_MODELS[kind].__table__
    column = table.c[name]
    rows = await reader.execute(sa.select(column, table.c.id).where(any_of(column, values)))
    return {row[0]: row[1] for row in rows.all()}


# --- top-level lists -----------------------------------------------------------------------


@dataclass(frozen=True)
class EntityFilter:
    """Conditions a top-level list can apply; None means "any"."""

    kind: vocab.EntityKind
    categories: tuple[str, ...] | None = None
    countries: tuple[str, ...] | None = None
    org_classes: tuple[str, ...] | None = None
    international: bool | None = None
    start_from: date | None = None
    start_to: date | None = None
    name_contains: str | None = None
    facility_kind: str | None = None
    goal_letters: tuple[str, ...] | None = None
    instrument_types: tuple[str, ...] | None = None
    active_on: date | None = None
    owner_ids: tuple[uuid.UUID, ...] | None = None
    dated: dates.DateRange | None = None
    in_force: InForceFilter | None = None
    extra: tuple[tuple[str, Any], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class InForceFilter:
    """Partner agreements whose answer to "in force on `day`?" is one of `values` (one or
    two of the three: all three is no filter)."""

    day: date
    values: tuple[vocab.TruthValue, ...]


# Orders whose key is a stored detail column rather than the entities' own: partner agreements
# have no dates of their own, so theirs come from their instruments (see the model). The
# tiebreak is the detail row's id (the entity's id too), so the whole key of a cursor is one
# index's: a later page starts inside an ix_partner_agreements_earliest_* index instead of
# reading every row before it.
_AGREEMENT = vocab.EntityKind.PARTNER_AGREEMENT
_SIGNED, _STARTED = m.PartnerAgreement.earliest_signed_date, m.PartnerAgreement.earliest_start_date
_DATE_KEYS: dict[tuple[vocab.EntityKind, Order], ColumnElement] = {
    (_AGREEMENT, Order.SIGNED): m.undated_last(_SIGNED),
    (_AGREEMENT, Order.START): m.undated_last(_STARTED),
    (_AGREEMENT, Order.SIGNED_UNDATED_FIRST): m.undated_first(_SIGNED),
    (_AGREEMENT, Order.START_UNDATED_FIRST): m.undated_first(_STARTED),
}


def sort_columns(kind: vocab.EntityKind, order: Order) -> list[ColumnElement]:
    """The SQL sort expression for an order on a kind (non-null, so keysets compare).

    Each is the key of an index, in both directions (see the model), so that a first page is
    read in order and the scan stops there: the entities' own orders end with the entity's
    id, a detail column's orders with the detail row's id (the same value).
    """
    model: Any = m.DETAIL_MODELS[kind]
    if (kind, order) in _DATE_KEYS:
        return [_DATE_KEYS[kind, order], model.id]
    if order is Order.START:
        return [m.undated_last(m.Entity.start_date), m.Entity.id]
    if order is Order.START_UNDATED_FIRST:
        return [m.undated_first(m.Entity.start_date), m.Entity.id]
    if order is Order.NAME:
        return [m.Entity.name, m.Entity.id]
    if order is Order.SYMBOL:
        return [m.unset_first(model.symbol), model.id]
    # CODE, LABEL, ORDINAL: a column every record of the kind has
    return [getattr(model, order.value), model.id]


class _Binds:
    """Named binds for a filter's values: the SQL then depends only on which filters are set."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def __call__(self, name: str, value: Any, type_: Any = None) -> Any:
        self.values[name] = value
        return sa.bindparam(name, type_=type_)

    def among(self, name: str, column: ColumnElement, given: Sequence[Any]) -> ColumnElement:
        """`column = ANY(:name)`, like `any_of` but named; `column = :name_one` for one value
        (see `_list_bind`)."""
        bind_name, value = _list_bind(name, given)
        if bind_name != name:
            return column == self(bind_name, value, column.type)
        return column == sa.any_(self(bind_name, value, ARRAY(column.type)))


def _list_bind(name: str, given: Sequence[Any]) -> tuple[str, Any]:
    """The bind of a list filter: its distinct values, or `<name>_one` and the one value.

    PostgreSQL 15 cannot walk an index in order under `= ANY(...)`, so "German organisations
    by name" would sort every German one; with `=` it reads a page and stops.
    """
    values = list(dict.fromkeys(given))
    return (f"{name}_one", values[0]) if len(values) == 1 else (name, values)


# Filters whose values are lists (bound as arrays) and single values, by bind name.
_LIST_FILTERS = (
    "categories",
    "countries",
    "org_classes",
    "goal_letters",
    "owner_ids",
    "instrument_types",
)
_VALUE_FILTERS = ("international", "start_from", "start_to", "facility_kind", "active_on")


def _like_pattern(text: str) -> str:
    """`%text%` with LIKE's wildcards escaped: a client's `_` and `%` are plain characters."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filter_values(f: EntityFilter) -> dict[str, Any]:
    """The values of the binds `_conditions(f)` names, worked out without building SQL.

    Building the clauses costs more than running the compiled statement, so a request only
    computes these; `_conditions` runs once per filter shape and checks it agrees.
    """
    values: dict[str, Any] = {}
    for name in _LIST_FILTERS:
        given = getattr(f, name)
        if given:
            bind_name, value = _list_bind(name, given)
            values[bind_name] = value
    for name in _VALUE_FILTERS:
        value = getattr(f, name)
        if value is not None and value != "":
            values[name] = value
    if f.name_contains:
        values["name_pattern"] = _like_pattern(f.name_contains)
    if f.dated is not None:
        values.update(dates.range_values(f.dated))
    if f.in_force is not None:
        values["in_force_day"] = f.in_force.day
    return values


def _conditions(f: EntityFilter) -> tuple[list[ColumnElement], dict[str, Any]]:
    """The filter's WHERE clauses, and the values of their named binds."""
    model: Any = m.DETAIL_MODELS[f.kind]
    bind = _Binds()
    where: list[ColumnElement] = [m.Entity.kind == f.kind]
    if f.categories:
        where.append(bind.among("categories", model.category, f.categories))
    if f.countries:
        where.append(bind.among("countries", m.Entity.country_code, f.countries))
    if f.org_classes:
        where.append(bind.among("org_classes", model.org_class, f.org_classes))
    if f.international is not None:
        # `=` rather than IS: a parameter cannot follow IS; NULLs drop out either way.
        where.append(model.is_international_org == bind("international", f.international))
    if f.start_from:
        where.append(m.Entity.start_date >= bind("start_from", f.start_from, sa.Date()))
    if f.start_to:
        where.append(m.Entity.start_date <= bind("start_to", f.start_to, sa.Date()))
    if f.name_contains:
        pattern = bind("name_pattern", _like_pattern(f.name_contains), sa.Text())
        where.append(m.Entity.id.in_(_named_like(pattern)))
    if f.goal_letters:
        where.append(bind.among("goal_letters", model.goal_letter, f.goal_letters))
    if f.owner_ids:
        where.append(bind.among("owner_ids", model.owner_id, f.owner_ids))
    if f.facility_kind:
        kind = m.FacilityBlock.facility_kind
        block = sa.select(m.FacilityBlock.id).where(
            kind == bind("facility_kind", f.facility_kind, sa.String())
        )
        where.append(model.block_id.in_(block.scalar_subquery()))
    if f.instrument_types or f.active_on:
        where.append(m.Entity.id.in_(_agreements_with(f, bind).scalar_subquery()))
    return [*where, *_date_conditions(f, bind)], bind.values


def _date_conditions(f: EntityFilter, bind: _Binds) -> list[ColumnElement]:
    """The clauses of the `dated` and `inForce` filters (soilapi.repositories.dates)."""
    where = []
    if f.dated is not None:
        where.append(dates.dated_condition(f.kind, f.dated, bind))
    if f.in_force is not None:
        day = bind("in_force_day", f.in_force.day, sa.Date())
        where.append(dates.in_force_condition(f.in_force.values, day))
    return where


def _named_like(pattern: ColumnElement) -> Any:
    """Records with a name, acronym or alias like `pattern`, case and accents aside: the
    folded names of the search index, through its trigram index (which serves LIKE)."""
    entries = SearchEntry.__table__
    folded = sa.func.soilapi_fold(pattern, type_=sa.Text)
    return sa.select(entries.c.entity_id).where(entries.c.folded.like(folded, escape="\\"))


def _agreements_with(f: EntityFilter, bind: _Binds) -> sa.Select[Any]:
    """Agreements having an instrument of the given types / in force on the given day."""
    i = m.AgreementInstrument
    stmt = sa.select(i.agreement_id)
    if f.instrument_types:
        stmt = stmt.where(bind.among("instrument_types", i.instrument_type, f.instrument_types))
    if f.active_on:
        start = sa.func.coalesce(i.start_date, i.signed_date)
        end = sa.func.coalesce(i.end_date, sa.literal(FAR_FUTURE))
        day = bind("active_on", f.active_on, sa.Date())
        stmt = stmt.where(start <= day, end >= day)
    return stmt


def entities_from(kind: vocab.EntityKind, clauses: Sequence[ColumnElement]) -> Any:
    """`entities`, joined to the kind's detail table only when a clause reads it.

    Without the join PostgreSQL walks an index on (kind, country_code, name, id) straight to a
    first page; with it, it hashes every row of the detail table first (6 ms at 20k rows).
    """
    detail = m.DETAIL_MODELS[kind].__table__
    entities = m.Entity.__table__
    for clause in clauses:
        element = clause.__clause_element__() if hasattr(clause, "__clause_element__") else clause
        if detail in find_tables(element, check_columns=True):
            return sa.join(entities, detail, m.Entity.id == detail.c.id)
    return entities


def count_query(kind: vocab.EntityKind, where: Sequence[ColumnElement]) -> sa.Select[Any]:
    """`count(*)` of the records a filter's clauses (`filter_where`) match, reading only the
    tables they need: the kind's detail table alone unless a clause reads `entities`.

    Every detail row is one record of its kind, so the kind's own condition is not needed
    there; joining `entities` to count 100,000 agreements hashes both tables (88 ms, where
    counting the detail table takes 12).
    """
    detail = m.DETAIL_MODELS[kind].__table__
    entities = m.Entity.__table__
    own, *rest = where
    assert entities in find_tables(own, check_columns=True), "the first clause is the kind"
    if any(entities in find_tables(clause, check_columns=True) for clause in rest):
        return sa.select(sa.func.count()).select_from(entities_from(kind, where)).where(*where)
    return sa.select(sa.func.count()).select_from(detail).where(*rest)


def list_shape(f: EntityFilter, values: dict[str, Any]) -> tuple[Any, ...]:
    """Everything of a filter baked into its SQL: the kind, which filters are set, which
    dates a `dated` filter reads and which answers an `inForce` filter keeps."""
    dated = f.dated.on if f.dated is not None else None
    in_force = f.in_force.values if f.in_force is not None else None
    return (f.kind, tuple(sorted(values)), dated, in_force)


def filter_where(f: EntityFilter, values: dict[str, Any]) -> list[ColumnElement]:
    """The filter's clauses, for compiling its shape once."""
    where, bound = _conditions(f)
    if bound != values:  # a filter added to `_conditions` but not to `filter_values`
        raise RuntimeError(f"filter binds out of step: {sorted(bound)} != {sorted(values)}")
    return where


async def list_entities(reader: Reader, f: EntityFilter, order: Order, window: Window) -> Slice:
    """One page of entities of a kind, as records."""
    values = filter_values(f)

    def parts() -> ListParts:
        where = filter_where(f, values)
        sort = sort_columns(f.kind, order)
        return sort, where, entities_from(f.kind, [*where, *sort])

    shape = (*list_shape(f, values), order)
    return await prepared_page(reader, shape, parts, window, values, ENTITIES)


async def count_entities(reader: Reader, f: EntityFilter) -> int:
    """Total rows matching a filter (only run when a client asks for totalCount)."""
    values = filter_values(f)

    return await prepared_count(
        reader, list_shape(f, values), lambda: count_query(f.kind, filter_where(f, values)), values
    )


# --- nested lists --------------------------------------------------------------------------


@dataclass(frozen=True)
class RelationList:
    """Entities linked to each parent through relations with the given predicates.

    `direction` says which end the parent is: the subject (OUTGOING), the object (INCOMING),
    or either (BOTH). `kinds` are the kinds the listed end may have (empty: any). A typed
    GraphQL list (an organisation's `implements`, of type `Initiative`) names its kind here,
    so a relation that points at a record of another kind (an output) is left out by the SQL
    itself, on both engines, and its count agrees with its pages.
    """

    predicates: tuple[vocab.Predicate, ...]
    direction: vocab.Direction
    kinds: tuple[vocab.EntityKind, ...] = ()


def relation_sides(direction: vocab.Direction) -> Any:
    """The relations as seen from one end: every column of `relations`, plus `near` (the end
    the list starts from), `far` (the other end), its name and kind (`far_name`, `far_kind`)
    and `outgoing` (whether `near` is the subject).

    One direction is a plain SELECT that PostgreSQL flattens into its query: a condition on
    `near` is one on `subject_id` (or `object_id`), served by its index. BOTH is the UNION ALL
    of the two, which PostgreSQL flattens too, pushing the condition into each branch, so each
    reads its own index; a relation of a record to itself is listed once.
    """
    r = m.Relation.__table__

    def side(outgoing: bool) -> sa.Select[Any]:
        near, far = ("subject", "object") if outgoing else ("object", "subject")
        return sa.select(
            *r.c,
            r.c[f"{near}_id"].label("near"),
            r.c[f"{far}_id"].label("far"),
            r.c[f"{far}_name"].label("far_name"),
            r.c[f"{far}_kind"].label("far_kind"),
            (sa.true() if outgoing else sa.false()).label("outgoing"),
        )

    if direction is vocab.Direction.OUTGOING:
        return side(True).subquery("sides")
    if direction is vocab.Direction.INCOMING:
        return side(False).subquery("sides")
    backwards = side(False).where(r.c.subject_id != r.c.object_id)
    return side(True).union_all(backwards).subquery("sides")


def relation_ends(sides: Any) -> tuple[ColumnElement, ColumnElement]:
    """(the parent's column, the listed entity's column) of a relation list's sides."""
    return sides.c.near, sides.c.far


def relation_kinds(spec: RelationList, sides: Any, kinds: ColumnElement) -> list[ColumnElement]:
    """The condition on the listed end's kind (`kinds`: a bind or literal array), if any."""
    return [sides.c.far_kind == sa.any_(kinds)] if spec.kinds else []


def relation_kind_values(spec: RelationList) -> list[str]:
    """The kinds a relation list keeps, as the values its `kinds` bind takes."""
    return [k.value for k in spec.kinds]


def relation_sort(sides: Any) -> list[ColumnElement]:
    """A relation list's order: ordinal (unnumbered last), the other end's name, the id. All
    three are the relation's own (`far_name`: soilapi.db.models.Relation), so a page is chosen
    from the end's index without looking up the records the parent relates to."""
    return [sa.func.coalesce(sides.c.ordinal, sa.literal(2**31 - 1)), sides.c.far_name, sides.c.id]


async def relations_page(
    reader: Reader,
    spec: RelationList,
    parents: Sequence[uuid.UUID],
    window: Window,
    *,
    other_end: bool = False,
) -> dict[uuid.UUID, Slice]:
    """Relation records per parent, ordered by ordinal, then the other end's name.

    With `other_end` the rows are the entities at the other end, so a typed traversal needs
    no second statement to read them (nor the relations themselves).
    """

    def parts() -> Parts:
        sides = relation_sides(spec.direction)
        parent, other = relation_ends(sides)
        predicates = sa.bindparam("predicates", type_=ARRAY(sa.String))
        kinds = sa.bindparam("kinds", type_=ARRAY(sa.String))
        return (
            parent,
            other if other_end else sides.c.id,
            relation_sort(sides),
            [sides.c.predicate == sa.any_(predicates), *relation_kinds(spec, sides, kinds)],
            sides,
        )

    shape = ("relations", spec.direction, other_end, bool(spec.kinds))
    values: dict[str, Any] = {"predicates": [p.value for p in spec.predicates]}
    if spec.kinds:
        values["kinds"] = relation_kind_values(spec)
    rows = ENTITIES if other_end else RELATIONS
    return await prepared_pages_per_parent(reader, shape, parts, parents, window, values, rows=rows)


async def relations_count(
    reader: Reader, spec: RelationList, parents: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many relations of the list each parent has (of the kinds it keeps)."""
    sides = relation_sides(spec.direction)
    parent, _ = relation_ends(sides)
    where = [any_of(sides.c.predicate, spec.predicates)]
    kinds = sa.literal(relation_kind_values(spec), ARRAY(sa.String))
    where += relation_kinds(spec, sides, kinds)
    return await count_per_parent(reader, parent, parents, where, sides)


@dataclass(frozen=True)
class ChildList:
    """Rows of a table that point at their parent through a foreign key column."""

    kind: vocab.EntityKind
    parent_column: str
    order: Order


async def children_page(
    reader: Reader, spec: ChildList, parents: Sequence[uuid.UUID], window: Window
) -> dict[uuid.UUID, Slice]:
    """Child entities per parent (facilities of a block, instruments of an agreement...)."""

    def parts() -> Parts:
        model: Any = m.DETAIL_MODELS[spec.kind]
        from_ = sa.join(m.Entity.__table__, model.__table__, m.Entity.id == model.id)
        return getattr(model, spec.parent_column), m.Entity.id, child_sort(spec), [], from_

    return await prepared_pages_per_parent(
        reader, ("children", spec), parts, parents, window, rows=ENTITIES
    )


def child_sort(spec: ChildList) -> list[ColumnElement]:
    model: Any = m.DETAIL_MODELS[spec.kind]
    if spec.order is Order.ORDINAL and hasattr(model, "position"):
        return [model.position, model.id]
    return sort_columns(spec.kind, spec.order)


async def children_count(
    reader: Reader, spec: ChildList, parents: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many children each parent has."""
    model: Any = m.DETAIL_MODELS[spec.kind]
    return await count_per_parent(
        reader, getattr(model, spec.parent_column), parents, [], model.__table__
    )


# --- attached rows (sources, names, identifiers, quantities, statements, notes) -----------

ATTACHED: dict[str, tuple[type[Any], str]] = {
    "sources": (m.EntitySource, "entity_id"),
    "names": (m.EntityName, "entity_id"),
    "identifiers": (m.EntityIdentifier, "entity_id"),
    "quantities": (m.Quantity, "subject_id"),
    "statements": (m.Statement, "subject_id"),
    "quality_notes": (m.QualityNote, "subject_id"),
}


def attached_sort(model: Any) -> list[ColumnElement]:
    """Numbered items first by number, then document order: document key, line, id."""
    ordinal = getattr(model, "ordinal", None)
    sort: list[ColumnElement] = []
    if ordinal is not None:
        sort.append(sa.func.coalesce(ordinal, sa.literal(2**31 - 1)))
    return [*sort, m.SourceDocument.key, model.line_start, model.id]


def attached_from(model: Any) -> Any:
    return sa.join(
        model.__table__, m.SourceDocument.__table__, m.SourceDocument.id == model.document_id
    )


async def attached_page(
    reader: Reader, what: str, parents: Sequence[uuid.UUID], window: Window
) -> dict[uuid.UUID, Slice]:
    """Attached rows per entity, in document order."""

    def parts() -> Parts:
        model: Any = ATTACHED[what][0]
        parent = getattr(model, ATTACHED[what][1])
        return parent, model.id, attached_sort(model), [], attached_from(model)

    rows = ATTACHED_READERS[ATTACHED[what][0]]
    return await prepared_pages_per_parent(
        reader, ("attached", what), parts, parents, window, rows=rows
    )


async def attached_count(
    reader: Reader, what: str, parents: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many attached rows of a kind each entity has."""
    model: Any = ATTACHED[what][0]
    parent = getattr(model, ATTACHED[what][1])
    return await count_per_parent(reader, parent, parents, [], model.__table__)


async def source_documents_by_ids(
    reader: Reader, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Record]:
    """Load source documents by id."""
    return await SOURCE_DOCUMENTS.load(reader, ids)


async def all_source_documents(reader: Reader) -> list[Record]:
    """Every source document, by key (there are a handful)."""
    stmt = SOURCE_DOCUMENTS.select().order_by(m.SourceDocument.key)
    rows = (await reader.execute(stmt)).all()
    return list(SOURCE_DOCUMENTS.wrap(row._mapping for row in rows).values())


# --- the organisational tree ---------------------------------------------------------------


def _tree(parents: Sequence[uuid.UUID], upward: bool) -> sa.CTE:
    """Walk hierarchy relations from each root, one row per (root, node, depth)."""
    r = m.Relation
    near, far = (r.subject_id, r.object_id) if upward else (r.object_id, r.subject_id)
    seed = (
        sa.select(
            near.label("root"), far.label("node"), sa.literal(1).label("depth"),
            r.predicate.label("via"),
        )
        .where(
            any_of(near, parents),
            any_of(r.predicate, HIERARCHY),
            r.rank != vocab.Rank.DEPRECATED,
        )
        .cte("tree", recursive=True)
    )  # fmt: skip
    step = (
        sa.select(seed.c.root, far, seed.c.depth + 1, r.predicate)
        .join(r, near == seed.c.node)
        .where(
            any_of(r.predicate, HIERARCHY),
            r.rank != vocab.Rank.DEPRECATED,
            seed.c.depth < MAX_TREE_DEPTH,
        )
    )
    return seed.union(step)


async def tree_page(
    reader: Reader, parents: Sequence[uuid.UUID], upward: bool, window: Window
) -> dict[uuid.UUID, Slice]:
    """Ancestors (upward) or descendants per root, ordered by depth then name."""
    tree = _tree(parents, upward)
    from_ = sa.join(tree, m.Entity.__table__, m.Entity.id == tree.c.node)
    value = sa.func.json_build_array(sa.cast(tree.c.node, sa.Text), tree.c.depth, tree.c.via)
    sort = [tree.c.depth, m.Entity.name, m.Entity.id]
    return await fetch_pages_per_parent(
        reader, tree.c.root, parents, value, sort, [], window, from_
    )


async def tree_count(
    reader: Reader, parents: Sequence[uuid.UUID], upward: bool
) -> dict[uuid.UUID, int]:
    """How many ancestors or descendants each root has."""
    tree = _tree(parents, upward)
    return await count_per_parent(reader, tree.c.root, parents, [], tree)
