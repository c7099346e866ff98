"""Top-level list filters: each returns exactly the rows of the whole list that match it.

The expected rows are worked out here, in Python, from the fields of the unfiltered list, so
the SQL of every filter (binds, joins to detail tables, subqueries) is checked against what a
client reads, not against itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from soilapi.vocab import GOAL_LETTERS

Row = dict[str, Any]

ORGANIZATIONS = """
query($after: String, $categories: [OrganizationCategory!], $orgClasses: [OrganizationClass!],
      $countries: [String!], $international: Boolean, $nameContains: String) {
  organizations(first: 100, after: $after, categories: $categories, orgClasses: $orgClasses,
                countries: $countries, international: $international,
                nameContains: $nameContains) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { slug name country category orgClass isInternationalOrg }
  }
}
"""

OBJECTIVES = """
query($after: String, $goalLetters: [String!]) {
  strategicObjectives(first: 100, after: $after, goalLetters: $goalLetters) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { slug goalLetter }
  }
}
"""

AGREEMENTS = """
query($after: String, $countries: [String!], $instrumentTypes: [InstrumentType!],
      $activeOn: Date) {
  partnerAgreements(first: 100, after: $after, countries: $countries,
                    instrumentTypes: $instrumentTypes, activeOn: $activeOn) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      slug country
      instruments(first: 100) {
        nodes { instrumentType signed { iso } start { iso } end { iso } }
      }
    }
  }
}
"""

PROGRAMMES = """
query($after: String, $categories: [ProgrammeCategory!]) {
  programmes(first: 100, after: $after, categories: $categories) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { slug category }
  }
}
"""


async def walk(api: Any, query: str, field: str, **variables: Any) -> list[Row]:
    """Every row of a list, page by page; checks totalCount against the rows on the way."""
    rows: list[Row] = []
    after = None
    while True:
        page = (await api.data(query, {**variables, "after": after}))[field]
        rows += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            assert page["totalCount"] == len(rows), f"{field} {variables}: totalCount"
            return rows
        after = page["pageInfo"]["endCursor"]


def matching(rows: list[Row], keep: Callable[[Row], bool]) -> list[str]:
    return [r["slug"] for r in rows if keep(r)]


def slugs(rows: list[Row]) -> list[str]:
    return [r["slug"] for r in rows]


async def test_organization_filters_return_exactly_the_matching_rows(api: Any) -> None:
    everything = await walk(api, ORGANIZATIONS, "organizations")
    categories = sorted({r["category"] for r in everything if r["category"]})
    classes = sorted({r["orgClass"] for r in everything if r["orgClass"]})
    assert len(categories) > 5, "the seed data must exercise the filters"
    assert len(classes) >= 3
    cases: list[tuple[dict[str, Any], Callable[[Row], bool]]] = [
        ({"categories": categories[:2]}, lambda r: r["category"] in categories[:2]),
        ({"orgClasses": [classes[0]]}, lambda r: r["orgClass"] == classes[0]),
        ({"countries": ["DE", "FR"]}, lambda r: r["country"] in {"DE", "FR"}),
        ({"international": True}, lambda r: r["isInternationalOrg"] is True),
        ({"international": False}, lambda r: r["isInternationalOrg"] is False),
        ({"nameContains": "SOIL"}, lambda r: "soil" in r["name"].lower()),
        # LIKE's wildcards are plain characters to a client.
        ({"nameContains": "_"}, lambda r: "_" in r["name"]),
        ({"nameContains": "%"}, lambda r: "%" in r["name"]),
        (
            {"orgClasses": [classes[0]], "nameContains": "soil"},
            lambda r: r["orgClass"] == classes[0] and "soil" in r["name"].lower(),
        ),
    ]
    for variables, keep in cases:
        expected = matching(everything, keep)
        found = slugs(await walk(api, ORGANIZATIONS, "organizations", **variables))
        assert found == expected, variables
    assert any(matching(everything, keep) for _, keep in cases[:6]), "filters must keep rows"


async def test_goal_letters_filter_objectives(api: Any) -> None:
    everything = await walk(api, OBJECTIVES, "strategicObjectives")
    found = slugs(await walk(api, OBJECTIVES, "strategicObjectives", goalLetters=["A", "C"]))
    expected = matching(everything, lambda r: r["goalLetter"] in {"A", "C"})
    assert found == expected
    assert 0 < len(found) < len(everything)
    # The letters the filter accepts are exactly those the objectives have: each finds some.
    assert sorted({r["goalLetter"] for r in everything}) == list(GOAL_LETTERS)


def _day(iso: str | None) -> str | None:
    """A partial date as the day it stands for in SQL comparisons (its first day)."""
    if iso is None:
        return None
    parts = iso.split("-")
    return "-".join([*parts, *["01"] * (3 - len(parts))])


def _in_force(instrument: Row, day: str) -> bool:
    start = _day((instrument["start"] or instrument["signed"] or {}).get("iso"))
    end = _day((instrument["end"] or {}).get("iso")) or "9999-12-31"
    return start is not None and start <= day <= end


# A day inside two funding agreements, the last day of one (ends are inclusive), a day under
# several memoranda and open-ended grants, and a day before any instrument.
@pytest.mark.parametrize(
    ("day", "some"),
    [("2019-12-01", True), ("2020-06-20", True), ("2022-10-20", True), ("2018-01-01", False)],
)
async def test_agreements_in_force_on_a_day(api: Any, day: str, some: bool) -> None:
    everything = await walk(api, AGREEMENTS, "partnerAgreements")
    found = slugs(await walk(api, AGREEMENTS, "partnerAgreements", activeOn=day))
    expected = matching(
        everything, lambda r: any(_in_force(i, day) for i in r["instruments"]["nodes"])
    )
    assert found == expected
    assert bool(found) is some


def _types(agreement: Row) -> set[str]:
    return {i["instrumentType"] for i in agreement["instruments"]["nodes"]}


async def test_agreements_by_instrument_type_and_country(api: Any) -> None:
    everything = await walk(api, AGREEMENTS, "partnerAgreements")
    types = sorted({i["instrumentType"] for r in everything for i in r["instruments"]["nodes"]})
    assert len(types) >= 2
    for wanted in types:
        found = slugs(await walk(api, AGREEMENTS, "partnerAgreements", instrumentTypes=[wanted]))
        expected = [r["slug"] for r in everything if wanted in _types(r)]
        assert found == expected, wanted
        assert found
    found = slugs(
        await walk(api, AGREEMENTS, "partnerAgreements", countries=["DE"], instrumentTypes=types)
    )
    assert found == matching(everything, lambda r: r["country"] == "DE")
    assert found


async def test_programme_categories(api: Any) -> None:
    everything = await walk(api, PROGRAMMES, "programmes")
    categories = sorted({r["category"] for r in everything if r["category"]})
    assert categories
    found = slugs(await walk(api, PROGRAMMES, "programmes", categories=categories[:1]))
    assert found == matching(everything, lambda r: r["category"] == categories[0])
    assert found


# Filter values that would have matched nothing, or everything, without a word.
REFUSED = [
    # (query, argument, words the message must hold)
    ('{ strategicObjectives(goalLetters: ["e"]) { totalCount } }', "goalLetters",
     ["`goalLetters`", "A, B, C, D, E, F", "upper case", "'e'"]),
    ('{ strategicObjectives(goalLetters: ["A", "G"]) { totalCount } }', "goalLetters",
     ["`goalLetters`", "A, B, C, D, E, F", "'G'"]),
    ('{ strategicObjectives(goalLetters: ["A1"]) { totalCount } }', "goalLetters", ["'A1'"]),
    ('{ partnerAgreements(countries: ["fr"]) { totalCount } }', "countries",
     ["`countries`", "ISO 3166-1 alpha-2", "upper-case", "'fr'"]),
    ("{ strategicObjectives(goalLetters: []) { totalCount } }", "goalLetters",
     ["`goalLetters` is empty", "leave it out"]),
    ("{ organizations(countries: []) { totalCount } }", "countries", ["`countries` is empty"]),
    ("{ organizations(categories: []) { totalCount } }", "categories", ["`categories` is empty"]),
    ("{ organizations(orgClasses: []) { totalCount } }", "orgClasses", ["`orgClasses` is empty"]),
    ("{ programmes(categories: []) { totalCount } }", "categories", ["is empty"]),
    ("{ initiatives(categories: []) { totalCount } }", "categories", ["is empty"]),
    ("{ partnerAgreements(instrumentTypes: []) { totalCount } }", "instrumentTypes",
     ["`instrumentTypes` is empty"]),
    ("{ outputs(categories: []) { totalCount } }", "categories", ["is empty"]),
    ("{ events(categories: []) { totalCount } }", "categories", ["is empty"]),
    ("{ events(countries: []) { totalCount } }", "countries", ["is empty"]),
    ("{ places(categories: []) { totalCount } }", "categories", ["is empty"]),
    (f"{{ organizations(orgClasses: [{', '.join(['FORMAL'] * 51)}]) {{ totalCount }} }}",
     "orgClasses", ["`orgClasses` takes at most 50 values"]),
    ('{ outputs(publishedFrom: "2021-01-01", publishedTo: "2020-12-31") { totalCount } }',
     "publishedFrom", ["`publishedFrom` (2021-01-01) is after `publishedTo` (2020-12-31)"]),
]  # fmt: skip


@pytest.mark.parametrize(("query", "argument", "words"), REFUSED)
async def test_refused_filter_names_the_argument_and_what_it_takes(
    api: Any, query: str, argument: str, words: list[str]
) -> None:
    body = await api.post(query)
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": argument}, error
    root = query.split("(", 1)[0].strip("{ ")
    assert error["path"] == [root]
    for word in words:
        assert word in error["message"], (word, error["message"])


async def test_lower_case_goal_letters_are_refused_like_country_codes(api: Any) -> None:
    """`goalLetters` and `countries` take upper case alike; the upper-case letter works."""
    upper = await api.data('{ strategicObjectives(goalLetters: ["E"]) { totalCount } }')
    assert upper["strategicObjectives"]["totalCount"] == 3
    for query in (
        '{ strategicObjectives(goalLetters: ["e"]) { totalCount } }',
        '{ organizations(countries: ["de"]) { totalCount } }',
    ):
        [error] = (await api.post(query))["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "upper" in error["message"]
