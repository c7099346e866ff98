""" "In force" is three-valued: `inForceOn(date:)` and the `inForce` filter of agreements.

The rule: FALSE before the start's period began or after the end's period closed; UNKNOWN
when no start is known, when the day falls within the period of a start or end known only to
the year or month, or when no end is known; TRUE otherwise. An instrument without a stated
start counts from its signature; a derived end (signature + duration) counts, flagged.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from conftest import Api

INSTRUMENT = """
query($slug: String!, $day: Date!) {
  node: entity(slug: $slug) {
    ... on AgreementInstrument {
      inForceOn(date: $day) {
        value reason start { iso } startIsSignature end { iso } endIsDerived
        instrument { slug }
      }
    }
    ... on PartnerAgreement {
      inForceOn(date: $day) {
        value reason start { iso } startIsSignature end { iso } endIsDerived
        instrument { slug }
      }
    }
  }
}
"""

# (instrument, day, value, reason): each rule on the seed's instruments.
ANSWERS = [
    # McDonald's "Invoice in 2021": a YEAR start, no end. Not in force with certainty in 2023.
    ("4p1000-partner-17-i1", "2020-12-31", "FALSE", "BEFORE_START"),
    ("4p1000-partner-17-i1", "2021-06-01", "UNKNOWN", "START_IMPRECISE"),
    ("4p1000-partner-17-i1", "2021-12-31", "UNKNOWN", "END_UNKNOWN"),
    ("4p1000-partner-17-i1", "2023-01-01", "UNKNOWN", "END_UNKNOWN"),
    # GIZ's grant "1.12.2021 to 31.03.2023": stated start and end, both days, both included.
    ("4p1000-partner-05-i1", "2021-11-30", "FALSE", "BEFORE_START"),
    ("4p1000-partner-05-i1", "2021-12-01", "TRUE", "BEFORE_END"),
    ("4p1000-partner-05-i1", "2023-03-31", "TRUE", "BEFORE_END"),
    ("4p1000-partner-05-i1", "2023-04-01", "FALSE", "AFTER_END"),
    # AFRIS's "3 yr.-MoU signed on 1 Sept. 2021": from the signature to a derived end.
    ("4p1000-partner-11-i1", "2021-08-31", "FALSE", "BEFORE_START"),
    ("4p1000-partner-11-i1", "2024-09-01", "TRUE", "BEFORE_DERIVED_END"),
    ("4p1000-partner-11-i1", "2024-09-02", "FALSE", "AFTER_DERIVED_END"),
    # The hosting agreement "since 1.1.2021": begun, open-ended.
    ("4p1000-partner-04-i2", "2022-05-01", "UNKNOWN", "END_UNKNOWN"),
    # IRD's grant "in 2020", asked about a day of 2020; the MoA with no date at all.
    ("4p1000-partner-06-i1", "2020-03-01", "UNKNOWN", "START_IMPRECISE"),
    ("4p1000-partner-04-i1", "2022-05-01", "UNKNOWN", "START_UNKNOWN"),
]


async def answer(api: Api, slug: str, day: str) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(INSTRUMENT, {"slug": slug, "day": day}))["node"]
    return found["inForceOn"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("slug", "day", "value", "reason"), ANSWERS)
async def test_an_instrument_answers_true_false_or_unknown_and_why(
    api: Api, slug: str, day: str, value: str, reason: str
) -> None:
    found = await answer(api, slug, day)
    assert (found["value"], found["reason"]) == (value, reason)
    assert found["instrument"] == {"slug": slug}


async def test_the_answer_shows_the_dates_it_rests_on(api: Api) -> None:
    assert await answer(api, "4p1000-partner-11-i1", "2023-01-01") == {
        "value": "TRUE",
        "reason": "BEFORE_DERIVED_END",
        "start": {"iso": "2021-09-01"},
        "startIsSignature": True,
        "end": {"iso": "2024-09-01"},
        "endIsDerived": True,
        "instrument": {"slug": "4p1000-partner-11-i1"},
    }
    assert await answer(api, "4p1000-partner-17-i1", "2023-01-01") == {
        "value": "UNKNOWN",
        "reason": "END_UNKNOWN",
        "start": {"iso": "2021"},
        "startIsSignature": False,
        "end": None,
        "endIsDerived": False,
        "instrument": {"slug": "4p1000-partner-17-i1"},
    }


# (agreement, day, value, reason, deciding instrument)
AGREEMENTS = [
    # The open-ended hosting agreement decides over the undated MoA: it certainly began.
    ("4p1000-partner-04", "2022-05-01", "UNKNOWN", "END_UNKNOWN", "4p1000-partner-04-i2"),
    # IRD: the grant of 2020 (begun, open) over the grant of 2022 (its year holds the day).
    ("4p1000-partner-06", "2022-06-01", "UNKNOWN", "END_UNKNOWN", "4p1000-partner-06-i1"),
    ("4p1000-partner-09", "2020-06-21", "FALSE", "AFTER_DERIVED_END", "4p1000-partner-09-i1"),
    ("4p1000-partner-05", "2022-06-01", "TRUE", "BEFORE_END", "4p1000-partner-05-i1"),
    # FAO and the GSP: listed, but no instrument, so no date at all.
    ("4p1000-partner-19", "2022-06-01", "UNKNOWN", "NO_INSTRUMENTS", None),
]


@pytest.mark.parametrize(("slug", "day", "value", "reason", "instrument"), AGREEMENTS)
async def test_an_agreement_is_as_much_in_force_as_its_nearest_instrument(
    api: Api, slug: str, day: str, value: str, reason: str, instrument: str | None
) -> None:
    found = await answer(api, slug, day)
    assert (found["value"], found["reason"]) == (value, reason)
    assert found["instrument"] == (None if instrument is None else {"slug": instrument})


FILTERED = """
query($day: Date!, $values: [TruthValue!]!, $after: String) {
  partnerAgreements(first: 100, after: $after, inForce: {on: $day, values: $values}) {
    totalCount
    nodes { slug }
  }
}
"""


async def in_force(api: Api, day: str, values: list[str]) -> list[str]:
    page = (await api.data(FILTERED, {"day": day, "values": values}))["partnerAgreements"]
    found = [node["slug"] for node in page["nodes"]]
    assert page["totalCount"] == len(found)
    return found


def partners(*numbers: int) -> list[str]:
    return [f"4p1000-partner-{n:02d}" for n in numbers]


async def test_the_filter_keeps_true_only_or_true_and_unknown(api: Api) -> None:
    # On 1 January 2023: GIZ's grant, the five MoUs signed 2021-2022 and IEVA-Elenature's
    # funding agreement are certainly in force.
    assert await in_force(api, "2023-01-01", ["TRUE"]) == partners(5, 11, 12, 13, 14, 15, 18)
    # Add those the sources leave open; only the two funding agreements of 2019 (ended in
    # 2020, derived) are certainly not.
    everything_open = [n for n in range(1, 23) if n not in (9, 16)]
    assert await in_force(api, "2023-01-01", ["TRUE", "UNKNOWN"]) == partners(*everything_open)
    assert await in_force(api, "2023-01-01", ["FALSE"]) == partners(9, 16)
    default = await api.data('{ partnerAgreements(inForce: {on: "2023-01-01"}) { totalCount } }')
    assert default["partnerAgreements"]["totalCount"] == 7, "values default to [TRUE]"


async def test_active_on_is_kept_with_its_old_meaning(api: Api) -> None:
    """`activeOn` (deprecated) counts an unknown end as in force: McDonald's invoice of 2021
    is "active" in 2023 there, and only possibly in force by `inForce`."""
    old = await api.data(
        '{ partnerAgreements(first: 100, activeOn: "2023-01-01") { nodes { slug } } }'
    )
    assert [n["slug"] for n in old["partnerAgreements"]["nodes"]] == partners(
        4, 5, 6, 11, 12, 13, 14, 15, 17, 18
    )
    assert "4p1000-partner-17" not in await in_force(api, "2023-01-01", ["TRUE"])


EVERY_AGREEMENT = """
query($day: Date!) {
  partnerAgreements(first: 100) {
    nodes { slug inForceOn(date: $day) { value } instruments { nodes { signed { value }
      start { value } end { value } } } }
  }
}
"""


def days_to_ask(agreements: list[dict[str, Any]]) -> list[str]:
    """Every day an instrument's date falls on, the days either side, and new years."""
    days: set[date] = {date(year, 1, 1) for year in range(2018, 2029)}
    for agreement in agreements:
        for instrument in agreement["instruments"]["nodes"]:
            for field in ("signed", "start", "end"):
                if instrument[field] is not None:
                    day = date.fromisoformat(instrument[field]["value"])
                    days |= {day - timedelta(days=1), day, day + timedelta(days=1)}
    return sorted(day.isoformat() for day in days)


