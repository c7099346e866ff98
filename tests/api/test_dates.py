"""One vocabulary of dates across lists: `dated: {from:, to:, on:}` and its overlap rule.

Every answer is checked on both engines (the `api` client compares the compiler's answer with
the resolvers'); the expected records are the seed's, as a user would read them.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

import pytest

from conftest import Api

Row = dict[str, Any]


def slugs(data: dict[str, Any], field: str) -> list[str]:
    return [node["slug"] for node in data[field]["nodes"]]


async def listed(api: Api, field: str, dated: str, extra: str = "") -> list[str]:
    query = f"{{ {field}(first: 100, dated: {dated}{extra}) {{ nodes {{ slug }} }} }}"
    return slugs(await api.data(query), field)


# (list, dated argument, the records, in the list's default order)
SEED_CASES = [
    # Outputs of 2021: three published in 2021 (one launched in 2021 too) and SoiLEX,
    # launched in January 2021. By name.
    ("outputs", '{from: "2021", to: "2021"}', [
        "global-assessment-of-soil-pollution-2021",
        "soil-biodiversity-symposium-outcome-document-2021",
        "soilex",
        "magical-world-of-soil-biodiversity",
    ]),
    # A YEAR date overlaps June 2021: the three published "2021"; SoiLEX's January does not.
    ("outputs", '{from: "2021-06", to: "2021-06"}', [
        "global-assessment-of-soil-pollution-2021",
        "soil-biodiversity-symposium-outcome-document-2021",
        "magical-world-of-soil-biodiversity",
    ]),
    ("outputs", '{from: "2021-06", to: "2021-06", on: [LAUNCHED]}',
     ["global-assessment-of-soil-pollution-2021"]),
    # A MONTH date lies within its year.
    ("outputs", '{from: "2021", to: "2021", on: [LAUNCHED]}',
     ["global-assessment-of-soil-pollution-2021", "soilex"]),
    ("organizations", '{from: "2021"}', ["inser", "aspir", "wbsp"]),
    ("organizations", '{from: "2013-11", to: "2013-11"}', ["easp", "esp"]),
    # April 2021: the symposium (19-22 April) and the two events known only as "2021".
    ("events", '{from: "2021-04", to: "2021-04"}', [
        "world-environment-day-2021", "unfss-2021", "global-symposium-soil-biodiversity-2021",
    ]),
    ("events", '{from: "2021-04-22", to: "2021-04-22", on: [END]}',
     ["global-symposium-soil-biodiversity-2021"]),
    ("events", '{from: "2021-04-23", on: [END]}', []),
    # Links4Soils ran 2016-2020; Global Soil Doctors was launched in October 2020.
    ("initiatives", '{from: "2016", to: "2020"}', ["global-soil-doctors", "links4soils"]),
    ("initiatives", "{on: [LAUNCHED]}", ["global-soil-doctors"]),
    ("programmes", '{to: "2000"}', ["alpine-convention", "interreg-alpine-space"]),
    ("documents", '{from: "2022"}', ["wbsp-mou-2022"]),
    # Agreements, by their instruments: signed or begun or ended in 2021.
    ("partnerAgreements", '{from: "2021", to: "2021"}', [
        "4p1000-partner-04", "4p1000-partner-05", "4p1000-partner-11", "4p1000-partner-17",
    ]),
    ("partnerAgreements", '{from: "2021", to: "2021", on: [SIGNED]}', ["4p1000-partner-11"]),
    ("partnerAgreements", '{from: "2021", to: "2021", on: [START]}',
     ["4p1000-partner-04", "4p1000-partner-05", "4p1000-partner-17"]),
    # The two one-year funding agreements of 2019, whose derived ends fell in 2020.
    ("partnerAgreements", '{from: "2020", to: "2020", on: [END]}',
     ["4p1000-partner-09", "4p1000-partner-16"]),
]  # fmt: skip


@pytest.mark.parametrize(("field", "dated", "expected"), SEED_CASES)
async def test_dated_lists_the_seed_records_of_the_range(
    api: Api, field: str, dated: str, expected: list[str]
) -> None:
    assert await listed(api, field, dated) == expected
    assert api.last_runs == {"compiled": 1}, "the compiler answers `dated` itself"


async def test_dated_combines_with_other_filters_and_orders(api: Api) -> None:
    found = await listed(
        api, "outputs", '{from: "2020", to: "2021"}', ", categories: [PROTOCOL], orderBy: START"
    )
    # Both published "2020": same first day, so by ID.
    assert found == ["ssm-assessment-protocol", "gsoc-mrv-protocol"]
    newest = await listed(api, "events", '{from: "2025"}', ", orderBy: START, descending: true")
    assert newest == ["inser-launch-rabat-2025", "gsp-plenary-assembly-2025-06"]


# --- the overlap rule, worked out in Python over every record ------------------------------

DATED_ROWS = """
query($after: String) {
  outputs(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { slug start { iso precision } launched { iso precision } end { iso precision } }
  }
}
"""
DATED_PAGE = """
query($after: String, $dated: DateFilter) {
  outputs(first: 100, after: $after, dated: $dated) {
    pageInfo { hasNextPage endCursor }
    nodes { slug }
  }
}
"""


def period(iso: str) -> tuple[date, date]:
    """A partial date's first and last day, from its ISO form."""
    parts = [int(part) for part in iso.split("-")]
    if len(parts) == 3:
        day = date(*parts)
        return day, day
    if len(parts) == 2:
        year, month = parts
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    return date(parts[0], 1, 1), date(parts[0], 12, 31)


