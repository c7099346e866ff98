"""`timeline(from:, to:, on:, kinds:)`: everything dated in a period, in date order.

The SQL compiler answers it (one statement with the count and the records); the `api`
client compares each answer with the resolvers'.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import make_url

from conftest import Api

TIMELINE = """
query($from: String, $to: String, $on: [DateKind!], $kinds: [EntityKind!], $first: Int,
      $after: String, $last: Int, $before: String) {
  timeline(from: $from, to: $to, on: $on, kinds: $kinds, first: $first, after: $after,
           last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { dateKind date { iso precision } record { __typename slug } } }
  }
}
"""

# Everything the seed dates in 2021, in the timeline's order: first day, then DateKind
# (SIGNED, START, LAUNCHED, PUBLISHED, END), then record ID. Among them: ASPir's establishment,
# SoiLEX's launch, the Global Symposium on Soil Biodiversity, the outputs of 2021, and the
# agreements signed or begun in 2021 (their instruments: the CGIAR hosting agreement since
# 1.1.2021, McDonald's invoice of 2021, AFRIS's MoU signed 1 Sept. 2021, GIZ's grant from
# 1.12.2021).
YEAR_2021 = [
    ("START", "2021-01-01", "4p1000-partner-04-i2"),
    ("START", "2021", "4p1000-partner-17-i1"),
    ("START", "2021", "world-environment-day-2021"),
    ("START", "2021", "unfss-2021"),
    ("LAUNCHED", "2021-01", "soilex"),
    ("LAUNCHED", "2021", "global-assessment-of-soil-pollution-2021"),
    ("PUBLISHED", "2021", "soil-biodiversity-symposium-outcome-document-2021"),
    ("PUBLISHED", "2021", "magical-world-of-soil-biodiversity"),
    ("PUBLISHED", "2021", "global-assessment-of-soil-pollution-2021"),
    ("START", "2021-04-19", "global-symposium-soil-biodiversity-2021"),
    ("END", "2021-04-22", "global-symposium-soil-biodiversity-2021"),
    ("START", "2021-05-27", "aspir"),
    ("SIGNED", "2021-09-01", "4p1000-partner-11-i1"),
    ("START", "2021-12-01", "4p1000-partner-05-i1"),
]

Entry = tuple[str, str, str]


def entries(page: dict[str, Any]) -> list[Entry]:
    return [
        (e["node"]["dateKind"], e["node"]["date"]["iso"], e["node"]["record"]["slug"])
        for e in page["edges"]
    ]


async def timeline(api: Api, **variables: Any) -> dict[str, Any]:
    page: dict[str, Any] = (await api.data(TIMELINE, variables))["timeline"]
    return page


async def test_2021_holds_exactly_what_the_seed_dates_in_2021(api: Api) -> None:
    page = await timeline(api, **{"from": "2021", "to": "2021", "first": 100})
    assert entries(page) == YEAR_2021
    assert page["totalCount"] == len(YEAR_2021)
    assert page["pageInfo"]["hasNextPage"] is False
    kinds = {e["node"]["record"]["slug"]: e["node"]["record"]["__typename"] for e in page["edges"]}
    assert kinds["aspir"] == "Organization"
    assert kinds["4p1000-partner-11-i1"] == "AgreementInstrument"
    assert api.last_runs == {"compiled": 1}, "the compiler answers the timeline"


async def test_pages_forward_and_backward_walk_the_same_entries(api: Api) -> None:
    year = {"from": "2021", "to": "2021"}
    forward: list[Entry] = []
    after = None
    while True:
        page = await timeline(api, **year, first=4, after=after)
        forward += entries(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert forward == YEAR_2021
    backward: list[Entry] = []
    before = None
    while True:
        page = await timeline(api, **year, last=5, before=before)
        backward = entries(page) + backward
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backward == YEAR_2021
    middle = await timeline(api, **year, first=3, after=(await timeline(api, **year, first=9))[
        "pageInfo"]["endCursor"])  # fmt: skip
    assert entries(middle) == YEAR_2021[9:12]
    assert middle["pageInfo"]["hasPreviousPage"] is True


async def test_a_partial_date_matches_a_period_it_overlaps(api: Api) -> None:
    """June 2021 holds the dates known only as "2021" (they may be in June), and nothing
    else of the seed: no event, launch or signature is dated in June 2021."""
    page = await timeline(api, **{"from": "2021-06", "to": "2021-06", "first": 100})
    assert entries(page) == [entry for entry in YEAR_2021 if entry[1] == "2021"]


async def test_kinds_and_dates_narrow_the_timeline(api: Api) -> None:
    page = await timeline(
        api, **{"from": "2021", "to": "2021", "kinds": ["AGREEMENT_INSTRUMENT"], "first": 100}
    )
    assert entries(page) == [e for e in YEAR_2021 if e[2].startswith("4p1000-partner-")]
    page = await timeline(api, on=["LAUNCHED"], first=100)
    assert entries(page) == [
        ("LAUNCHED", "2020", "state-of-knowledge-soil-biodiversity-2020"),
        ("LAUNCHED", "2020", "sok-soil-biodiversity-summary-for-policymakers"),
        ("LAUNCHED", "2020-10", "global-soil-doctors"),
        ("LAUNCHED", "2021-01", "soilex"),
        ("LAUNCHED", "2021", "global-assessment-of-soil-pollution-2021"),
    ]
    page = await timeline(api, **{"to": "1999", "first": 100})
    assert entries(page) == [("START", "1991", "alpine-convention")]


async def test_the_whole_timeline_has_every_date_of_the_seed(api: Api) -> None:
    """Without bounds: every date of every dated kind, once, in date order."""
    seen: list[Entry] = []
    after = None
    while True:
        page = await timeline(api, first=100, after=after)
        seen += entries(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert page["totalCount"] == len(seen) == len(set(seen))
    firsts = [first_day(iso) for _, iso, _ in seen]
    assert firsts == sorted(firsts)
    # Counted in the seed files: 38 starts (10 of them outputs' publications), 11 ends,
    # 5 launches, 8 signatures.
    assert len(seen) == 62
    assert sum(kind == "PUBLISHED" for kind, _, _ in seen) == 10


def first_day(iso: str) -> str:
    """The first day of a partial date's period, as ISO text: "2021-06" → "2021-06-01"."""
    return iso + "-01-01"[: 10 - len(iso)] if len(iso) < 10 else iso


