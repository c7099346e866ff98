"""Relations in both directions, and speeches: the speaker, the order and the role as fields.

`relations(direction: BOTH)` lists a record's relations whichever end it is, each once, in the
order of every relation list (ordinal, then the other end's name). A speech is a `speaker_at`
relation read as a record of its own: who spoke where, in which order and role, with its
source; both engines answer it (the compiler plans it into its one statement).
"""

from __future__ import annotations

from typing import Any

from conftest import Api

GSP_RELATIONS = """
query($direction: Direction!, $predicates: [Predicate!], $first: Int, $after: String) {
  organization(slug: "gsp") {
    relations(direction: $direction, predicates: $predicates, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { predicate ordinal subject { slug } object { slug } }
    }
  }
}
"""

# The GSP's 17 relations, as subject or object: numbered ones first, then by the other end's
# name (INSER's two by id).
GSP_BOTH = [
    ("global-assessment-of-soil-pollution-2021", "LAUNCHED_BY", "gsp"),
    ("global-symposium-soil-biodiversity-2021", "ORGANIZED_BY", "gsp"),
    ("gsp", "PARTY_TO", "4p1000-partner-19"),
    ("soil-biodiversity-plan-of-action-2020-2030", "SUPPORTED_BY", "gsp"),
    ("easp", "OPERATES_WITHIN", "gsp"),
    ("esp", "SUB_ORGANIZATION_OF", "gsp"),
    ("gsp", "HOSTED_BY", "fao"),
    ("gsp-plenary-assembly", "UNIT_OF", "gsp"),
    ("gsp-secretariat", "UNIT_OF", "gsp"),
    ("inser-launch-rabat-2025", "ORGANIZED_BY", "gsp"),
    ("itps", "UNIT_OF", "gsp"),
    ("international-initiative-soil-biodiversity", "IMPLEMENTED_WITHIN", "gsp"),
    ("inser", "TECHNICAL_NETWORK_OF", "gsp"),
    ("inser", "LAUNCHED_BY", "gsp"),
    ("campaign-keep-soils-alive-2020", "IMPLEMENTED_BY", "gsp"),
    ("recsoil", "IMPLEMENTED_BY", "gsp"),
    ("gsp-six-action-areas", "PART_OF", "gsp"),
]

SPEECHES = """
{
  event(slug: "inser-launch-rabat-2025") {
    speeches {
      totalCount
      nodes {
        order role
        speaker { slug name }
        event { slug }
        source { quote evidence lines { start end } document { key } }
      }
    }
  }
  person(slug: "thorunn-wolfram-petursdottir") {
    speeches { nodes { order role event { slug name } speaker { slug } } }
  }
}
"""


async def relations(api: Api, **variables: Any) -> dict[str, Any]:
    data = await api.data(GSP_RELATIONS, variables)
    found: dict[str, Any] = data["organization"]["relations"]
    return found


def triples(found: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r["subject"]["slug"], r["predicate"], r["object"]["slug"]) for r in found["nodes"]]


async def test_both_directions_list_every_relation_once(engine_api: Api) -> None:
    both = await relations(engine_api, direction="BOTH", first=100)
    assert triples(both) == GSP_BOTH
    assert both["totalCount"] == 17
    outgoing = await relations(engine_api, direction="OUTGOING", first=100)
    incoming = await relations(engine_api, direction="INCOMING", first=100)
    assert outgoing["totalCount"] + incoming["totalCount"] == 17
    assert sorted(triples(outgoing) + triples(incoming)) == sorted(GSP_BOTH)