def overlaps(value: Row | None, low: str | None, high: str | None) -> bool:
    if value is None:
        return False
    first, last = period(value["iso"])
    return (low is None or last >= period(low)[0]) and (high is None or first <= period(high)[1])


async def pages(api: Api, query: str, **variables: Any) -> list[Row]:
    rows: list[Row] = []
    after = None
    while True:
        page = (await api.data(query, {**variables, "after": after}))["outputs"]
        rows += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return rows
        after = page["pageInfo"]["endCursor"]


RANGES = [
    ("2020", "2020"), ("2021", None), (None, "2020-12-31"), ("2020-06", "2021-01"),
    ("2021-01-31", "2021-02"), ("2019", "2022"), ("2020-12-05", "2020-12-05"), (None, None),
]  # fmt: skip
FIELDS = {"PUBLISHED": "start", "LAUNCHED": "launched", "END": "end"}


@pytest.mark.parametrize(("low", "high"), RANGES)
async def test_sql_overlap_agrees_with_the_rule_on_every_output(
    api: Api, low: str | None, high: str | None
) -> None:
    """The SQL (period ends from precisions) against the rule worked out here from each
    date's ISO form, for every output and each date kind alone and together."""
    everything = await pages(api, DATED_ROWS)
    for on in (["PUBLISHED"], ["LAUNCHED"], ["END"], None):
        dated: dict[str, Any] = {"from": low, "to": high}
        if on is not None:
            dated["on"] = on
        found = [row["slug"] for row in await pages(api, DATED_PAGE, dated=dated)]
        fields = [FIELDS[kind] for kind in on or FIELDS]
        expected = [
            row["slug"]
            for row in everything
            if any(overlaps(row[field], low, high) for field in fields)
        ]
        assert found == expected, (low, high, on)


# --- the old arguments ---------------------------------------------------------------------

DEPRECATED = """
{
  __type(name: "Query") {
    fields { name args(includeDeprecated: true) { name isDeprecated deprecationReason } }
  }
}
"""


async def test_old_date_arguments_still_work_and_are_deprecated(api: Api) -> None:
    fields = (await api.data(DEPRECATED))["__type"]["fields"]
    deprecated = {
        (field["name"], arg["name"]): arg["deprecationReason"]
        for field in fields
        for arg in field["args"]
        if arg["isDeprecated"]
    }
    assert set(deprecated) == {
        ("organizations", "foundedFrom"),
        ("organizations", "foundedTo"),
        ("outputs", "publishedFrom"),
        ("outputs", "publishedTo"),
        ("events", "startFrom"),
        ("events", "startTo"),
        ("partnerAgreements", "activeOn"),
    }
    assert "dated" in deprecated["outputs", "publishedFrom"]
    assert "PUBLISHED" in deprecated["outputs", "publishedFrom"]
    assert "inForce" in deprecated["partnerAgreements", "activeOn"]
    old = '{ outputs(publishedFrom: "2021-01-01", publishedTo: "2021-12-31") { nodes { slug } } }'
    assert slugs(await api.data(old), "outputs") == [
        "global-assessment-of-soil-pollution-2021",
        "soil-biodiversity-symposium-outcome-document-2021",
        "magical-world-of-soil-biodiversity",
    ]