REFUSED = [
    ({"from": "2021-13"}, "from", ["not a day of the calendar"]),
    ({"to": "later"}, "to", ["YYYY, YYYY-MM or YYYY-MM-DD", "'later'"]),
    ({"from": "2022", "to": "2021"}, "from", ["`from` (2022) is after `to` (2021)"]),
    ({"kinds": ["FACILITY"]}, "kinds",
     ["FACILITY records have no dates of their own", "the timeline lists ORGANIZATION"]),
    ({"kinds": ["PARTNER_AGREEMENT"]}, "kinds",
     ["PARTNER_AGREEMENT records have no dates", "(ask for AGREEMENT_INSTRUMENT: theirs)"]),
    ({"kinds": []}, "kinds", ["`kinds` is empty"]),
    ({"on": []}, "on", ["`on` is empty"]),
    ({"kinds": ["EVENT"], "on": ["SIGNED"]}, "on", ["have no SIGNED date", "START, END"]),
    ({"first": 101}, "first", ["more than the limit of 100"]),
    ({"after": "not-a-cursor"}, None, ["malformed"]),
]  # fmt: skip


@pytest.mark.parametrize(("variables", "field", "words"), REFUSED)
async def test_bad_arguments_get_a_coded_error(
    api: Api, variables: dict[str, Any], field: str | None, words: list[str]
) -> None:
    body = await api.post(TIMELINE, variables)
    [error] = body["errors"]
    assert error["path"] == ["timeline"]
    assert error["extensions"].get("field") == field
    assert error["extensions"]["code"] in {"BAD_USER_INPUT", "PAGE_SIZE_EXCEEDED", "INVALID_CURSOR"}
    for word in words:
        assert word in error["message"], (word, error["message"])