async def test_both_directions_with_predicates_and_pages(engine_api: Api) -> None:
    found = await relations(
        engine_api, direction="BOTH", predicates=["HOSTED_BY", "UNIT_OF", "LAUNCHED_BY"]
    )
    assert triples(found) == [
        ("global-assessment-of-soil-pollution-2021", "LAUNCHED_BY", "gsp"),
        ("gsp", "HOSTED_BY", "fao"),
        ("gsp-plenary-assembly", "UNIT_OF", "gsp"),
        ("gsp-secretariat", "UNIT_OF", "gsp"),
        ("itps", "UNIT_OF", "gsp"),
        ("inser", "LAUNCHED_BY", "gsp"),
    ]
    seen: list[tuple[str, str, str]] = []
    after = None
    while True:
        page = await relations(engine_api, direction="BOTH", first=5, after=after)
        seen += triples(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == GSP_BOTH


async def test_speeches_give_the_speaker_the_order_and_the_role(engine_api: Api) -> None:
    data = await engine_api.data(SPEECHES)
    speeches = data["event"]["speeches"]
    assert speeches["totalCount"] == 4
    assert [
        (s["order"], s["speaker"]["slug"], s["role"], s["source"]["lines"]["start"])
        for s in speeches["nodes"]
    ] == [
        (1, "lifeng-li", "opening remarks", 15),
        (2, "ghaouti-lamiae", "remarks", 17),
        (3, "yuxin-tong", "presented the network's vision and goals", 19),
        (4, "thorunn-wolfram-petursdottir", "closing", 21),
    ]
    assert {s["event"]["slug"] for s in speeches["nodes"]} == {"inser-launch-rabat-2025"}
    first, last = speeches["nodes"][0]["source"], speeches["nodes"][3]["source"]
    assert first == {
        "quote": "Opening remarks by Mr. Lifeng Li",
        "evidence": "STATED",
        "lines": {"start": 15, "end": 15},
        "document": {"key": "002"},
    }
    assert last["quote"] == "Closing the event, Ms. Thorunn Wolfram Petursdottir"
    assert data["person"]["speeches"]["nodes"] == [
        {
            "order": 4,
            "role": "closing",
            "event": {"slug": "inser-launch-rabat-2025", "name": "INSER launch event"},
            "speaker": {"slug": "thorunn-wolfram-petursdottir"},
        }
    ]
    # The compiler plans speeches: one statement after the rate limiter's.
    if engine_api.name == "compiled":
        assert engine_api.last_runs == {"compiled": 1}
        assert engine_api.last_statements == 3  # the bucket, then one per root field


EVENT_SPEECHES = """
query($first: Int!) {
  events(first: $first, orderBy: START, descending: true) {
    nodes { slug speeches { nodes { order role speaker { name posts { nodes { label } } } } } }
  }
}
"""


async def test_speeches_of_many_events_cost_as_many_statements_as_of_one(
    engine_api: Api,
) -> None:
    one = await engine_api.data(EVENT_SPEECHES, {"first": 1})
    one_count = engine_api.last_statements
    every = await engine_api.data(EVENT_SPEECHES, {"first": 100})
    assert engine_api.last_statements == one_count
    spoken = {e["slug"]: len(e["speeches"]["nodes"]) for e in every["events"]["nodes"]}
    assert len(spoken) == 16
    assert {slug: n for slug, n in spoken.items() if n} == {"inser-launch-rabat-2025": 4}
    # The newest event is INSER's launch: the one page of one event holds all four speeches.
    assert [(e["slug"], len(e["speeches"]["nodes"])) for e in one["events"]["nodes"]] == [
        ("inser-launch-rabat-2025", 4)
    ]


SPEECH_PAGES = """
query($after: String) {
  event(slug: "inser-launch-rabat-2025") {
    speeches(first: 2, after: $after) {
      edges { cursor node { order speaker { slug } } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}
"""


async def test_speeches_page_with_cursors(engine_api: Api) -> None:
    first = (await engine_api.data(SPEECH_PAGES))["event"]["speeches"]
    assert [e["node"]["order"] for e in first["edges"]] == [1, 2]
    assert first["pageInfo"]["hasNextPage"] is True
    after = first["pageInfo"]["endCursor"]
    assert first["edges"][1]["cursor"] == after
    rest = (await engine_api.data(SPEECH_PAGES, {"after": after}))["event"]["speeches"]
    assert [(e["node"]["order"], e["node"]["speaker"]["slug"]) for e in rest["edges"]] == [
        (3, "yuxin-tong"),
        (4, "thorunn-wolfram-petursdottir"),
    ]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert rest["pageInfo"]["hasPreviousPage"] is True
    if engine_api.name == "compiled":
        assert engine_api.last_runs == {"compiled": 1}