async def test_lists_with_dates_take_dated_and_the_others_do_not(api: Api) -> None:
    fields = (await api.data(DEPRECATED))["__type"]["fields"]
    taking = sorted(f["name"] for f in fields if any(a["name"] == "dated" for a in f["args"]))
    assert taking == [
        "documents",
        "events",
        "initiatives",
        "organizations",
        "outputs",
        "partnerAgreements",
        "programmes",
    ]


# --- refusals ------------------------------------------------------------------------------

REFUSED = [
    # (list, dated argument, extensions.field, words of the message)
    ("outputs", '{from: "2021-13"}', "dated.from", ["'2021-13'", "not a day of the calendar"]),
    ("outputs", '{to: "2021-02-30"}', "dated.to", ["'2021-02-30'", "not a day of the calendar"]),
    ("outputs", '{from: "yesterday"}', "dated.from", ["YYYY-MM-DD", "'yesterday'"]),
    ("outputs", '{from: "21"}', "dated.from", ["YYYY, YYYY-MM or YYYY-MM-DD"]),
    ("outputs", '{from: "0000"}', "dated.from", ["not a day of the calendar"]),
    ("outputs", '{from: "2021-1"}', "dated.from", ["YYYY, YYYY-MM or YYYY-MM-DD"]),
    ("outputs", '{from: "2021\\n"}', "dated.from", ["'2021\\n'"]),
    ("outputs", '{from: "2021\\u0007"}', "dated.from", ["YYYY, YYYY-MM or YYYY-MM-DD"]),
    ("outputs", '{from: "٢٠٢١"}', "dated.from", ["YYYY, YYYY-MM or YYYY-MM-DD"]),
    ("outputs", '{from: "2021-07", to: "2021-06"}', "dated.from",
     ["`dated.from` (2021-07) is after `dated.to` (2021-06)"]),
    ("outputs", "{on: []}", "dated.on", ["`dated.on` is empty"]),
    ("organizations", "{on: [LAUNCHED]}", "dated.on",
     ["organizations have no LAUNCHED date", "START, END"]),
    ("partnerAgreements", "{on: [PUBLISHED]}", "dated.on",
     ["partner agreements (through their agreement instruments) have no PUBLISHED date",
      "SIGNED, START, END"]),
]  # fmt: skip


@pytest.mark.parametrize(("field", "dated", "argument", "words"), REFUSED)
async def test_bad_dates_are_refused_with_a_coded_error(
    api: Api, field: str, dated: str, argument: str, words: list[str]
) -> None:
    body = await api.post(f"{{ {field}(dated: {dated}) {{ totalCount }} }}")
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": argument}, error
    assert error["path"] == [field]
    for word in words:
        assert word in error["message"], (word, error["message"])


async def test_a_nul_character_in_a_date_is_refused_before_anything_runs(api: Api) -> None:
    body = await api.post_raw(
        "query($d: DateFilter) { outputs(dated: $d) { totalCount } }",
        {"d": {"from": "2021\x00"}},
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "NUL" in error["message"]


# --- statements ----------------------------------------------------------------------------

MANY_LISTS = """
query($n: Int!) {
  outputs(first: $n, dated: {from: "2020"}) { totalCount nodes { slug launched { iso } } }
  partnerAgreements(first: $n, dated: {from: "2019"}) {
    nodes { slug instruments { nodes { signed { iso } } } }
  }
  events(first: $n, dated: {to: "2025"}) { nodes { slug } }
}
"""


async def test_dated_lists_cost_the_same_statements_whatever_their_size(engine_api: Api) -> None:
    small = await engine_api.data(MANY_LISTS, {"n": 1})
    few = engine_api.last_statements
    big = await engine_api.data(MANY_LISTS, {"n": 100})
    many = engine_api.last_statements
    assert len(big["outputs"]["nodes"]) == 12
    assert len(big["partnerAgreements"]["nodes"]) == 12
    assert len(big["events"]["nodes"]) == 10
    assert len(small["outputs"]["nodes"]) == 1
    # +1 in each: the rate limiter. Compiled: one statement per root field; resolvers: the
    # three pages, the outputs' count, the agreements' instruments.
    assert few == many == (4 if engine_api.name == "compiled" else 6)
