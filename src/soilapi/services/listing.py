"""Rules for top-level lists: which filters and orders each kind accepts, and their limits."""

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from soilapi.errors import InvalidInput
from soilapi.repositories.entities import EntityFilter
from soilapi.vocab import EntityKind, Order

MAX_FILTER_VALUES = 50
MAX_SEARCH_LENGTH = 100
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")

ORDERS: dict[EntityKind, tuple[Order, ...]] = {
    EntityKind.FACILITY: (Order.CODE, Order.NAME),
    EntityKind.STRATEGIC_OBJECTIVE: (Order.LABEL, Order.NAME),
    EntityKind.PARTNER_AGREEMENT: (Order.ORDINAL, Order.NAME, Order.START),
    EntityKind.DOCUMENT: (Order.SYMBOL, Order.NAME, Order.START),
}
DEFAULT_ORDERS = (Order.NAME, Order.START)


def check_order(kind: EntityKind, order: Order) -> Order:
    """Reject sort keys the kind does not have (e.g. CODE on organisations)."""
    allowed = ORDERS.get(kind, DEFAULT_ORDERS)
    if order not in allowed:
        names = ", ".join(o.name for o in allowed)
        raise InvalidInput(
            f"this list can be ordered by {names}, not {order.name}", field="orderBy"
        )
    return order


def _values(name: str, values: Sequence[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidInput(f"`{name}` takes at most {MAX_FILTER_VALUES} values", field=name)
    return tuple(values)


def countries(values: Sequence[str] | None) -> tuple[str, ...] | None:
    """Validate ISO 3166-1 alpha-2 codes (upper case)."""
    checked = _values("countries", values)
    for code in checked or ():
        if not COUNTRY_RE.match(code):
            raise InvalidInput(
                f"{code!r} is not an ISO 3166-1 alpha-2 code (two upper-case letters, e.g. DE)",
                field="countries",
            )
    return checked


def build(
    kind: EntityKind,
    *,
    categories: Sequence[str] | None = None,
    country_codes: Sequence[str] | None = None,
    start_from: date | None = None,
    start_to: date | None = None,
    name_contains: str | None = None,
    range_args: tuple[str, str] = ("startFrom", "startTo"),
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
    }
    for key, value in extra.items():
        is_list = isinstance(value, list | tuple)
        fields[key] = _values(key, [str(v) for v in value]) if is_list else value
    return EntityFilter(kind=kind, **fields)
