"""Root lists' orders: each list's sort enum offers exactly the orders soilapi.services.listing
declares for it, every one of them sorts on something the records have, and an order a list
does not offer fails validation before anything runs. Partner agreements sort on dates taken
from their instruments, worked out again here from the instruments a client reads.
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
    "partnerAgreements": (
        "PartnerAgreement",
        "ordinal instruments(first: 100) { nodes { signed { value } start { value } } }",
    ),
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


def _day(value: Row | None) -> date | None:
    return date.fromisoformat(value["value"]) if value else None


# How to read an order's key off a node (None: the record has no value for it).
KEYS: dict[Order, Callable[[Row], Any]] = {
    Order.NAME: lambda node: node["name"],
    Order.START: lambda node: _day(node["start"]),
    Order.CODE: lambda node: node["code"],
    Order.LABEL: lambda node: node["label"],
    Order.ORDINAL: lambda node: node["ordinal"],
    Order.SYMBOL: lambda node: node["symbol"],
}
TEXT_ORDERS = {Order.NAME, Order.CODE, Order.LABEL, Order.SYMBOL}


def signed_key(agreement: Row) -> date | None:
    """When an agreement was signed: the earliest signature among its instruments."""
    days = [_day(i["signed"]) for i in agreement["instruments"]["nodes"]]
    return min((d for d in days if d), default=None)


def start_key(agreement: Row) -> date | None:
    """When an agreement began: the earliest instrument start, or signature if it has none."""
    days = [_day(i["start"]) or _day(i["signed"]) for i in agreement["instruments"]["nodes"]]
    return min((d for d in days if d), default=None)


# Agreements have no dates of their own: their date orders read their instruments'.
AGREEMENT_KEYS = {Order.SIGNED: signed_key, Order.START: start_key}


async def test_each_root_list_offers_the_orders_listing_declares(api: Any) -> None:
    fields = (await api.data(ROOT_FIELDS))["__type"]["fields"]
    seen = set()
    for field in fields:
        returned = (field["type"]["ofType"] or {}).get("name") or ""
        # Root lists answer `<Type>FacetedConnection` (soilapi.graphql.facets).
        kind = KINDS_BY_TYPE.get(returned.removesuffix("FacetedConnection"))
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
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
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
        key = AGREEMENT_KEYS.get(order) if field == "partnerAgreements" else None
        keys = [(key or KEYS[order])(node) for node in nodes]
        assert len({k for k in keys if k is not None}) >= min(2, len(nodes)), (field, order)
        if order not in TEXT_ORDERS:  # text follows the server's collation; dates and numbers
            assert _sorted_with_missing_last(keys), (field, order, keys)
        descending = (await api.data(query, {"orderBy": order.name, "descending": True}))[field]
        if order in TEXT_ORDERS:
            assert descending["nodes"] == nodes[::-1], "descending reverses the whole list"
        else:  # a date order: newest first, and those without a date still last
            dated = sum(k is not None for k in keys)
            assert descending["nodes"] == nodes[:dated][::-1] + nodes[dated:][::-1]


AGREEMENTS = """
query($orderBy: PartnerAgreementOrder!, $descending: Boolean!, $first: Int, $after: String,
      $last: Int, $before: String) {
  partnerAgreements(orderBy: $orderBy, descending: $descending, first: $first, after: $after,
                    last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { slug instruments(first: 100) { nodes { signed { value } start { value } } } }
  }
}
"""


async def agreements(api: Any, order: str, **variables: Any) -> Row:
    variables = {"descending": False, **variables, "orderBy": order}
    page: Row = (await api.data(AGREEMENTS, variables))["partnerAgreements"]
    return page


def partners(nodes: list[Row]) -> list[str]:
    """The agreements' numbers in the "4 per 1000" list (slugs end with them)."""
    return [node["slug"].removeprefix("4p1000-partner-") for node in nodes]


@pytest.mark.parametrize(
    ("order", "key", "dated"),
    [
        # Signed: the eight funding agreements and MoUs, by their signature dates.
        ("SIGNED", signed_key, ["09", "16", "11", "12", "13", "14", "18", "15"]),
        # Started: #6's grant years (2020), #4's hosting and #17's invoice (both 2021, tied
        # and then in ID order), #5's grant (1.12.2021) join the signed ones.
        ("START", start_key, ["09", "16", "06", "04|17", "04|17", "11", "05", "12", "13",
                              "14", "18", "15"]),
    ],
)  # fmt: skip
async def test_agreements_by_instrument_dates(
    api: Any, order: str, key: Callable[[Row], date | None], dated: list[str]
) -> None:
    nodes = (await agreements(api, order, first=100))["nodes"]
    assert len(nodes) == 22
    keys = [key(node) for node in nodes]
    present = sorted(k for k in keys if k is not None)
    assert keys == present + [None] * (22 - len(present)), "dated first, by date; then undated"
    numbers = partners(nodes)
    assert len(present) == len(dated)
    for number, expected in zip(numbers, dated, strict=False):
        assert number in expected.split("|"), (numbers, dated)
    reverse = (await agreements(api, order, first=100, descending=True))["nodes"]
    count = len(dated)
    assert partners(reverse) == numbers[:count][::-1] + numbers[count:][::-1], (
        "descending: newest first, the undated still last"
    )


async def walk_forward(api: Any, order: str, descending: bool) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(10):
        page = await agreements(api, order, descending=descending, first=5, after=after)
        seen += partners(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("the walk does not end")


async def walk_backward(api: Any, order: str, descending: bool) -> list[str]:
    seen: list[str] = []
    before = None
    for _ in range(10):
        page = await agreements(api, order, descending=descending, last=5, before=before)
        seen = partners(page["nodes"]) + seen
        if not page["pageInfo"]["hasPreviousPage"]:
            return seen
        before = page["pageInfo"]["startCursor"]
    raise AssertionError("the walk does not end")


@pytest.mark.parametrize("order", ["SIGNED", "START"])
@pytest.mark.parametrize("descending", [False, True])
async def test_agreement_date_orders_page_both_ways(api: Any, order: str, descending: bool) -> None:
    """Cursors across dated and undated agreements, and across ties, in both directions."""
    whole = partners((await agreements(api, order, descending=descending, first=100))["nodes"])
    assert await walk_forward(api, order, descending) == whole
    assert await walk_backward(api, order, descending) == whole


async def test_date_order_cursors_belong_to_one_direction(api: Any) -> None:
    """Descending, an undated agreement's key differs (it sorts before every date, then the
    list is reversed), so a cursor of one direction is refused by the other."""
    newest = await agreements(api, "SIGNED", descending=True, first=10)
    cursor = newest["pageInfo"]["endCursor"]
    body = await api.post(AGREEMENTS, {"orderBy": "SIGNED", "descending": False, "after": cursor})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_CURSOR", error
    follow = await agreements(api, "SIGNED", descending=True, first=100, after=cursor)
    whole = await agreements(api, "SIGNED", descending=True, first=100)
    assert partners(newest["nodes"] + follow["nodes"]) == partners(whole["nodes"])