async def test_the_filter_and_the_field_agree_on_every_agreement_and_day(api: Api) -> None:
    """Field and filter are made of the same SQL conditions, the field's reason by a CASE,
    the filter's answers by EXISTS over instruments; this holds them to the same answers
    for every agreement, on every day where an answer can change."""
    first = (await api.data(EVERY_AGREEMENT, {"day": "2020-01-01"}))["partnerAgreements"]
    days = days_to_ask(first["nodes"])
    assert len(days) > 50
    for day in days:
        rows = (await api.data(EVERY_AGREEMENT, {"day": day}))["partnerAgreements"]["nodes"]
        for values in (["TRUE"], ["TRUE", "UNKNOWN"], ["FALSE"], ["UNKNOWN"]):
            expected = [row["slug"] for row in rows if row["inForceOn"]["value"] in values]
            assert await in_force(api, day, values) == expected, (day, values)


RELATIONS = """
query($day: Date!) {
  organization(slug: "4p1000-executive-secretariat") {
    relations(first: 10) {
      nodes { predicate start { iso } end { iso } inForceOn(date: $day) { value reason } }
    }
  }
}
"""


async def test_a_relation_answers_from_its_own_dates(api: Api) -> None:
    async def hosted(day: str) -> list[tuple[str, str, str]]:
        data = await api.data(RELATIONS, {"day": day})
        return [
            (r["predicate"], r["inForceOn"]["value"], r["inForceOn"]["reason"])
            for r in data["organization"]["relations"]["nodes"]
        ]

    # Hosted by the Alliance of Bioversity International & CIAT since 1.1.2021; a unit of
    # the "4 per 1000" Initiative with no dates at all.
    assert await hosted("2020-12-31") == [
        ("UNIT_OF", "UNKNOWN", "START_UNKNOWN"),
        ("HOSTED_BY", "FALSE", "BEFORE_START"),
    ]
    assert await hosted("2022-01-01") == [
        ("UNIT_OF", "UNKNOWN", "START_UNKNOWN"),
        ("HOSTED_BY", "UNKNOWN", "END_UNKNOWN"),
    ]


