"""Facets and agreement aggregates of the root lists, on the seed data, on both engines.

Every request through `engine_api` runs once with the SQL compiler (whose answers the `api`
client also compares with the resolvers') and once on the resolvers alone. The counts are the
seed's, as a user reads them: 49 organisations, 32 of them without a country and 10 in
France; the 4 per 1000 partners' 22 instruments, 4.9 FTE seconded, 2.5 of them in Germany.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import ROOT_LISTS as LISTS
from conftest import Api
from soilapi.graphql.types.node import TYPE_NAMES
from soilapi.services.facets import FACETS
from soilapi.services.listing import ORDERS

Bucket = tuple[str, str | None, int]

ORGANIZATIONS = """
query($countries: [String!], $fields: [FacetField!], $facetFirst: Int, $first: Int,
      $after: String, $last: Int) {
  organizations(countries: $countries, first: $first, after: $after, last: $last) {
    totalCount
    pageInfo { endCursor }
    nodes { slug }
    facets(fields: $fields, first: $facetFirst) { field value count }
  }
}
"""

OUTPUTS = """
query($from: Date, $categories: [OutputCategory!]) {
  outputs(publishedFrom: $from, categories: $categories, first: 1) {
    facets(fields: [YEAR, CATEGORY]) { field value count }
  }
}
"""

AGREEMENTS = """
query($countries: [String!], $instrumentTypes: [InstrumentType!], $activeOn: Date) {
  partnerAgreements(countries: $countries, instrumentTypes: $instrumentTypes,
                    activeOn: $activeOn, first: 2) {
    totalCount
    nodes { ordinal }
    facets(fields: [INSTRUMENT_TYPE, COUNTRY]) { field value count }
    aggregates { fte instruments byInstrumentType { instrumentType count } }
  }
}
"""


def buckets(facets: list[dict[str, Any]]) -> list[Bucket]:
    return [(f["field"], f["value"], f["count"]) for f in facets]


async def test_organisations_by_country(engine_api: Api) -> None:
    data = await engine_api.data(ORGANIZATIONS, {"fields": ["COUNTRY"]})
    assert buckets(data["organizations"]["facets"]) == [
        ("COUNTRY", None, 32),
        ("COUNTRY", "FR", 10),
        ("COUNTRY", "DE", 2),
        ("COUNTRY", "MA", 2),
        ("COUNTRY", "BJ", 1),
        ("COUNTRY", "ES", 1),
        ("COUNTRY", "IN", 1),
    ]


async def test_every_field_of_a_list_in_its_order_by_default(engine_api: Api) -> None:
    data = await engine_api.data(ORGANIZATIONS, {"countries": ["DE"]})
    assert buckets(data["organizations"]["facets"]) == [
        ("KIND", "ORGANIZATION", 2),
        ("COUNTRY", "DE", 2),
        # GIZ has no category in the sources.
        ("CATEGORY", "GOVERNMENT_MINISTRY", 1),
        ("CATEGORY", None, 1),
        ("YEAR", None, 2),
    ]


async def test_outputs_by_year_and_category(engine_api: Api) -> None:
    data = await engine_api.data(OUTPUTS)
    assert buckets(data["outputs"]["facets"]) == [
        ("YEAR", "2020", 7),
        ("YEAR", None, 5),
        ("YEAR", "2021", 3),
        ("CATEGORY", "REPORT", 3),
        ("CATEGORY", "PROTOCOL", 2),
        ("CATEGORY", "BOOK", 1),
        ("CATEGORY", "CAMPAIGN", 1),
        ("CATEGORY", "COMMUNICATION_MATERIAL", 1),
        ("CATEGORY", "COMPETITION", 1),
        ("CATEGORY", "DATABASE", 1),
        ("CATEGORY", "MAP", 1),
        ("CATEGORY", "OUTCOME_DOCUMENT", 1),
        ("CATEGORY", "SUMMARY_FOR_POLICYMAKERS", 1),
        ("CATEGORY", "TECHNICAL_GUIDELINES", 1),
        ("CATEGORY", "WEBINAR", 1),
    ]


async def test_facets_count_what_the_filters_keep(engine_api: Api) -> None:
    since_2021 = await engine_api.data(OUTPUTS, {"from": "2021-01-01"})
    assert buckets(since_2021["outputs"]["facets"]) == [
        ("YEAR", "2021", 3),
        ("CATEGORY", "BOOK", 1),
        ("CATEGORY", "OUTCOME_DOCUMENT", 1),
        ("CATEGORY", "REPORT", 1),
    ]
    reports = await engine_api.data(OUTPUTS, {"categories": ["REPORT", "PROTOCOL"]})
    assert buckets(reports["outputs"]["facets"]) == [
        ("YEAR", "2020", 3),
        ("YEAR", "2021", 1),
        ("YEAR", None, 1),
        ("CATEGORY", "REPORT", 3),
        ("CATEGORY", "PROTOCOL", 2),
    ]
    french = await engine_api.data(ORGANIZATIONS, {"countries": ["FR"], "fields": ["CATEGORY"]})
    assert buckets(french["organizations"]["facets"]) == [
        ("CATEGORY", None, 5),
        ("CATEGORY", "COMPANY", 2),
        ("CATEGORY", "FOUNDATION", 1),
        ("CATEGORY", "GOVERNMENT_MINISTRY", 1),
        ("CATEGORY", "REGIONAL_GOVERNMENT", 1),
    ]


async def test_facets_ignore_pagination(engine_api: Api) -> None:
    whole = await engine_api.data(ORGANIZATIONS, {"first": 100, "facetFirst": 100})
    everything = whole["organizations"]
    assert len(everything["nodes"]) == everything["totalCount"] == 49
    first = await engine_api.data(ORGANIZATIONS, {"first": 1, "facetFirst": 100})
    cursor = first["organizations"]["pageInfo"]["endCursor"]
    later = await engine_api.data(ORGANIZATIONS, {"first": 3, "after": cursor, "facetFirst": 100})
    tail = await engine_api.data(ORGANIZATIONS, {"last": 2, "facetFirst": 100})
    for page in (first, later, tail):
        assert page["organizations"]["facets"] == everything["facets"]
    assert [n["slug"] for n in later["organizations"]["nodes"]] == [
        n["slug"] for n in everything["nodes"][1:4]
    ]
    # Each single-valued field's counts add up to the list's total, when all are kept.
    assert count_by_field(everything["facets"]) == {
        "KIND": 49,
        "COUNTRY": 49,
        "CATEGORY": 49,
        "YEAR": 49,
    }
    # 25 categories and none: the default 20 values per field leave out six categories of
    # one organisation each.
    default = await engine_api.data(ORGANIZATIONS, {"fields": ["CATEGORY"]})
    kept = default["organizations"]["facets"]
    assert len(kept) == 20
    assert count_by_field(kept) == {"CATEGORY": 43}
    assert kept == [b for b in everything["facets"] if b["field"] == "CATEGORY"][:20]


def count_by_field(facets: list[dict[str, Any]]) -> dict[str, int]:
    """The sum of the counts of each field."""
    totals: dict[str, int] = {}
    for field, _, count in buckets(facets):
        totals[field] = totals.get(field, 0) + count
    return totals


async def test_first_keeps_the_most_frequent_values_of_each_field(engine_api: Api) -> None:
    data = await engine_api.data(ORGANIZATIONS, {"fields": ["YEAR", "COUNTRY"], "facetFirst": 2})
    assert buckets(data["organizations"]["facets"]) == [
        ("YEAR", None, 42),
        ("YEAR", "2013", 2),
        ("COUNTRY", None, 32),
        ("COUNTRY", "FR", 10),
    ]
    none = await engine_api.data(ORGANIZATIONS, {"fields": ["KIND"], "facetFirst": 0})
    assert none["organizations"]["facets"] == []


async def test_agreements_by_instrument_type_and_their_totals(engine_api: Api) -> None:
    data = (await engine_api.data(AGREEMENTS))["partnerAgreements"]
    assert data["totalCount"] == 22
    assert buckets(data["facets"]) == [
        # Agreements having an instrument of each type: #6 has two grant agreements.
        ("INSTRUMENT_TYPE", "MEMORANDUM_OF_UNDERSTANDING", 5),
        ("INSTRUMENT_TYPE", "GRANT_AGREEMENT", 4),
        ("INSTRUMENT_TYPE", "SECONDMENT", 4),
        ("INSTRUMENT_TYPE", "FUNDING_AGREEMENT", 3),
        ("INSTRUMENT_TYPE", "PREMISES", 2),
        ("INSTRUMENT_TYPE", "HOSTING_AGREEMENT", 1),
        ("INSTRUMENT_TYPE", "INVOICE", 1),
        ("INSTRUMENT_TYPE", "MEMORANDUM_OF_AGREEMENT", 1),
        ("COUNTRY", "FR", 10),
        ("COUNTRY", None, 6),
        ("COUNTRY", "DE", 2),
        ("COUNTRY", "BJ", 1),
        ("COUNTRY", "ES", 1),
        ("COUNTRY", "IN", 1),
        ("COUNTRY", "MA", 1),
    ]
    # The instruments themselves: five grant agreements.
    assert data["aggregates"] == {
        "fte": 4.9,
        "instruments": 22,
        "byInstrumentType": [
            {"instrumentType": "GRANT_AGREEMENT", "count": 5},
            {"instrumentType": "MEMORANDUM_OF_UNDERSTANDING", "count": 5},
            {"instrumentType": "SECONDMENT", "count": 4},
            {"instrumentType": "FUNDING_AGREEMENT", "count": 3},
            {"instrumentType": "PREMISES", "count": 2},
            {"instrumentType": "HOSTING_AGREEMENT", "count": 1},
            {"instrumentType": "INVOICE", "count": 1},
            {"instrumentType": "MEMORANDUM_OF_AGREEMENT", "count": 1},
        ],
    }


async def test_fte_of_the_partners_in_germany(engine_api: Api) -> None:
    data = (await engine_api.data(AGREEMENTS, {"countries": ["DE"]}))["partnerAgreements"]
    # Partner 3 seconds 2.5 FTE; partner 5 has a grant agreement.
    assert [n["ordinal"] for n in data["nodes"]] == [3, 5]
    assert data["aggregates"] == {
        "fte": 2.5,
        "instruments": 2,
        "byInstrumentType": [
            {"instrumentType": "GRANT_AGREEMENT", "count": 1},
            {"instrumentType": "SECONDMENT", "count": 1},
        ],
    }
    assert buckets(data["facets"]) == [
        ("INSTRUMENT_TYPE", "GRANT_AGREEMENT", 1),
        ("INSTRUMENT_TYPE", "SECONDMENT", 1),
        ("COUNTRY", "DE", 2),
    ]


async def test_aggregates_take_every_instrument_of_the_agreements_kept(engine_api: Api) -> None:
    data = await engine_api.data(AGREEMENTS, {"instrumentTypes": ["SECONDMENT"]})
    agreements = data["partnerAgreements"]
    # Partners 1 and 2 second staff and have grant agreements too; 3 and 7 only second.
    assert agreements["totalCount"] == 4
    assert agreements["aggregates"] == {
        "fte": 4.9,
        "instruments": 6,
        "byInstrumentType": [
            {"instrumentType": "SECONDMENT", "count": 4},
            {"instrumentType": "GRANT_AGREEMENT", "count": 2},
        ],
    }
    nothing = await engine_api.data(AGREEMENTS, {"countries": ["JP"]})
    assert nothing["partnerAgreements"]["facets"] == []
    assert nothing["partnerAgreements"]["aggregates"] == {
        "fte": 0,
        "instruments": 0,
        "byInstrumentType": [],
    }


async def test_in_force_agreements_are_counted_as_the_list_keeps_them(engine_api: Api) -> None:
    data = await engine_api.data(AGREEMENTS, {"activeOn": "2023-01-01"})
    agreements = data["partnerAgreements"]
    # Partners 4, 5, 6, 11-15, 17 and 18: partner 4's undated MoA comes with its hosting
    # agreement, in force since 2021.
    assert agreements["totalCount"] == 10
    assert buckets(agreements["facets"]) == [
        ("INSTRUMENT_TYPE", "MEMORANDUM_OF_UNDERSTANDING", 5),
        ("INSTRUMENT_TYPE", "GRANT_AGREEMENT", 2),
        ("INSTRUMENT_TYPE", "FUNDING_AGREEMENT", 1),
        ("INSTRUMENT_TYPE", "HOSTING_AGREEMENT", 1),
        ("INSTRUMENT_TYPE", "INVOICE", 1),
        ("INSTRUMENT_TYPE", "MEMORANDUM_OF_AGREEMENT", 1),
        ("COUNTRY", "FR", 4),
        ("COUNTRY", None, 2),
        ("COUNTRY", "BJ", 1),
        ("COUNTRY", "DE", 1),
        ("COUNTRY", "IN", 1),
        ("COUNTRY", "MA", 1),
    ]
    assert agreements["aggregates"] == {
        "fte": 0,
        "instruments": 12,
        "byInstrumentType": [
            {"instrumentType": "MEMORANDUM_OF_UNDERSTANDING", "count": 5},
            {"instrumentType": "GRANT_AGREEMENT", "count": 3},
            {"instrumentType": "FUNDING_AGREEMENT", "count": 1},
            {"instrumentType": "HOSTING_AGREEMENT", "count": 1},
            {"instrumentType": "INVOICE", "count": 1},
            {"instrumentType": "MEMORANDUM_OF_AGREEMENT", "count": 1},
        ],
    }


async def test_each_list_offers_the_facets_declared_for_its_kind(engine_api: Api) -> None:
    assert set(LISTS) == set(ORDERS) == set(FACETS), "every root list has its facets"
    query = " ".join(
        f"{name}: {name}(first: 0) {{ __typename facets {{ field }} }}" for name in LISTS.values()
    )
    data = await engine_api.data(f"{{ {query} }}")
    for kind, name in LISTS.items():
        assert data[name]["__typename"] == f"{TYPE_NAMES[kind]}FacetedConnection"
        fields = list(dict.fromkeys(f["field"] for f in data[name]["facets"]))
        assert fields == [facet.name for facet in FACETS[kind]], name


ONLY_TYPENAME = """
{ partnerAgreements(first: 0) {
    facets(fields: KIND) { __typename value }
    aggregates { __typename }
} }
"""


async def test_type_names_alone(engine_api: Api) -> None:
    data = await engine_api.data(ONLY_TYPENAME)
    assert data == {
        "partnerAgreements": {
            "facets": [{"__typename": "Facet", "value": "PARTNER_AGREEMENT"}],
            "aggregates": {"__typename": "AgreementAggregates"},
        }
    }


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        (
            "{ partnerAgreements { facets(fields: [COUNTRY, CATEGORY]) { value } } }",
            "BAD_USER_INPUT",
            "the PARTNER_AGREEMENT list has no CATEGORY facet; it offers KIND, COUNTRY, "
            "INSTRUMENT_TYPE and YEAR",
        ),
        (
            "{ strategicObjectives { facets(fields: [YEAR, COUNTRY]) { value } } }",
            "BAD_USER_INPUT",
            "the STRATEGIC_OBJECTIVE list has no YEAR and COUNTRY facet; it offers KIND",
        ),
        (
            "{ organizations { facets(fields: []) { value } } }",
            "BAD_USER_INPUT",
            "`fields` is empty: name at least one facet, or leave it out for every facet of "
            "the list (KIND, COUNTRY, CATEGORY and YEAR)",
        ),
        (
            "{ organizations { facets(first: 101) { value } } }",
            "PAGE_SIZE_EXCEEDED",
            "`first` is 101, more than the limit of 100 items per page: ask for fewer values "
            "per field (the most frequent come first)",
        ),
        (
            "{ organizations { facets(first: -1) { value } } }",
            "BAD_USER_INPUT",
            "`first` must be zero or more, got -1",
        ),
    ],
)
async def test_bad_facet_arguments_are_refused(
    engine_api: Api, query: str, code: str, message: str
) -> None:
    body = await engine_api.post(query)
    [error] = body["errors"]
    assert error["extensions"]["code"] == code
    assert error["message"] == message
    assert error["path"][-1] == "facets"
    assert body["data"] is None


async def test_a_facet_no_list_has_fails_validation(engine_api: Api) -> None:
    body = await engine_api.post("{ organizations { facets(fields: [COLOUR]) { value } } }")
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_facets_and_aggregates_are_compiled(api: Api) -> None:
    await api.data(AGREEMENTS.replace("totalCount", "count: totalCount"), {"countries": ["DE"]})
    assert api.last_runs == {"compiled": 1}
    # The rate limiter's statement, then one statement for the root field.
    assert api.last_statements == 2


async def test_new_variables_reuse_the_plan_with_their_own_facets(api: Api) -> None:
    years = await api.data(ORGANIZATIONS, {"fields": ["YEAR"], "facetFirst": 1})
    countries = await api.data(ORGANIZATIONS, {"fields": ["COUNTRY"], "facetFirst": 3})
    assert buckets(years["organizations"]["facets"]) == [("YEAR", None, 42)]
    assert buckets(countries["organizations"]["facets"]) == [
        ("COUNTRY", None, 32),
        ("COUNTRY", "FR", 10),
        ("COUNTRY", "DE", 2),
    ]
    # The second is the first's plan with other binds, run without graphql-core's execution:
    # the rate limiter's statement and the root field's.
    assert api.last_runs == {}
    assert api.last_statements == 2


# Three root lists with facets, totals and nested lists; `$n` pages, `$k` values per facet.
DASHBOARD = """
query($n: Int!, $k: Int!) {
  organizations(first: $n) {
    totalCount
    nodes { slug children(first: $n) { nodes { slug } } }
    facets(first: $k) { field value count }
  }
  outputs(first: $n) { nodes { slug } facets(first: $k) { field value count } }
  partnerAgreements(first: $n) {
    nodes { ordinal instruments(first: $n) { nodes { instrumentType } } }
    facets(first: $k) { field value count }
    aggregates { fte instruments byInstrumentType { instrumentType count } }
  }
}
"""


def answered(data: dict[str, Any]) -> int:
    """How many records and facet values an answer of DASHBOARD holds."""
    orgs, outputs, agreements = (
        data[name] for name in ("organizations", "outputs", "partnerAgreements")
    )
    count = sum(1 + len(o["children"]["nodes"]) for o in orgs["nodes"])
    count += len(outputs["nodes"]) + sum(
        1 + len(a["instruments"]["nodes"]) for a in agreements["nodes"]
    )
    return count + sum(len(d["facets"]) for d in (orgs, outputs, agreements))


async def test_statements_stay_the_same_whatever_the_rows(engine_api: Api) -> None:
    small = await engine_api.data(DASHBOARD, {"n": 1, "k": 1})
    few = engine_api.last_statements
    big = await engine_api.data(DASHBOARD, {"n": 50, "k": 100})
    many = engine_api.last_statements
    print(
        f"\n{engine_api.name}: {answered(small)} records and values -> {few} statements; "
        f"{answered(big)} -> {many}"
    )
    assert answered(big) > 10 * answered(small)
    # The rate limiter, then compiled: one statement per root field; resolvers: the three
    # pages, the count, the children and instruments (one each, batched), the three facets
    # and the totals.
    expected = 1 + (3 if engine_api.name == "compiled" else 10)
    assert few == many == expected


async def test_facets_and_totals_are_priced_once_per_list(api: Api) -> None:
    body = await api.post(
        "{ organizations(first: 10) { nodes { slug }"
        " facets(fields: [COUNTRY, YEAR], first: 5) { value } } }"
    )
    # The page's 10 organisations and 5 values of 2 facets, in 2 statements.
    assert body["extensions"]["cost"]["maxNodes"] == 10 + 2 * 5
    assert body["extensions"]["cost"]["pageRequests"] == 2
    body = await api.post("{ organizations(first: 10) { facets { value } } }")
    # Without `fields` and `first`: 20 values of each of the 5 fields a list may have.
    assert body["extensions"]["cost"]["maxNodes"] == 10 + 5 * 20
    body = await api.post(
        "{ partnerAgreements(first: 10) { aggregates { fte byInstrumentType { count } } } }"
    )
    # The page, the totals and at most one count per instrument type (8).
    assert body["extensions"]["cost"]["maxNodes"] == 10 + 1 + 8
    assert body["extensions"]["cost"]["pageRequests"] == 3


README_AGREEMENTS = """
{ partnerAgreements(countries: ["DE"], first: 10) { totalCount nodes { name }
    facets(fields: [INSTRUMENT_TYPE, YEAR]) { field value count }
    aggregates { fte instruments byInstrumentType { instrumentType count } } } }
"""
README_COUNTS = """
{ organizations(first: 0) { facets(fields: [COUNTRY]) { value count } }
  outputs(first: 0) { facets(fields: YEAR) { value count } } }
"""


async def test_the_readme_examples(engine_api: Api) -> None:
    agreements = (await engine_api.data(README_AGREEMENTS))["partnerAgreements"]
    assert agreements["totalCount"] == 2
    assert buckets(agreements["facets"]) == [
        ("INSTRUMENT_TYPE", "GRANT_AGREEMENT", 1),
        ("INSTRUMENT_TYPE", "SECONDMENT", 1),
        ("YEAR", "2021", 1),
        ("YEAR", None, 1),
    ]
    assert (agreements["aggregates"]["fte"], agreements["aggregates"]["instruments"]) == (2.5, 2)
    counts = await engine_api.data(README_COUNTS)
    values = {name: [(f["value"], f["count"]) for f in counts[name]["facets"]] for name in counts}
    assert values == {
        "organizations": [
            (None, 32),
            ("FR", 10),
            ("DE", 2),
            ("MA", 2),
            ("BJ", 1),
            ("ES", 1),
            ("IN", 1),
        ],
        "outputs": [("2020", 7), (None, 5), ("2021", 3)],
    }
