"""`search`: what it finds on the seed data, in which order, page by page, and what it refuses.

Every test runs through the `api` client, which answers through the SQL compiler and compares
each answer with the resolvers'; the statement counts run on both engines (`engine_api`).
"""

from __future__ import annotations

from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import Api
from soilapi.db.session import statements_sent
from soilapi.graphql.examples import SEARCH
from soilapi.repositories import search
from soilapi.vocab import SearchLanguage

HITS = """
query($q: String!, $first: Int, $after: String, $kinds: [EntityKind!], $countries: [String!]) {
  search(query: $q, first: $first, after: $after, kinds: $kinds, countries: $countries) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { score field text snippet node { __typename slug name } } }
  }
}
"""


async def hits(api: Api, query: str, **variables: Any) -> dict[str, Any]:
    data = await api.data(HITS, {"q": query, **variables})
    found: dict[str, Any] = data["search"]
    return found


def ranked(found: dict[str, Any]) -> list[tuple[str, str, float]]:
    """(slug, field, score) of each hit, in order."""
    return [
        (edge["node"]["node"]["slug"], edge["node"]["field"], edge["node"]["score"])
        for edge in found["edges"]
    ]


def slugs(found: dict[str, Any]) -> list[str]:
    return [slug for slug, _, _ in ranked(found)]


async def test_an_acronym_finds_its_record_first(api: Api) -> None:
    """`nameContains: "INSER"` found nothing: search finds INSER by its acronym, first, then
    the records that mention it."""
    found = await hits(api, "INSER", first=3)
    assert found["totalCount"] == 16
    first = found["edges"][0]["node"]
    assert first == {
        "score": 1.0,
        "field": "ACRONYM",
        "text": "INSER",
        "snippet": "<mark>INSER</mark>",
        "node": {
            "__typename": "Organization",
            "slug": "inser",
            "name": "International Network on Soil Erosion",
        },
    }
    assert ranked(found)[1] == ("inser-launch-rabat-2025", "NAME", 0.303964)
    assert found["edges"][1]["node"]["snippet"] == "<mark>INSER</mark> launch event"
    # Then descriptions that mention it, lower: a name outranks any description.
    assert ranked(found)[2][1] == "DESCRIPTION"
    assert ranked(found)[2][2] < 0.2
    assert found["pageInfo"]["hasNextPage"] is True


async def test_an_exact_name_ranks_first_then_names_then_other_texts(api: Api) -> None:
    """Every word must be there (European Soil Partnership lacks "global"); names with them
    rank above quotes, statements and descriptions with them."""
    found = await hits(api, "Global Soil Partnership", first=6)
    assert found["totalCount"] == 9
    assert [(slug, field) for slug, field, _ in ranked(found)] == [
        ("gsp", "NAME"),
        ("gsp-six-action-areas", "NAME"),
        ("4p1000-partner-19", "NAME"),
        ("fao", "SOURCE_QUOTE"),
        ("esp", "STATEMENT"),
        ("gsp-secretariat", "DESCRIPTION"),
    ]
    assert ranked(found)[0] == ("gsp", "NAME", 1.0)
    assert found["edges"][0]["node"]["snippet"] == (
        "<mark>Global</mark> <mark>Soil</mark> <mark>Partnership</mark>"
    )
    scores = [score for _, _, score in ranked(found)]
    assert scores == sorted(scores, reverse=True)
    assert all(score < 1 for score in scores[1:]), "only the exact name scores 1"


async def test_accents_are_ignored_both_ways(api: Api) -> None:
    """The seed writes Petursdottir; a query with the Icelandic accents finds her."""
    found = await hits(api, "Pétursdóttir")
    assert ranked(found) == [("thorunn-wolfram-petursdottir", "NAME", 0.303964)]
    assert found["edges"][0]["node"]["snippet"] == "Thorunn Wolfram <mark>Petursdottir</mark>"