async def test_bad_in_force_arguments_are_refused(api: Api) -> None:
    body = await api.post('{ partnerAgreements(inForce: {on: "2023-01-01", values: []}) '
                          "{ totalCount } }")  # fmt: skip
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "inForce.values"}
    assert "[TRUE, UNKNOWN]" in error["message"]
    body = await api.post('{ partnerAgreement(slug: "4p1000-partner-05") '
                          '{ inForceOn(date: "2023") { value } } }')  # fmt: skip
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


STATEMENTS = """
query($n: Int!) {
  partnerAgreements(first: $n) {
    nodes {
      slug
      inForceOn(date: "2023-01-01") { value reason instrument { slug } }
      before: inForceOn(date: "2019-01-01") { value }
      instruments { nodes { inForceOn(date: "2023-01-01") { value end { iso } } } }
      parties { nodes { slug relations(first: 5) { nodes { inForceOn(date: "2023-01-01") {
        value } } } } }
    }
  }
}
"""


async def test_in_force_costs_one_statement_per_level_and_day(engine_api: Api) -> None:
    small = await engine_api.data(STATEMENTS, {"n": 2})
    few = engine_api.last_statements
    big = await engine_api.data(STATEMENTS, {"n": 22})
    many = engine_api.last_statements
    assert len(small["partnerAgreements"]["nodes"]) == 2
    assert len(big["partnerAgreements"]["nodes"]) == 22
    # +1: the rate limiter. The resolvers answer on both engines (`inForceOn` is no column):
    # agreements, their answers on two days, the deciding instruments, instruments, their
    # answers, parties, the parties' relations and their answers.
    assert few == many == 10
