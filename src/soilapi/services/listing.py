"""Rules for top-level lists: which filters and orders each kind accepts, and their limits."""

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from soilapi.errors import InvalidInput
from soilapi.repositories.entities import EntityFilter
from soilapi.services import dates
from soilapi.vocab import GOAL_LETTERS, EntityKind, Order

MAX_FILTER_VALUES = 50
MAX_SEARCH_LENGTH = 100
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")

_LAST = "{} without such a date come last, with `descending` too."

# The orders each root list offers, its default first, with the text a client reads in
# GraphiQL. This table is the only declaration: soilapi.graphql.enums makes each list's sort
# enum from it, so an order a list does not offer fails validation before anything runs.
ORDERS: dict[EntityKind, dict[Order, str]] = {
    EntityKind.ORGANIZATION: {
        Order.NAME: "By name, A to Z.",
        Order.START: "By founding date, oldest first. " + _LAST.format("Organisations"),
    },
    EntityKind.PROGRAMME: {
        Order.NAME: "By name, A to Z.",
        Order.START: "By the date it was created or signed, oldest first. "
        + _LAST.format("Programmes"),
    },
    EntityKind.INITIATIVE: {
        Order.NAME: "By name, A to Z.",
        Order.START: "By start or establishment date, oldest first. " + _LAST.format("Initiatives"),
    },
    EntityKind.FACILITY: {
        Order.CODE: "By code: CF2, CF3 ... GF1 ...",
        Order.NAME: "By name, A to Z.",
    },
    EntityKind.STRATEGIC_OBJECTIVE: {
        Order.LABEL: "By label: A1, A2 ... F3.",
        Order.NAME: "By name, A to Z.",
    },
    EntityKind.PARTNER_AGREEMENT: {
        Order.ORDINAL: "By position in the owner's list of partners (1, 2 ...).",
        Order.NAME: "By name, A to Z.",
        Order.SIGNED: "By the earliest day one of its instruments was signed, oldest first. "
        + _LAST.format("Agreements"),
        Order.START: "By when it began: the earliest start of its instruments, where an "
        "instrument with no stated start counts from its signature; oldest first. "
        + _LAST.format("Agreements"),
    },
    EntityKind.OUTPUT: {
        Order.NAME: "By title, A to Z.",
        Order.START: "By publication date, oldest first. " + _LAST.format("Outputs"),
    },
    EntityKind.EVENT: {
        Order.START: "By start date, earliest first. " + _LAST.format("Events"),
        Order.NAME: "By name, A to Z.",
    },
    EntityKind.DOCUMENT: {
        Order.SYMBOL: "By official symbol, as text; documents without one come first.",
        Order.NAME: "By title, A to Z.",
    },
    EntityKind.PERSON: {Order.NAME: "By name as written, A to Z."},
    EntityKind.PLACE: {Order.NAME: "By name, A to Z."},
}


def default_order(kind: EntityKind) -> Order:
    """The order a root list takes when the client names none: the first it offers."""
    return next(iter(ORDERS[kind]))


# A date order, descending, reverses a key on which the undated come before every date: newest
# first, and the undated still last rather than filling the first pages.
_UNDATED_FIRST = {Order.START: Order.START_UNDATED_FIRST, Order.SIGNED: Order.SIGNED_UNDATED_FIRST}


def sort_key(order: Order, descending: bool) -> Order:
    """The key a list sorts on (then reversed if `descending`) for the order a client chose."""
    return _UNDATED_FIRST.get(order, order) if descending else order


def _values(name: str, values: Sequence[str] | None) -> tuple[str, ...] | None:
    """A list filter's values; `name` is the GraphQL argument, for the error."""
    if values is None:
        return None
    if not values:
        # "Only these: none" would be no rows, "no filter" every row: neither is sure.
        raise InvalidInput(
            f"`{name}` is empty: pass at least one value, or leave it out for every record",
            field=name,
        )
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidInput(f"`{name}` takes at most {MAX_FILTER_VALUES} values", field=name)
    return tuple(values)


def countries(values: Sequence[str] | None) -> tuple[str, ...] | None:
    """Validate ISO 3166-1 alpha-2 codes (upper case)."""
    checked = _values("countries", values)
    for code in checked or ():
        if not COUNTRY_RE.match(code):
            raise InvalidInput(
                f"`countries` takes ISO 3166-1 alpha-2 codes (two upper-case letters, e.g. DE), "
                f"not {code!r}",
                field="countries",
            )
    return checked


def checked_goal_letters(values: Sequence[str] | None) -> tuple[str, ...] | None:
    """Validate goal letters: upper case, like country codes, so "e" is refused, not 0 rows."""
    checked = _values("goalLetters", values)
    for letter in checked or ():
        if letter not in GOAL_LETTERS:
            allowed = ", ".join(GOAL_LETTERS)
            raise InvalidInput(
                f"`goalLetters` takes the goal letters {allowed} (upper case), not {letter!r}",
                field="goalLetters",
            )
    return checked


def _argument(key: str) -> str:
    """The GraphQL name of a filter given by its Python name (org_classes -> orgClasses)."""
    head, *rest = key.split("_")
    return head + "".join(word.capitalize() for word in rest)


def build(
    kind: EntityKind,
    *,
    categories: Sequence[str] | None = None,
    country_codes: Sequence[str] | None = None,
    start_from: date | None = None,
    start_to: date | None = None,
    name_contains: str | None = None,
    goal_letters: Sequence[str] | None = None,
    range_args: tuple[str, str] = ("startFrom", "startTo"),
    dated: dates.DatesAsked | None = None,
    in_force: dates.InForceAsked | None = None,
    **extra: Any,
) -> EntityFilter:
    """Validate a client's filter and turn it into a repository filter.

    `range_args` are the GraphQL names of the date range, so errors name what was sent.
    """
    if start_from and start_to and start_from > start_to:
        low, high = range_args
        raise InvalidInput(f"`{low}` ({start_from}) is after `{high}` ({start_to})", field=low)
    if name_contains is not None and len(name_contains) > MAX_SEARCH_LENGTH:
        raise InvalidInput(
            f"`nameContains` is limited to {MAX_SEARCH_LENGTH} characters", field="nameContains"
        )
    fields: dict[str, Any] = {
        "categories": _values("categories", categories),
        "countries": countries(country_codes),
        "start_from": start_from,
        "start_to": start_to,
        "name_contains": name_contains or None,
        "goal_letters": checked_goal_letters(goal_letters),
        "dated": dates.date_range(kind, dated) if dated is not None else None,
        "in_force": dates.in_force(in_force) if in_force is not None else None,
    }
    for key, value in extra.items():
        is_list = isinstance(value, list | tuple)
        fields[key] = _values(_argument(key), [str(v) for v in value]) if is_list else value
    return EntityFilter(kind=kind, **fields)
