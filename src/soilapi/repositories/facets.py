"""Facet counts and agreement totals of a root list, in one statement each.

Both are read over the records the list's filter keeps (`filter_where`, the clauses its pages
and `totalCount` use), never over a page. Each builder below is the only SQL of its answer:
the resolvers run its rows (`facet_counts`, `agreement_totals`), and the SQL compiler wraps the
same statement in the JSON of a root field (soilapi.repositories.json_query), so both engines
count, write and order alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from soilapi.db import models as m
from soilapi.db.session import Reader
from soilapi.repositories.entities import (
    EntityFilter,
    entities_from,
    filter_values,
    filter_where,
    list_shape,
)
from soilapi.repositories.paging import ColumnElement, prepared_rows
from soilapi.vocab import EntityKind, Facet

_INSTRUMENTS = m.AgreementInstrument.__table__
# The date a list's YEAR facet reads: the one its START order sorts by. Partner agreements
# have no dates of their own; they began with their earliest instrument.
_YEAR_DATES: dict[EntityKind, Any] = {
    EntityKind.PARTNER_AGREEMENT: m.PartnerAgreement.earliest_start_date,
}


def _text(value: ColumnElement) -> ColumnElement:
    return sa.cast(value, sa.Text)


def _value(kind: EntityKind, facet: Facet) -> ColumnElement:
    """A record's value of a single-valued facet, as the API writes it: an enum's GraphQL
    name (upper case), an ISO country code, a year."""
    if facet is Facet.KIND:
        return sa.func.upper(_text(m.Entity.kind))
    if facet is Facet.COUNTRY:
        return _text(m.Entity.country_code)
    if facet is Facet.CATEGORY:
        return sa.func.upper(_text(m.DETAIL_MODELS[kind].category))  # type: ignore[attr-defined]
    if facet is Facet.YEAR:
        day = _YEAR_DATES.get(kind, m.Entity.start_date)
        return _text(sa.cast(sa.extract("year", day), sa.Integer))
    raise ValueError(f"{facet} has several values per record")


def facets_query(
    kind: EntityKind, where: Sequence[ColumnElement], fields: Sequence[Facet], first: Any
) -> sa.Select[Any]:
    """Rows (field, value, count, field_index, rank): for each of `fields`, its `first` most
    frequent values among the records `where` keeps, ordered by field (as asked), then count
    (most first), then value (null last).

    The filtered records are read once: the single-valued facets are one GROUPING SETS over
    them; instrument types, of which an agreement may have several, count each agreement once
    per type it has (`count(DISTINCT ...)`), in a branch of the same statement.
    """
    single = [facet for facet in fields if facet is not Facet.INSTRUMENT_TYPE]
    values = [_value(kind, facet).label(f"v{i}") for i, facet in enumerate(single)]
    matched = (
        sa.select(m.Entity.id.label("id"), *values)
        .select_from(entities_from(kind, [*where, *values]))
        .where(*where)
        .cte("matched", nesting=True)
    )
    branches: list[sa.Select[Any]] = []
    if single:
        branches.append(_grouped(matched, [fields.index(facet) for facet in single]))
    if Facet.INSTRUMENT_TYPE in fields:
        branches.append(_instrument_types(matched, fields.index(Facet.INSTRUMENT_TYPE)))
    counted = sa.union_all(*branches).subquery("counted")
    ranked = (
        sa.select(
            *counted.c,
            sa.func.row_number()
            .over(
                partition_by=counted.c.field_index,
                order_by=(counted.c["count"].desc(), counted.c.value.asc().nulls_last()),
            )
            .label("rank"),
        )
    ).subquery("ranked")
    names = {index: facet.name for index, facet in enumerate(fields)}
    return (
        sa.select(
            sa.case(names, value=ranked.c.field_index).label("field"),
            ranked.c.value,
            ranked.c["count"],
            ranked.c.field_index,
            ranked.c.rank,
        )
        .where(ranked.c.rank <= first)
        .order_by(ranked.c.field_index, ranked.c.rank)
    )


def _grouped(matched: Any, indexes: list[int]) -> sa.Select[Any]:
    """(field_index, value, count) of single-valued facets: one grouping set per facet.

    grouping(v0, v1, ...) has a bit per column, set where the row is not grouped by it, the
    first column's the highest: the rows of facet i have every bit set but its own.
    """
    columns = [matched.c[f"v{i}"] for i in range(len(indexes))]
    every = (1 << len(columns)) - 1
    sets = sa.func.grouping(*columns)
    mask = [every ^ (1 << (len(columns) - 1 - i)) for i in range(len(columns))]
    return (
        sa.select(
            sa.case(*((sets == mask[i], index) for i, index in enumerate(indexes))).label(
                "field_index"
            ),
            sa.case(*((sets == mask[i], columns[i]) for i in range(len(columns)))).label("value"),
            sa.func.count().label("count"),
        )
        .select_from(matched)
        .group_by(sa.func.grouping_sets(*columns))
    )


def _instrument_types(matched: Any, index: int) -> sa.Select[Any]:
    """(field_index, value, count): agreements per type of instrument they have."""
    kind = _INSTRUMENTS.c.instrument_type
    return (
        sa.select(
            sa.literal(index, sa.Integer).label("field_index"),
            sa.func.upper(_text(kind)).label("value"),
            sa.func.count(sa.distinct(_INSTRUMENTS.c.agreement_id)).label("count"),
        )
        .select_from(sa.join(_INSTRUMENTS, matched, _INSTRUMENTS.c.agreement_id == matched.c.id))
        .group_by(kind)
    )


def totals_query(where: Sequence[ColumnElement]) -> sa.Select[Any]:
    """Rows (instrument_type, count, fte, total, position) over the instruments of the
    agreements `where` keeps: first the total (`total` 1, no type), then one row per type of
    instrument they have, most frequent first. `fte` sums the full-time equivalents seconded
    (0 where none is stated)."""
    agreement = EntityKind.PARTNER_AGREEMENT
    agreements = (
        sa.select(m.Entity.id.label("id"))
        .select_from(entities_from(agreement, where))
        .where(*where)
        .subquery("agreements")
    )
    # A plain join: the planner picks an index probe per agreement or one hash of every
    # instrument by the filter's size. Fencing the read per agreement (LATERAL ... OFFSET 0)
    # was no faster for the 3,352 German agreements at bench scale 100 (~20 ms either way) and
    # four times slower for all 100,000 (540 ms against 140).
    kind = _INSTRUMENTS.c.instrument_type
    total = sa.func.grouping(kind)
    count = sa.func.count()
    order = (total.desc(), count.desc(), kind)
    return (
        sa.select(
            sa.func.upper(_text(kind)).label("instrument_type"),
            count.label("count"),
            sa.cast(sa.func.coalesce(sa.func.sum(_INSTRUMENTS.c.fte), 0), sa.Float).label("fte"),
            total.label("total"),
            sa.func.row_number().over(order_by=order).label("position"),
        )
        .select_from(
            sa.join(agreements, _INSTRUMENTS, _INSTRUMENTS.c.agreement_id == agreements.c.id)
        )
        .group_by(sa.func.rollup(kind))
        .order_by(*order)
    )


async def facet_counts(
    reader: Reader, f: EntityFilter, fields: tuple[Facet, ...], first: int
) -> list[Any]:
    """The rows of `facets_query` for a root list's filter."""
    values = filter_values(f)

    def build() -> sa.Select[Any]:
        first_bind = sa.bindparam("facets_first", type_=sa.Integer)
        return facets_query(f.kind, filter_where(f, values), fields, first_bind)

    shape = ("facets", *list_shape(f, values), fields)
    return await prepared_rows(reader, shape, build, {**values, "facets_first": first})


async def agreement_totals(reader: Reader, f: EntityFilter) -> list[Any]:
    """The rows of `totals_query` for a list of partner agreements."""
    values = filter_values(f)
    shape = ("totals", *list_shape(f, values))
    return await prepared_rows(reader, shape, lambda: totals_query(filter_where(f, values)), values)