async def test_typos_and_parts_of_words_find_names(api: Api) -> None:
    typo = await hits(api, "Petursdotir")
    assert ranked(typo) == [("thorunn-wolfram-petursdottir", "NAME", 0.57619)]
    # No word of the query is in the name: trigrams found it, so nothing is marked.
    assert typo["edges"][0]["node"]["snippet"] == "Thorunn Wolfram Petursdottir"
    start = await hits(api, "Petursd")
    assert slugs(start) == ["thorunn-wolfram-petursdottir"]
    part = await hits(api, "Subregion", first=5)
    # "Subregional" stems to "subregion": the words find these, shorter texts first.
    assert [(slug, field) for slug, field, _ in ranked(part)] == [
        ("aspir", "ALIAS"),
        ("easp", "NAME"),
        ("alpsp", "NAME"),
        ("wbsp", "NAME"),
        ("wbsp-launch-budva-2022", "NAME"),
    ]


async def test_english_stemming(api: Api) -> None:
    """Plural and singular are one stem; the hits differ only in score."""
    plural = await hits(api, "erosions")
    singular = await hits(api, "erosion")
    assert (
        slugs(plural)
        == slugs(singular)
        == [
            "global-symposium-soil-erosion-2019",
            "inser",
            "ghaouti-lamiae",
            "soil-monitoring-law",
            "lifeng-li",
        ]
    )
    assert [field for _, field, _ in ranked(singular)] == ["NAME", "NAME", *["STATEMENT"] * 3]
    law = singular["edges"][3]["node"]
    assert "including <mark>erosion</mark>, compaction" in law["snippet"]


async def test_every_field_is_searched(api: Api) -> None:
    """Names, acronyms, aliases, descriptions, statements and source quotes each find hits."""
    cases = {
        "Eurasian Soil Partnership": ("easp", "ALIAS"),
        "ASPir": ("aspir", "ACRONYM"),
        # The symposium's alias and the outcome document's name are the same words: equal
        # scores, and the symposium's name comes first.
        "Keep soil alive": ("global-symposium-soil-biodiversity-2021", "ALIAS"),
        "compaction": ("soil-monitoring-law", "STATEMENT"),
        "hybrid event in Rabat": ("inser-launch-rabat-2025", "SOURCE_QUOTE"),
        "Research Centre represented at the launch": ("european-commission", "DESCRIPTION"),
    }
    for query, (slug, field) in cases.items():
        found = ranked(await hits(api, query, first=1))
        assert found[0][:2] == (slug, field), query


async def test_snippets_are_escaped_html(api: Api) -> None:
    found = await hits(api, "Partnerships Alliances", first=1)
    hit = found["edges"][0]["node"]
    assert hit["text"] == "Partnerships & Alliances"
    assert hit["snippet"] == "<mark>Partnerships</mark> &amp; <mark>Alliances</mark>"


async def test_kinds_and_countries_filter_hits(api: Api) -> None:
    everything = await hits(api, "INSER", first=100)
    people = await hits(api, "INSER", first=100, kinds=["PERSON"])
    assert {e["node"]["node"]["__typename"] for e in people["edges"]} == {"Person"}
    assert slugs(people) == [s for s in slugs(everything) if s in set(slugs(people))]
    assert people["totalCount"] == len(slugs(people)) == 4
    organizations = ["ORGANIZATION"]
    german = await hits(api, "Ministry of Agriculture", kinds=organizations, countries=["DE"])
    assert slugs(german) == ["german-ministry-of-agriculture-ble"]
    both = await hits(api, "Ministry of Agriculture", kinds=organizations, countries=["DE", "FR"])
    assert slugs(both) == ["french-ministry-of-agriculture", "german-ministry-of-agriculture-ble"]
    assert both["totalCount"] == 2


async def test_pages_follow_cursors_to_the_same_list(api: Api) -> None:
    whole = await hits(api, "soil", first=100)
    assert whole["totalCount"] == len(whole["edges"]) == 91
    walked: list[str] = []
    after = None
    while True:
        page = await hits(api, "soil", first=7, after=after)
        walked += slugs(page)
        assert page["totalCount"] == 91
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert walked == slugs(whole)
    assert len(set(walked)) == 91, "each record once"