async def test_a_cursor_of_another_list_is_refused(api: Api) -> None:
    other = await api.data("{ outputs(first: 1) { pageInfo { endCursor } } }")
    body = await api.post(TIMELINE, {"after": other["outputs"]["pageInfo"]["endCursor"]})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_CURSOR"


async def test_the_cost_model_counts_its_page(api: Api) -> None:
    body = await api.post(
        "{ timeline(first: 50) { nodes { record { ... on Organization { "
        "children(first: 10) { nodes { slug } } } } } } }"
    )
    assert body["extensions"]["cost"]["maxNodes"] == 50 + 50 * 10


SHALLOW = """
query($n: Int!) {
  timeline(first: $n) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { dateKind date { iso precision } record { slug name
      ... on Organization { parent { slug } } sources(first: 2) { nodes { quote } } } } }
  }
}
"""

DEEP = """
query($n: Int!) {
  timeline(first: $n) {
    totalCount
    nodes {
      dateKind
      date { iso }
      record {
        slug
        sources(first: 2) { nodes { quote document { key } } }
        ... on AgreementInstrument { agreement { slug } inForceOn(date: "2022-01-01") { value } }
        ... on Organization { parent { slug } }
      }
    }
  }
}
"""


async def test_the_compiler_answers_in_one_statement(engine_api: Api) -> None:
    small = await engine_api.data(SHALLOW, {"n": 2})
    few = engine_api.last_statements
    big = await engine_api.data(SHALLOW, {"n": 100})
    many = engine_api.last_statements
    assert len(big["timeline"]["edges"]) == 62
    # +1: the rate limiter. Compiled: one statement (page, records, their parents and
    # sources, the count). Resolvers: the page, its count, the records, parents, sources.
    bound = 2 if engine_api.name == "compiled" else 6
    assert few <= many == bound
    assert len(small["timeline"]["edges"]) == 2


async def test_statements_do_not_grow_with_the_page(engine_api: Api) -> None:
    """With `inForceOn` (resolvers only) in it, the query runs on the resolvers."""
    small = await engine_api.data(DEEP, {"n": 2})
    few = engine_api.last_statements
    big = await engine_api.data(DEEP, {"n": 100})
    many = engine_api.last_statements
    assert len(small["timeline"]["nodes"]) == 2
    assert len(big["timeline"]["nodes"]) == 62
    # +1: the rate limiter. The page, its count, the records, their sources, the sources'
    # documents, the instruments' agreements, their in-force answers, the parents: each one
    # statement, on both engines (the resolvers answer the timeline). A small page reaches
    # fewer kinds of record, so it may skip some.
    assert few <= many == 9


PAGE_ONLY = """
query($from: String, $to: String, $first: Int, $last: Int) {
  timeline(from: $from, to: $to, first: $first, last: $last) {
    edges { cursor node { dateKind record { slug } } }
  }
}
"""


async def test_every_branch_is_read_in_index_order(api: Api, database_url: str) -> None:
    """With sorts and sequential scans switched off, the page's plan still reads every
    branch from an index, merged in order: no Sort and no Seq Scan node, only the Merge
    Append's incremental sort of entries with the same first day."""
    sent = [
        statement
        for variables in ({"from": "2021-03", "first": 5}, {"to": "2021", "last": 5})
        for statement in await api.statements(PAGE_ONLY, variables)
    ]
    # Each page's SQL twice: the compiler's statement (the page inside the JSON answer) and
    # the resolvers' reference answer.
    pages = {sql: args for sql, args in sent if "UNION ALL" in sql and "LIMIT" in sql}
    assert len(pages) == 4
    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    conn = await asyncpg.connect(url)
    try:
        for sql, args in pages.items():
            async with conn.transaction():
                await conn.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off")
                plan = [row[0] for row in await conn.fetch(f"EXPLAIN (COSTS OFF) {sql}", *args)]
            text = "\n".join(plan)
            assert "Merge Append" in text, text
            # Tables are read by (ordered) index scans only: no sequential or bitmap scans.
            assert re.search(r"Index (Only )?Scan", text), text
            assert "Seq Scan" not in text, text
            assert "Bitmap" not in text, text
            assert not [line for line in plan if re.fullmatch(r"\s*(->\s*)?Sort", line)], text
    finally:
        await conn.close()
