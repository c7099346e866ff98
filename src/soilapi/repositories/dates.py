"""The SQL of dates: partial dates against a range, "in force" on a day, and the timeline.

A partial date is stored as the first day of its period and its precision ("2021" is
2021-01-01, YEAR). Its period runs to `period_end` (excluded): a YEAR date is the whole year,
a MONTH date the whole month. Every rule here compares periods, never first days alone, so
that the precision the sources give is the precision the answers keep.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on

from soilapi import vocab
from soilapi.db import models as m
from soilapi.db.session import Prepared, Reader
from soilapi.repositories.paging import (
    ColumnElement,
    Slice,
    Window,
    cursor_values,
    keyset_condition,
    order_by,
    page_statement,
    prepared_count,
    to_slice,
)
from soilapi.vocab import DateKind, EntityKind, InForceReason, TruthValue

K = EntityKind


class Bind(Protocol):
    """Makes a named bind and notes its value (soilapi.repositories.entities' `_Binds`)."""

    def __call__(self, name: str, value: Any, type_: Any = None) -> Any: ...


# --- where each date of a record is kept -------------------------------------------------


@dataclass(frozen=True)
class DateColumns:
    """Where one date of a record is kept: `<prefix>_date` and `<prefix>_precision`, on
    `entities` or on the kind's detail table."""

    prefix: str
    detail: bool = False

    def of(self, entities: Any, detail: Any) -> tuple[ColumnElement, ColumnElement]:
        """(date, precision) columns in the given `entities` and detail tables (or aliases)."""
        table = detail if self.detail else entities
        return table.c[f"{self.prefix}_date"], table.c[f"{self.prefix}_precision"]


_START, _END = DateColumns("start"), DateColumns("end")
_OWN = {DateKind.START: _START, DateKind.END: _END}

# The dates each kind has, and where: the one declaration the `dated` filter, the timeline and
# the services' checks read. An output's `start` is its publication.
DATES: dict[EntityKind, dict[DateKind, DateColumns]] = {
    K.ORGANIZATION: _OWN,
    K.PROGRAMME: _OWN,
    K.INITIATIVE: {**_OWN, DateKind.LAUNCHED: DateColumns("launched", detail=True)},
    K.AGREEMENT_INSTRUMENT: {**_OWN, DateKind.SIGNED: DateColumns("signed", detail=True)},
    K.OUTPUT: {
        DateKind.PUBLISHED: _START,
        DateKind.LAUNCHED: DateColumns("launched", detail=True),
        DateKind.END: _END,
    },
    K.EVENT: _OWN,
    K.DOCUMENT: _OWN,
}
# Kinds without dates of their own, dated by the records that point at them (kind, foreign
# key): a partner agreement was signed, began or ended when one of its instruments did.
DATED_BY: dict[EntityKind, tuple[EntityKind, str]] = {
    K.PARTNER_AGREEMENT: (K.AGREEMENT_INSTRUMENT, "agreement_id"),
}


def date_kinds(kind: EntityKind) -> tuple[DateKind, ...]:
    """The dates a list of `kind` can be filtered on, in DateKind order."""
    own = DATES.get(DATED_BY[kind][0] if kind in DATED_BY else kind, {})
    return tuple(k for k in DateKind if k in own)


# --- periods -------------------------------------------------------------------------------


def _interval(text: str) -> ColumnElement:
    return sa.literal_column(f"interval '{text}'", sa.Interval)


def period_end(day: ColumnElement, precision: ColumnElement) -> ColumnElement:
    """The first day after a partial date's period: 2021 → 2022-01-01, 2021-06 → 2021-07-01,
    2021-06-15 → 2021-06-16 (a date with no precision counts as a day)."""
    span = sa.case(
        (precision == vocab.DatePrecision.YEAR.value, _interval("1 year")),
        (precision == vocab.DatePrecision.MONTH.value, _interval("1 month")),
        else_=_interval("1 day"),
    )
    return sa.cast(day + span, sa.Date)


def last_day(day: ColumnElement, precision: ColumnElement) -> ColumnElement:
    """The last day of a partial date's period: 2021 → 2021-12-31."""
    return sa.cast(period_end(day, precision) - _interval("1 day"), sa.Date)


@dataclass(frozen=True)
class DateRange:
    """Days partial dates are matched against, `first` to `last` (both included; None: no
    bound), on the dates `on` of each record.

    The rule is overlap: a partial date matches when its period and the range share a day. A
    MONTH date "2021-01" lies within 2021; a YEAR date 2021 overlaps June 2021, since the
    sources do not rule out that it fell in June. No bound at all asks for records that have
    one of the dates.
    """

    first: date | None
    last: date | None
    on: tuple[DateKind, ...]


def range_values(rng: DateRange) -> dict[str, Any]:
    """The values of the binds `overlapping` names, worked out without building SQL."""
    values: dict[str, Any] = {}
    if rng.first is not None:
        values["dated_first"] = rng.first
        if not _new_year(rng.first):
            values["dated_floor"] = _floor(rng.first)
    if rng.last is not None:
        values["dated_last"] = rng.last
    return values


def _floor(first: date) -> date:
    """The earliest first day a partial date overlapping `first...` can have: 1 January of
    `first`'s year (a YEAR date starts there; every other period starts later)."""
    return date(first.year, 1, 1)


def _new_year(first: date) -> bool:
    """Whether a range starts on 1 January, where no period begins before and ends after."""
    return first == _floor(first)


def overlapping(
    day: ColumnElement, precision: ColumnElement, rng: DateRange, bind: Bind
) -> ColumnElement:
    """`day`/`precision`'s period overlaps the range.

    The period's first day must be at most the range's last, and its end after the range's
    first day. Periods are whole years, months or days, so from a 1 January (`from: "2021"`)
    that is the first day being on or after it: a condition on the date alone, which an
    index answers without reading the rows. From another day the end must be worked out from
    the precision, which is no index condition, so the first day is also bounded below by
    `_floor`: an index on the date then reads the range, plus at most the rest of the year
    before it, instead of every earlier row.
    """
    clauses: list[ColumnElement] = []
    if rng.first is not None and _new_year(rng.first):
        clauses.append(day >= bind("dated_first", rng.first, sa.Date()))
    elif rng.first is not None:
        clauses.append(day >= bind("dated_floor", _floor(rng.first), sa.Date()))
        clauses.append(period_end(day, precision) > bind("dated_first", rng.first, sa.Date()))
    if rng.last is not None:
        clauses.append(day <= bind("dated_last", rng.last, sa.Date()))
    return sa.and_(*clauses) if clauses else day.is_not(None)


def dated_condition(kind: EntityKind, rng: DateRange, bind: Bind) -> ColumnElement:
    """A record of `kind` has one of the dates `rng.on` in the range (an agreement: one of its
    instruments has)."""
    entities = m.Entity.__table__
    if kind in DATED_BY:
        inner, foreign_key = DATED_BY[kind]
        own: Any = entities.alias("dated_entity")
        held: Any = m.DETAIL_MODELS[inner].__table__.alias("dated_detail")
        matches = [overlapping(*DATES[inner][k].of(own, held), rng, bind) for k in rng.on]
        holders = (
            sa.select(held.c[foreign_key])
            .select_from(own.join(held, own.c.id == held.c.id))
            .where(sa.or_(*matches))
        )
        return m.Entity.id.in_(holders.scalar_subquery())
    detail = m.DETAIL_MODELS[kind].__table__
    return sa.or_(*(overlapping(*DATES[kind][k].of(entities, detail), rng, bind) for k in rng.on))


# --- in force ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bounds:
    """A time-bounded row's start and end, as SQL: what "in force" is worked out from."""

    start: ColumnElement
    start_precision: ColumnElement
    end: ColumnElement
    end_precision: ColumnElement
    end_derived: ColumnElement
    start_is_signature: ColumnElement


def instrument_bounds(entity: Any, detail: Any) -> Bounds:
    """An instrument's period: its stated start, else its signature (as the START order
    counts it), to its stated or derived end."""
    stated = entity.c.start_date
    return Bounds(
        start=sa.func.coalesce(stated, detail.c.signed_date),
        start_precision=sa.case(
            (stated.is_not(None), entity.c.start_precision), else_=detail.c.signed_precision
        ),
        end=entity.c.end_date,
        end_precision=entity.c.end_precision,
        end_derived=detail.c.end_is_derived,
        start_is_signature=sa.and_(stated.is_(None), detail.c.signed_date.is_not(None)),
    )


def relation_bounds(relation: Any) -> Bounds:
    """A relation's period: its stated start and end (relations have no derived ends)."""
    return Bounds(
        start=relation.c.start_date,
        start_precision=relation.c.start_precision,
        end=relation.c.end_date,
        end_precision=relation.c.end_precision,
        end_derived=sa.false(),
        start_is_signature=sa.false(),
    )


@dataclass(frozen=True)
class Certainties:
    """What the dates settle about one row on one day, as SQL conditions that are never
    NULL: the one rule both the `inForceOn` field and the `inForce` filter are made of."""

    before_start: ColumnElement  # the day comes before the start's period began
    after_end: ColumnElement  # the day comes after the end's period closed
    begun: ColumnElement  # the start is known, and its period (its last day) holds no later day
    not_ended: ColumnElement  # the end is known, and its first day is not before the day

    @property
    def false(self) -> ColumnElement:
        """Certainly not in force."""
        return sa.or_(self.before_start, self.after_end)

    @property
    def true(self) -> ColumnElement:
        """Certainly in force: it began by the day, and its end is not before it."""
        return sa.and_(self.begun, self.not_ended)


def certainties(b: Bounds, day: ColumnElement) -> Certainties:
    """The rule of "in force" on `day` for a row with bounds `b`."""
    start_known, end_known = b.start.is_not(None), b.end.is_not(None)
    return Certainties(
        before_start=sa.and_(start_known, day < b.start),
        after_end=sa.and_(end_known, day >= period_end(b.end, b.end_precision)),
        begun=sa.and_(start_known, day >= last_day(b.start, b.start_precision)),
        not_ended=sa.and_(end_known, day <= b.end),
    )


def in_force_reason(b: Bounds, day: ColumnElement) -> ColumnElement:
    """Why the row is, is not, or may be in force on `day` (an InForceReason's value).

    Certain answers come first: before its start's period began, or after its end's period
    closed, it is not in force, whatever else is unknown. Then what the sources leave open:
    no start, a start whose period holds the day ("in 2021", asked about a day of 2021), no
    end, an end whose period holds the day. Otherwise it began for sure and has not ended:
    exactly `certainties(...).true`, as the reasons are worked out from the same conditions.
    """
    r = InForceReason
    c = certainties(b, day)
    after_end = sa.case((b.end_derived, r.AFTER_DERIVED_END.value), else_=r.AFTER_END.value)
    return sa.case(
        (c.before_start, r.BEFORE_START.value),
        (c.after_end, after_end),
        (b.start.is_(None), r.START_UNKNOWN.value),
        (sa.not_(c.begun), r.START_IMPRECISE.value),
        (b.end.is_(None), r.END_UNKNOWN.value),
        (sa.not_(c.not_ended), r.END_IMPRECISE.value),
        (b.end_derived, r.BEFORE_DERIVED_END.value),
        else_=r.BEFORE_END.value,
    )


def reason_rank(reason: ColumnElement) -> ColumnElement:
    """A reason's place in InForceReason's order: lowest is nearest to "in force"."""
    return sa.case({r.value: rank for rank, r in enumerate(InForceReason)}, value=reason)


def _instrument_tables(name: str = "force") -> tuple[Any, Any, Any]:
    """Instruments joined to their entity rows, under aliases named after `name` (nested
    subqueries each need their own)."""
    entity = m.Entity.__table__.alias(f"{name}_entity")
    detail = m.AgreementInstrument.__table__.alias(f"{name}_instrument")
    return entity, detail, entity.join(detail, entity.c.id == detail.c.id)


def _instruments_of(agreement: ColumnElement, day: ColumnElement, name: str, keep: Any) -> Any:
    """EXISTS an instrument of `agreement` whose certainties on `day` `keep` accepts (a
    function of Certainties and the instrument's detail table, for nested correlation)."""
    entity, detail, joined = _instrument_tables(name)
    c = certainties(instrument_bounds(entity, detail), day)
    # No condition on `kind` (the join implies it): with one, PostgreSQL takes the kind and
    # the end as independent, expects 10 times too few instruments in force, and hashes all
    # of them even for a first page instead of probing agreement after agreement (700 ms
    # instead of 30 at scale 100).
    where = [detail.c.agreement_id == agreement, keep(c, detail)]
    return sa.select(sa.literal(1)).select_from(joined).where(*where).exists()


def in_force_condition(values: tuple[TruthValue, ...], day: ColumnElement) -> ColumnElement:
    """A partner agreement's answer on `day` is one of `values` (not all three).

    An agreement is as much in force as its nearest-to-in-force instrument: TRUE when one
    instrument is TRUE; FALSE when it has instruments and all are FALSE; UNKNOWN otherwise,
    no instruments included (InForceReason.NO_INSTRUMENTS), as its field answers. Each set of
    answers is EXISTS and NOT EXISTS of plain conditions on dates, which PostgreSQL turns
    into semi- and anti-joins and can estimate: a few instruments probed by index per
    agreement for a page, one pass over the instruments for a count. (A max() of the reasons
    per agreement took 4 s to count 100,000 agreements; a CASE hides its selectivity.)
    """
    agreement = m.Entity.id
    true_ = _instruments_of(agreement, day, "force_true", lambda c, _: c.true)

    def not_false_but_this(c: Certainties, detail: Any) -> ColumnElement:
        other = _instruments_of(
            detail.c.agreement_id, day, "force_other", lambda o, _: sa.not_(o.false)
        )
        return sa.and_(c.false, sa.not_(other))

    # It has instruments, every one FALSE: one FALSE instrument and no other that is not.
    all_false = _instruments_of(agreement, day, "force_false", not_false_but_this)
    by_values: dict[frozenset[TruthValue], ColumnElement] = {
        frozenset({TruthValue.TRUE}): true_,
        frozenset({TruthValue.TRUE, TruthValue.UNKNOWN}): sa.not_(all_false),
        frozenset({TruthValue.UNKNOWN}): sa.and_(sa.not_(true_), sa.not_(all_false)),
        frozenset({TruthValue.FALSE}): all_false,
        frozenset({TruthValue.TRUE, TruthValue.FALSE}): sa.or_(true_, all_false),
        frozenset({TruthValue.UNKNOWN, TruthValue.FALSE}): sa.not_(true_),
    }
    return by_values[frozenset(values)]


@dataclass(frozen=True)
class InForceRow:
    """The answer for one record on one day, with the dates it was worked out from."""

    reason: InForceReason
    start: date | None
    start_precision: vocab.DatePrecision | None
    start_is_signature: bool
    end: date | None
    end_precision: vocab.DatePrecision | None
    end_is_derived: bool
    instrument_id: uuid.UUID | None  # an agreement's deciding instrument (an instrument: itself)


def _in_force_select(what: str) -> Any:
    """The statement answering "in force on :day" for the records `:ids` of `what`."""
    day = sa.bindparam("day", type_=sa.Date())
    ids = sa.bindparam("ids", type_=ARRAY(sa.Uuid(as_uuid=True)))
    if what == "relation":
        relation = m.Relation.__table__
        b, from_, key, instrument = relation_bounds(relation), relation, relation.c.id, sa.null()
    else:
        entity, detail, from_ = _instrument_tables()
        b, instrument = instrument_bounds(entity, detail), detail.c.id
        key = detail.c.agreement_id if what == "agreement" else detail.c.id
    reason = in_force_reason(b, day)
    stmt = (
        sa.select(
            key.label("id"),
            reason.label("reason"),
            b.start.label("start"),
            b.start_precision.label("start_precision"),
            b.start_is_signature.label("start_is_signature"),
            b.end.label("end"),
            b.end_precision.label("end_precision"),
            b.end_derived.label("end_is_derived"),
            instrument.label("instrument_id"),
        )
        .select_from(from_)
        .where(key == sa.any_(ids))
    )
    if what == "agreement":  # the deciding instrument: nearest to in force, then first listed
        order = [key, reason_rank(reason), detail.c.ordinal, detail.c.id]
        stmt = stmt.ext(distinct_on(key)).order_by(*order)
    return stmt


_IN_FORCE = {
    what: Prepared(_in_force_select(what)) for what in ("instrument", "agreement", "relation")
}


async def in_force_on(
    reader: Reader, what: str, ids: Sequence[uuid.UUID], day: date
) -> dict[uuid.UUID, InForceRow]:
    """Whether each record of `what` (instrument, agreement, relation) is in force on `day`,
    in one statement; agreements without instruments are left out (their answer needs none)."""
    rows = await reader.fetch(_IN_FORCE[what], {"ids": list(dict.fromkeys(ids)), "day": day})
    return {
        row["id"]: InForceRow(
            reason=InForceReason(row["reason"]),
            start=row["start"],
            start_precision=_precision(row["start_precision"]),
            start_is_signature=bool(row["start_is_signature"]),
            end=row["end"],
            end_precision=_precision(row["end_precision"]),
            end_is_derived=bool(row["end_is_derived"]),
            instrument_id=row["instrument_id"],
        )
        for row in rows
    }


def _precision(value: str | None) -> vocab.DatePrecision | None:
    return None if value is None else vocab.DatePrecision(value)


# --- the timeline --------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineFilter:
    """What a timeline lists: the dates `range.on` of records of `kinds`, in `range`."""

    range: DateRange
    kinds: tuple[EntityKind, ...]


@dataclass(frozen=True)
class Branch:
    """One source of timeline entries: one date of one kind."""

    kind: EntityKind
    date_kind: DateKind
    columns: DateColumns


BRANCHES = tuple(
    Branch(kind, date_kind, columns)
    for kind, dates in DATES.items()
    for date_kind, columns in dates.items()
)
# An entry's place among the entries of its first day (the timeline's second sort key).
DATE_KIND_RANKS = {kind: rank for rank, kind in enumerate(DateKind)}


def _branches(f: TimelineFilter) -> tuple[Branch, ...]:
    return tuple(b for b in BRANCHES if b.kind in f.kinds and b.date_kind in f.range.on)


class _Named:
    """A `Bind` that only names binds: their values come from `range_values`."""

    def __call__(self, name: str, value: Any, type_: Any = None) -> Any:
        return sa.bindparam(name, type_=type_)


@dataclass(frozen=True)
class TimelineRow:
    """One entry of the timeline: a record's id and one of its dates. GraphQL reads the
    attributes the compiler reads as the columns of `timeline_select` (TIMELINE_COLUMNS)."""

    id: uuid.UUID
    date_kind: DateKind
    date_date: date
    date_precision: vocab.DatePrecision | None


# The columns of a timeline page, as the SQL compiler reads an entry's fields from them.
TIMELINE_COLUMNS: dict[str, Any] = {
    "id": sa.column("id", sa.Uuid(as_uuid=True)),
    "date_kind": sa.column("date_kind", sa.Enum(DateKind, native_enum=False)),
    "date_date": sa.column("date_date", sa.Date()),
    "date_precision": sa.column("date_precision", sa.Text()),
}


def _entries(b: Branch, rng: DateRange, window: Window | None) -> sa.Select[Any]:
    """The entries of one branch; with a window, the first `:limit` of them in the
    timeline's order (beyond the cursors), read from an index on (date, id)."""
    entities = m.Entity.__table__
    detail = m.DETAIL_MODELS[b.kind].__table__
    day, precision = b.columns.of(entities, detail)
    table = detail if b.columns.detail else entities
    rank = sa.literal_column(str(DATE_KIND_RANKS[b.date_kind]), sa.Integer)
    where = [overlapping(day, precision, rng, _Named())]
    if not b.columns.detail:  # a detail table holds one kind only
        where.append(entities.c.kind == b.kind.value)
    stmt = sa.select(
        table.c.id.label("id"),
        sa.literal(b.date_kind.value, sa.Text).label("date_kind"),
        day.label("date_date"),
        precision.label("date_precision"),
        rank.label("rank"),
    ).where(*where)
    if window is None:
        return stmt
    # The cursor's row comparison holds a constant, so it is no index condition: the bounds
    # on the date alone are, and they leave the comparison only the rows of one day.
    sort = [day, rank, table.c.id]
    bounds = _day_bounds(day, window)
    return (
        stmt.where(*bounds, *keyset_condition(sort, window, named=True))
        .order_by(*order_by([day, table.c.id], window))
        .limit(sa.bindparam("limit"))
    )


def _day_bounds(day: ColumnElement, window: Window) -> list[ColumnElement]:
    """The date bounds the cursors imply: after (date, ...) means on or after that date."""
    bounds: list[ColumnElement] = []
    if window.after is not None:
        after = sa.bindparam("after0", type_=sa.Date())
        bounds.append(day <= after if window.descending else day >= after)
    if window.before is not None:
        before = sa.bindparam("before0", type_=sa.Date())
        bounds.append(day >= before if window.descending else day <= before)
    return bounds


def timeline_shape(f: TimelineFilter) -> Hashable:
    """Everything of a timeline filter baked into its SQL: its branches and bounds."""
    return ("timeline", _branches(f), tuple(sorted(range_values(f.range))))


TIMELINE_KEYS = 3  # the sort key: first day, date kind's rank, record id


def timeline_select(f: TimelineFilter, window: Window) -> sa.Select[Any]:
    """The SQL of a page of entries (TIMELINE_COLUMNS and the sort key k0-k2, `:limit`
    rows from the cursors `:after0`... in order), ordered by first day, date kind (DateKind's
    order) and record id; both engines read it.

    Each branch reads its own first page from an index, in order, and stops; the pages are
    merged and cut to the page size.
    """
    branches = _branches(f)
    assert branches, "services.dates.timeline keeps at least one date of one kind"
    pages = sa.union_all(*(_entries(b, f.range, window) for b in branches)).subquery()
    sort = [pages.c.date_date, pages.c.rank, pages.c.id]
    return (
        sa.select(
            *(pages.c[name] for name in TIMELINE_COLUMNS),
            *(c.label(f"k{i}") for i, c in enumerate(sort)),
        )
        .order_by(*order_by(sort, window))
        .limit(sa.bindparam("limit"))
    )


def timeline_count_select(f: TimelineFilter) -> sa.Select[Any]:
    """The number of entries of the whole timeline: the sum of each branch's count, each
    over its index alone where the bounds allow."""
    counts = [
        sa.select(sa.func.count()).select_from(_entries(b, f.range, None).subquery())
        for b in _branches(f)
    ]
    sums = [count.scalar_subquery() for count in counts]
    return sa.select(sum(sums[1:], sums[0]))


def timeline_values(f: TimelineFilter) -> dict[str, Any]:
    """The values of the binds of a timeline's filter (the window's come with the page)."""
    return range_values(f.range)


async def timeline_page(reader: Reader, f: TimelineFilter, window: Window) -> Slice:
    """One page of timeline entries, as TimelineRows (the resolvers' read)."""

    def build() -> tuple[Any, int]:
        return timeline_select(f, window), TIMELINE_KEYS

    prepared, key_len = page_statement(timeline_shape(f), window, build)
    values = {"limit": window.limit + 1, **cursor_values(window), **timeline_values(f)}
    rows = [
        (
            TimelineRow(
                id=row["id"],
                date_kind=DateKind(row["date_kind"]),
                date_date=row["date_date"],
                date_precision=_precision(row["date_precision"]),
            ),
            *tuple(row)[len(TIMELINE_COLUMNS) :],
        )
        for row in await reader.fetch(prepared, values)
    ]
    return to_slice(rows, key_len, window)


async def timeline_count(reader: Reader, f: TimelineFilter) -> int:
    """How many entries the whole timeline has (only when a client asks for totalCount)."""
    shape = timeline_shape(f)
    return await prepared_count(reader, shape, lambda: timeline_count_select(f), timeline_values(f))