LAST = """
query($before: String) {
  search(query: "soil partnership", last: 3, before: $before) {
    pageInfo { hasPreviousPage hasNextPage }
    nodes { node { slug } }
  }
}
"""


async def test_last_and_before_page_backwards(api: Api) -> None:
    whole = slugs(await hits(api, "soil partnership", first=100))
    cursor = (await hits(api, "soil partnership", first=10))["edges"][9]["cursor"]
    page = (await api.data(LAST, {"before": cursor}))["search"]
    assert [n["node"]["slug"] for n in page["nodes"]] == whole[6:9]
    assert page["pageInfo"] == {"hasPreviousPage": True, "hasNextPage": True}


async def test_a_cursor_fits_only_its_own_search(api: Api) -> None:
    cursor = (await hits(api, "soil partnership", first=2))["pageInfo"]["endCursor"]
    body = await api.post(HITS, {"q": "soil", "after": cursor})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_CURSOR"]
    body = await api.post(HITS, {"q": "soil partnership", "after": cursor, "kinds": ["EVENT"]})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_CURSOR"]


@pytest.mark.parametrize(
    ("variables", "field", "words"),
    [
        ({"q": ""}, "query", "is empty"),
        ({"q": "   "}, "query", "is empty"),
        ({"q": "x" * 101}, "query", "the limit is 100"),
        ({"q": "soil\u0007"}, "query", "control or unprintable character (U+0007)"),
        ({"q": "soil\u200b"}, "query", "(U+200B)"),
        ({"q": "!!! ???"}, "query", "no letter or digit"),
        ({"q": "soil", "kinds": []}, "kinds", "is empty"),
        ({"q": "soil", "countries": ["de"]}, "countries", "ISO 3166-1"),
        ({"q": "soil", "first": -1}, "first", "zero or more"),
    ],
)
async def test_bad_input_is_a_coded_error(
    api: Api, variables: dict[str, Any], field: str, words: str
) -> None:
    body = await api.post(HITS, variables)
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert words in error["message"]
    assert body["data"] is None


async def test_pages_are_bounded_like_every_list(api: Api) -> None:
    body = await api.post(HITS, {"q": "soil", "first": 101})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["PAGE_SIZE_EXCEEDED"]
    fine = await hits(api, "soil", first=100)
    assert len(fine["edges"]) == fine["totalCount"] == 91


COSTLY = """
{ search(query: "soil", first: 100) { nodes { node { sources(first: 100) { nodes { quote } } } } } }
"""


async def test_the_cost_model_prices_search_like_a_list(api: Api) -> None:
    body = await api.post(HITS, {"q": "soil", "first": 50})
    assert body["extensions"]["cost"]["maxNodes"] == 50  # a page of 50 hits
    body = await api.post(COSTLY)
    assert body["extensions"]["cost"]["maxNodes"] == 100 + 100 * 100


NESTED = """
query($q: String!, $first: Int!) {
  search(query: $q, first: $first) {
    totalCount
    nodes {
      score snippet
      node {
        slug
        sources(first: 2) { nodes { quote document { key } } }
        ... on Organization { parent { slug } children(first: 3) { nodes { slug } } }
      }
    }
  }
}
"""


async def test_statements_do_not_grow_with_the_hits(engine_api: Api) -> None:
    """2 hits or 60 cost the same statements: on the SQL compiler one builds the whole
    answer (hits, their records and lists, totalCount); on the resolvers one for the hits,
    one for their records, one for totalCount, then one per list level under them, batched.
    Plus the rate limiter's."""
    counts = []
    for query, first in (("soil partnership", 2), ("soil", 60)):
        found = await engine_api.data(NESTED, {"q": query, "first": first})
        assert len(found["search"]["nodes"]) == first
        counts.append(engine_api.last_statements)
        assert "resolvers" not in engine_api.last_runs  # the compiler planned it
    if engine_api.name == "compiled":  # the bucket, then one statement for the answer
        assert counts == [2, 2]
    else:  # bucket, hits, records, count, sources, documents, parents, children
        assert counts == [8, 8]


