"""Rules for the dates clients send: partial dates, date ranges, "in force" and the timeline.

A client writes dates as the sources do, to the precision it means: "2021", "2021-06" or
"2021-06-15". A range from "2021" to "2021-06" is every day from 1 January to 30 June 2021.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from soilapi.errors import InvalidInput
from soilapi.repositories.dates import DATED_BY, DATES, DateRange, TimelineFilter, date_kinds
from soilapi.repositories.entities import InForceFilter
from soilapi.vocab import DateKind, DatePrecision, EntityKind, TruthValue

# Four ASCII digits, then optionally a month and a day: not `\d`, which takes any script's
# digits, and fullmatch, since `$` would let a trailing newline through.
_PARTIAL = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_SHOWN = 40  # characters of a refused value quoted back


@dataclass(frozen=True)
class PartialDay:
    """A date a client sent, as the period it names."""

    first: date
    last: date
    precision: DatePrecision


def partial_date(text: str, field: str) -> PartialDay:
    """Read "2021", "2021-06" or "2021-06-15"; `field` names the argument, for the error."""
    found = _PARTIAL.fullmatch(text)
    if found is None:
        raise InvalidInput(
            f"`{field}` takes a date written YYYY, YYYY-MM or YYYY-MM-DD (2021, 2021-06, "
            f"2021-06-15), not {text[:_SHOWN]!r}",
            field=field,
        )
    year, month, day = (int(part) if part else None for part in found.groups())
    assert year is not None  # the pattern requires it
    try:
        first = date(year, month or 1, day or 1)
    except ValueError as exc:
        raise InvalidInput(
            f"`{field}`: {text!r} is not a day of the calendar ({exc})", field=field
        ) from None
    if day is not None:
        return PartialDay(first, first, DatePrecision.DAY)
    if month is not None:
        last = date(year, month, calendar.monthrange(year, month)[1])
        return PartialDay(first, last, DatePrecision.MONTH)
    return PartialDay(first, date(year, 12, 31), DatePrecision.YEAR)


def _plural(kind: EntityKind) -> str:
    """The records of a kind with dates, in words ("partner agreements")."""
    return kind.value.replace("_", " ") + "s"


def _range(from_: str | None, to: str | None, on: tuple[DateKind, ...], at: str) -> DateRange:
    """The days from the first of `from_`'s period to the last of `to`'s; `at` prefixes the
    arguments' names in errors (`dated.`)."""
    low = partial_date(from_, f"{at}from") if from_ is not None else None
    high = partial_date(to, f"{at}to") if to is not None else None
    if low is not None and high is not None and low.first > high.last:
        raise InvalidInput(
            f"`{at}from` ({from_}) is after `{at}to` ({to}): the range would hold no day",
            field=f"{at}from",
        )
    return DateRange(low.first if low else None, high.last if high else None, on)


def _chosen(
    on: Sequence[DateKind] | None, offered: tuple[DateKind, ...], whose: str, field: str
) -> tuple[DateKind, ...]:
    """The dates asked for (default: every date offered), in DateKind order."""
    if on is None:
        return offered
    if not on:
        raise InvalidInput(f"`{field}` is empty: name a date, or leave it out for all", field=field)
    missing = [kind for kind in on if kind not in offered]
    if missing:
        names = ", ".join(kind.name for kind in offered)
        raise InvalidInput(
            f"`{field}`: {whose} have no {missing[0].name} date; they have {names}",
            field=field,
        )
    return tuple(kind for kind in DateKind if kind in on)


@dataclass(frozen=True)
class DatesAsked:
    """A `dated` argument as a client sent it, before any check."""

    from_: str | None = None
    to: str | None = None
    on: tuple[DateKind, ...] | None = None


def date_range(kind: EntityKind, asked: DatesAsked) -> DateRange:
    """A list's `dated` filter, checked: real dates, a range that holds a day, dates the
    records of `kind` have (an agreement's are its instruments')."""
    offered = date_kinds(kind)
    whose = _plural(kind)
    if kind in DATED_BY:
        whose += f" (through their {_plural(DATED_BY[kind][0])})"
    on = _chosen(asked.on, offered, whose, "dated.on")
    return _range(asked.from_, asked.to, on, "dated.")


@dataclass(frozen=True)
class InForceAsked:
    """An `inForce` argument as a client sent it: a day and the answers to keep."""

    day: date
    values: tuple[TruthValue, ...]


def in_force(asked: InForceAsked) -> InForceFilter | None:
    """An `inForce` filter: the answers asked for on a day (TRUE, or TRUE and UNKNOWN ...);
    None when all three are asked for, which keeps every agreement."""
    values = asked.values
    if not values:
        raise InvalidInput(
            "`inForce.values` is empty: pass [TRUE], or [TRUE, UNKNOWN] to keep the "
            "agreements the sources leave open",
            field="inForce.values",
        )
    kept = tuple(value for value in TruthValue if value in values)
    return InForceFilter(asked.day, kept) if len(kept) < len(TruthValue) else None


# Every kind with dates of its own: the kinds a timeline can list.
TIMELINE_KINDS = tuple(kind for kind in EntityKind if kind in DATES)


def timeline(
    from_: str | None,
    to: str | None,
    on: Sequence[DateKind] | None,
    kinds: Sequence[EntityKind] | None,
) -> TimelineFilter:
    """A timeline's filter, checked: real dates, kinds that have dates, dates they have."""
    chosen = TIMELINE_KINDS if kinds is None else tuple(dict.fromkeys(kinds))
    if not chosen:
        raise InvalidInput("`kinds` is empty: name a kind, or leave it out for all", field="kinds")
    for kind in chosen:
        if kind not in DATES:
            hint = f" (ask for {DATED_BY[kind][0].name}: theirs)" if kind in DATED_BY else ""
            listed = ", ".join(k.name for k in TIMELINE_KINDS)
            raise InvalidInput(
                f"`kinds`: {kind.name} records have no dates of their own{hint}; the timeline "
                f"lists {listed}",
                field="kinds",
            )
    offered = tuple(k for k in DateKind if any(k in DATES[kind] for kind in chosen))
    dates_on = _chosen(on, offered, "the kinds asked for", "on")
    return TimelineFilter(_range(from_, to, dates_on, ""), chosen)
