"""Root lists' orders: each list's sort enum offers exactly the orders soilapi.services.listing
declares for it, every one of them sorts on something the records have, and an order a list
does not offer fails validation before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from soilapi.graphql.types.node import KINDS_BY_TYPE
from soilapi.services import listing
from soilapi.vocab import Order

Row = dict[str, Any]

ROOT_FIELDS = """
{
  __type(name: "Query") {
    fields {
      name
      type { ofType { name } }
      args { name type { kind name enumValues { name description } } }
    }
  }
}
"""

# Each root list's node type, and what else it is asked for so every order's key can be read.
LISTS: dict[str, tuple[str, str]] = {
    "organizations": ("Organization", ""),
    "programmes": ("Programme", ""),
    "initiatives": ("Initiative", ""),
    "facilities": ("Facility", "code"),
    "strategicObjectives": ("StrategicObjective", "label"),
    "partnerAgreements": ("PartnerAgreement", "ordinal"),
    "outputs": ("Output", ""),
    "events": ("Event", ""),
    "documents": ("Document", "symbol"),
    "people": ("Person", ""),
    "places": ("Place", ""),
}

LIST_PAGE = """
query($orderBy: {enum}, $descending: Boolean!) {{
  {field}(first: 100, orderBy: $orderBy, descending: $descending) {{
    totalCount
    nodes {{ slug name start {{ value }} {extra} }}
  }}
}}
"""

UNOFFERED = [
    "{ organizations(orderBy: CODE) { totalCount } }",
    "{ facilities(orderBy: START) { totalCount } }",
    "{ strategicObjectives(orderBy: ORDINAL) { totalCount } }",
    "{ partnerAgreements(orderBy: SYMBOL) { totalCount } }",
    "{ people(orderBy: START) { totalCount } }",
    "{ places(orderBy: START) { totalCount } }",
]
UNOFFERED_VARIABLE = "query($o: PersonOrder) { people(orderBy: $o) { totalCount } }"


def _start(node: Row) -> date | None:
    return date.fromisoformat(node["start"]["value"]) if node["start"] else None


# How to read an order's key off a node (None: the record has no value for it).
KEYS: dict[Order, Callable[[Row], Any]] = {
    Order.NAME: lambda node: node["name"],
    Order.START: _start,
    Order.CODE: lambda node: node["code"],
    Order.LABEL: lambda node: node["label"],
    Order.ORDINAL: lambda node: node["ordinal"],
    Order.SYMBOL: lambda node: node["symbol"],
}
TEXT_ORDERS = {Order.NAME, Order.CODE, Order.LABEL, Order.SYMBOL}


async def test_each_root_list_offers_the_orders_listing_declares(api: Any) -> None:
    fields = (await api.data(ROOT_FIELDS))["__type"]["fields"]
    seen = set()
    for field in fields:
        returned = (field["type"]["ofType"] or {}).get("name") or ""
        kind = KINDS_BY_TYPE.get(returned.removesuffix("Connection"))
        if not returned.endswith("Connection") or kind is None:
            continue
        seen.add(kind)
        args = {arg["name"]: arg["type"] for arg in field["args"]}
        assert "descending" in args, field["name"]
        order_type = args["orderBy"]
        assert order_type["kind"] == "ENUM", field["name"]
        assert order_type["name"] == f"{LISTS[field['name']][0]}Order"
        offered = [(v["name"], v["description"]) for v in order_type["enumValues"]]
        assert offered == [(o.name, text) for o, text in listing.ORDERS[kind].items()]
    assert seen == set(listing.ORDERS), "every root list, and only those, has its orders"


async def test_an_order_the_list_does_not_offer_fails_validation(api: Any) -> None:
    for query in UNOFFERED:
        body = await api.post(query)
        [error] = body["errors"]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", (query, error)
        assert "Order" in error["message"], "the message names the list's enum"
        assert body.get("data") is None, query
    body = await api.post(UNOFFERED_VARIABLE, {"o": "START"})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", error
    assert "PersonOrder" in error["message"]


def _sorted_with_missing_last(keys: list[Any]) -> bool:
    present = [k for k in keys if k is not None]
    return keys == present + [None] * (len(keys) - len(present)) and present == sorted(present)


@pytest.mark.parametrize("field", list(LISTS))
async def test_every_offered_order_sorts_on_values_the_records_have(api: Any, field: str) -> None:
    """The issue's bug: agreements accepted START and sorted on a column null for all 22."""
    type_name, extra = LISTS[field]
    kind = KINDS_BY_TYPE[type_name]
    query = LIST_PAGE.format(enum=f"{type_name}Order", field=field, extra=extra)
    for order in listing.ORDERS[kind]:
        ascending = (await api.data(query, {"orderBy": order.name, "descending": False}))[field]
        nodes = ascending["nodes"]
        assert len(nodes) == ascending["totalCount"], "the seed lists fit in one page"
        keys = [KEYS[order](node) for node in nodes]
        assert len({k for k in keys if k is not None}) >= min(2, len(nodes)), (field, order)
        if order not in TEXT_ORDERS:  # text follows the server's collation; dates and numbers
            assert _sorted_with_missing_last(keys), (field, order, keys)
        descending = (await api.data(query, {"orderBy": order.name, "descending": True}))[field]
        assert descending["nodes"] == nodes[::-1], "descending reverses the whole list"