async def test_name_contains_matches_acronyms_and_aliases(api: Api) -> None:
    """`nameContains` finds a record by its name, acronym or another of its names."""
    query = '{ organizations(nameContains: "INSER") { nodes { slug } } }'
    assert (await api.data(query))["organizations"]["nodes"] == [{"slug": "inser"}]
    query = '{ organizations(nameContains: "eurasian soil") { nodes { slug } } }'
    assert (await api.data(query))["organizations"]["nodes"] == [{"slug": "easp"}]


async def test_graphiqls_example_searches(api: Api) -> None:
    """GraphiQL's search tab runs, and its search finds the erosion records."""
    data = await api.data(SEARCH.query, SEARCH.variables)
    found = data["search"]
    assert [n["node"]["slug"] for n in found["nodes"][:2]] == [
        "global-symposium-soil-erosion-2019",
        "inser",
    ]
    assert found["nodes"][1]["snippet"] == (
        "International Network on <mark>Soil</mark> <mark>Erosion</mark>"
    )


async def test_a_typo_in_one_word_of_a_name(api: Api) -> None:
    """ "partnershp" is no word of any text: the names with global, soil and a word close to
    it (partnership) are compared with the query by trigrams, the closest first."""
    found = await hits(api, "Global Soil Partnershp")
    assert ranked(found) == [
        ("gsp", "NAME", 0.860368),
        ("gsp-six-action-areas", "NAME", 0.675272),
        ("4p1000-partner-19", "NAME", 0.670807),
    ]
    assert found["totalCount"] == 3
    # The words the query has are marked; the misspelt one is not.
    assert (
        found["edges"][0]["node"]["snippet"] == "<mark>Global</mark> <mark>Soil</mark> Partnership"
    )
    # A word no name has anything close to ("xqzv") narrows nothing: the others still find.
    assert slugs(await hits(api, "Global Soil Partnershp xqzv"))[0] == "gsp"


async def test_only_the_words_the_lexicon_lacks_are_widened(engine: AsyncEngine) -> None:
    """The typo fallback looks for names with, for each word of the query, the word itself
    when some name has it, else the words of names close to it by trigrams: a word typed
    right is not widened to every longer word holding it (soil to savesoil)."""
    meant = sa.cast(search.widened(search.folded_query(), SearchLanguage.ENGLISH), sa.Text)
    async with engine.connect() as conn:
        for query, expected in (
            # Widened, soil was soil | savesoil | recsoil | soilex | soilpartnership.
            ("Soil Partnershp", "'soil' & ( 'partnership' | 'soilpartnership' )"),
            ("Petursd Soil", "'petursdottir' & 'soil'"),
            # No word is close to xqzv: it narrows nothing.
            (
                "Global Soil Partnershp xqzv",
                "'global' & 'soil' & ( 'partnership' | 'soilpartnership' )",
            ),
        ):
            found = (await conn.execute(sa.select(meant), {"query": query})).scalar()
            assert found == expected, query


async def test_every_search_of_a_shape_shares_one_plan(engine_api: Api, database_url: str) -> None:
    """A search's statements are planned once for any words, not again for each search
    (planning was a fifth of a search's database time): prepared on one connection and run
    with eight other queries, each is run on PostgreSQL's plan for any values, and the
    answers are those of each query."""
    with statements_sent(engine_api.engine) as all_sent:
        await hits(engine_api, "soil partnership", first=3)
    sent = [(sql, list(args or ())) for sql, args in all_sent if "websearch_to_tsquery" in sql]
    assert sent, "no search statement"
    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    words = ["erosion", "Petursdottir", "GSP", "soil", "carbon", "INSER", "europe", "4p1000"]
    conn = await asyncpg.connect(url)
    try:
        for sql, args in sent:
            prepared = await conn.prepare(sql)
            for word in words:
                asked = [word if arg == "soil partnership" else arg for arg in args]
                await prepared.fetch(*asked)
            plans = await conn.fetchrow(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement = $1",
                sql,
            )
            assert plans is not None
            # PostgreSQL tries five plans for the values at hand before it compares.
            assert (plans["custom_plans"], plans["generic_plans"]) == (5, 3), sql[:200]
    finally:
        await conn.close()
