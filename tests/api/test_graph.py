"""Neighbourhoods and paths: what lies around a record, and how two records are linked.

The expected records are the seed's relations, read by hand: the GSP has 17 relations to 16
records (INSER twice: it is the GSP's technical network and was launched by it); a second
level reaches 42 more, among them the four speakers of INSER's launch, which the GSP
organised. Every answer is compared with the resolvers' by the `api` fixture; these fields are
answered by the resolvers on both engines (the compiler leaves them to them).
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import Api
from soilapi.app import create_app
from soilapi.graphql.examples import NEIGHBOURHOOD
from soilapi.graphql.ids import decode, encode
from soilapi.graphql.pagination import encode_cursor
from soilapi.services import graph
from soilapi.settings import Settings

IDS = """
{
  gsp: organization(slug: "gsp") { id }
  aspir: organization(slug: "aspir") { id }
  fao: organization(slug: "fao") { id }
  esp: organization(slug: "esp") { id }
  source: sourceDocument(key: "002") { id }
}
"""

HOOD = """
query($id: ID!, $depth: Int!, $direction: Direction!, $predicates: [Predicate!],
      $kinds: [EntityKind!], $first: Int, $after: String, $last: Int, $before: String) {
  neighbourhood(id: $id, depth: $depth, direction: $direction, predicates: $predicates,
                kinds: $kinds, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      node {
        distance direction
        record { __typename slug }
        relation { predicate subject { slug } object { slug } }
      }
    }
  }
}
"""

PATH = """
query($from: ID!, $to: ID!, $maxDepth: Int!, $direction: Direction!, $predicates: [Predicate!]) {
  path(from: $from, to: $to, maxDepth: $maxDepth, direction: $direction,
       predicates: $predicates) {
    length
    hops {
      distance direction
      record { slug }
      relation { predicate subject { slug } object { slug } sources { quote evidence } }
    }
  }
}
"""

# The GSP's 16 neighbours by name (the database's order), each with the relation that
# reached it: (slug, direction, predicate).
GSP_NEIGHBOURS = [
    ("easp", "INCOMING", "OPERATES_WITHIN"),
    ("esp", "INCOMING", "SUB_ORGANIZATION_OF"),
    ("4p1000-partner-19", "OUTGOING", "PARTY_TO"),
    ("fao", "OUTGOING", "HOSTED_BY"),
    ("gsp-plenary-assembly", "INCOMING", "UNIT_OF"),
    ("gsp-secretariat", "INCOMING", "UNIT_OF"),
    ("global-assessment-of-soil-pollution-2021", "INCOMING", "LAUNCHED_BY"),
    ("global-symposium-soil-biodiversity-2021", "INCOMING", "ORGANIZED_BY"),
    ("inser-launch-rabat-2025", "INCOMING", "ORGANIZED_BY"),
    ("itps", "INCOMING", "UNIT_OF"),
    ("international-initiative-soil-biodiversity", "INCOMING", "IMPLEMENTED_WITHIN"),
    # Launched by the GSP and its technical network: two relations reach INSER at once;
    # the first by ID is the one shown.
    ("inser", "INCOMING", "TECHNICAL_NETWORK_OF"),
    ("campaign-keep-soils-alive-2020", "INCOMING", "IMPLEMENTED_BY"),
    ("soil-biodiversity-plan-of-action-2020-2030", "INCOMING", "SUPPORTED_BY"),
    ("recsoil", "INCOMING", "IMPLEMENTED_BY"),
    ("gsp-six-action-areas", "INCOMING", "PART_OF"),
]

# The 42 records two relations from the GSP and no nearer, by name, with the relation of the
# second hop as (subject, predicate, object).
GSP_SECOND_LEVEL = [
    ("gsoc-mrv-protocol", ("gsoc-mrv-protocol", "PRODUCED_UNDER", "recsoil")),
    ("alpsp", ("alpsp", "SUB_ORGANIZATION_OF", "esp")),
    (
        "cbd-secretariat",
        ("international-initiative-soil-biodiversity", "REVIEWED_BY", "cbd-secretariat"),
    ),
    (
        "cbd-pow-agricultural-biodiversity",
        (
            "international-initiative-soil-biodiversity",
            "CROSS_CUTTING_WITHIN",
            "cbd-pow-agricultural-biodiversity",
        ),
    ),
    (
        "cbd-sbstta-24-7-rev1",
        ("soil-biodiversity-plan-of-action-2020-2030", "CONTAINED_IN", "cbd-sbstta-24-7-rev1"),
    ),
    ("cbd", ("global-symposium-soil-biodiversity-2021", "ORGANIZED_BY", "cbd")),
    ("cbd-cop-decision-14-30", ("cbd-cop-decision-14-30", "INVITES", "fao")),
    ("europe", ("esp", "COVERS_AREA", "europe")),
    (
        "003-fn-01",
        ("003-fn-01", "SUPPORTS_CLAIM_ABOUT", "international-initiative-soil-biodiversity"),
    ),
    (
        "003-fn-10",
        ("003-fn-10", "SUPPORTS_CLAIM_ABOUT", "global-assessment-of-soil-pollution-2021"),
    ),
    (
        "003-fn-02",
        ("003-fn-02", "SUPPORTS_CLAIM_ABOUT", "international-initiative-soil-biodiversity"),
    ),
    (
        "003-fn-08",
        ("003-fn-08", "SUPPORTS_CLAIM_ABOUT", "global-symposium-soil-biodiversity-2021"),
    ),
    ("cgrfa-14", ("international-initiative-soil-biodiversity", "INFORMED_AT", "cgrfa-14")),
    (
        "gsp-plenary-assembly-2025-06",
        ("gsp-plenary-assembly-2025-06", "SESSION_OF", "gsp-plenary-assembly"),
    ),
    ("ghaouti-lamiae", ("ghaouti-lamiae", "SPEAKER_AT", "inser-launch-rabat-2025")),
    ("gsbi", ("global-symposium-soil-biodiversity-2021", "ORGANIZED_BY", "gsbi")),
    ("gsocseq-map", ("gsocseq-map", "PRODUCED_UNDER", "recsoil")),
    (
        "global-symposium-soil-erosion-2019",
        ("inser", "IN_RESPONSE_TO", "global-symposium-soil-erosion-2019"),
    ),
    ("inra-morocco", ("inra-morocco", "REPRESENTED_AT", "inser-launch-rabat-2025")),
    (
        "eurasian-fsn-esp-conference-moscow-2013",
        ("easp", "LAUNCHED_AT", "eurasian-fsn-esp-conference-moscow-2013"),
    ),
    ("iuss", ("iuss", "REPRESENTED_AT", "inser-launch-rabat-2025")),
    ("jrc", ("jrc", "REPRESENTED_AT", "inser-launch-rabat-2025")),
    (
        "soil-biodiversity-symposium-outcome-document-2021",
        ("soil-biodiversity-symposium-outcome-document-2021", "PUBLISHED_BY", "fao"),
    ),
    ("fao-land-and-water-division", ("fao-land-and-water-division", "UNIT_OF", "fao")),
    ("lifeng-li", ("lifeng-li", "SPEAKER_AT", "inser-launch-rabat-2025")),
    (
        "progress-mainstreaming-biodiversity-agricultural-sectors",
        ("progress-mainstreaming-biodiversity-agricultural-sectors", "AUTHORED_BY", "fao"),
    ),
    ("ssm-assessment-protocol", ("ssm-assessment-protocol", "PUBLISHED_BY", "fao")),
    ("aspir", ("aspir", "SUB_ORGANIZATION_OF", "esp")),
    (
        "unep-ea-3-res-6",
        ("global-assessment-of-soil-pollution-2021", "IN_RESPONSE_TO", "unep-ea-3-res-6"),
    ),
    ("cgrfa-17", ("international-initiative-soil-biodiversity", "INFORMED_AT", "cgrfa-17")),
    ("cgrfa-16", ("international-initiative-soil-biodiversity", "INFORMED_AT", "cgrfa-16")),
    (
        "state-of-knowledge-soil-biodiversity-2020",
        ("state-of-knowledge-soil-biodiversity-2020", "PREPARED_BY", "itps"),
    ),
    ("sdg-15-3", ("inser", "CONTRIBUTES_TO", "sdg-15-3")),
    (
        "gsocseq-technical-specifications",
        ("gsocseq-technical-specifications", "PUBLISHED_BY", "fao"),
    ),
    (
        "magical-world-of-soil-biodiversity",
        ("magical-world-of-soil-biodiversity", "AUTHORED_BY", "fao"),
    ),
    (
        "thorunn-wolfram-petursdottir",
        ("thorunn-wolfram-petursdottir", "SPEAKER_AT", "inser-launch-rabat-2025"),
    ),
    ("unep", ("global-assessment-of-soil-pollution-2021", "LAUNCHED_BY", "unep")),
    ("wbsp", ("wbsp", "SUB_ORGANIZATION_OF", "esp")),
    ("waswac", ("waswac", "REPRESENTED_AT", "inser-launch-rabat-2025")),
    (
        "world-environment-day-2021",
        ("global-assessment-of-soil-pollution-2021", "LAUNCHED_AT", "world-environment-day-2021"),
    ),
    (
        "world-soil-day-2020",
        ("campaign-keep-soils-alive-2020", "CULMINATED_AT", "world-soil-day-2020"),
    ),
    ("yuxin-tong", ("yuxin-tong", "SPEAKER_AT", "inser-launch-rabat-2025")),
]


@pytest.fixture(scope="module")
async def ids(api: Api) -> dict[str, str]:
    found = await api.data(IDS)
    return {name: record["id"] for name, record in found.items()}


async def hood(api: Api, start: str, **arguments: Any) -> dict[str, Any]:
    variables = {"id": start, "depth": 1, "direction": "BOTH", **arguments}
    found: dict[str, Any] = (await api.data(HOOD, variables))["neighbourhood"]
    return found


def hops(found: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in found["edges"]]


def rows(found: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (hop["record"]["slug"], hop["direction"], hop["relation"]["predicate"])
        for hop in hops(found)
    ]


def ends(hop: dict[str, Any]) -> tuple[str, str, str]:
    relation = hop["relation"]
    return (relation["subject"]["slug"], relation["predicate"], relation["object"]["slug"])


def code(body: dict[str, Any]) -> tuple[str, str | None]:
    [error] = body["errors"]
    return error["extensions"]["code"], error["extensions"].get("field")


# --- neighbourhoods ------------------------------------------------------------------------


async def test_the_gsps_neighbours_each_once_with_the_relation_that_reached_them(
    api: Api, ids: dict[str, str]
) -> None:
    found = await hood(api, ids["gsp"], first=100)
    assert rows(found) == GSP_NEIGHBOURS
    assert found["totalCount"] == 16
    assert {hop["distance"] for hop in hops(found)} == {1}
    # The relation leads from the GSP to the record reached, as `direction` says.
    for hop in hops(found):
        subject, _, obj = ends(hop)
        reached = hop["record"]["slug"]
        assert (subject, obj) == (
            ("gsp", reached) if hop["direction"] == "OUTGOING" else (reached, "gsp")
        )


async def test_the_gsps_neighbourhood_at_depth_two(api: Api, ids: dict[str, str]) -> None:
    found = await hood(api, ids["gsp"], depth=2, first=100)
    assert found["totalCount"] == 58
    first, second = hops(found)[:16], hops(found)[16:]
    assert [(hop["record"]["slug"], hop["distance"]) for hop in first] == [
        (slug, 1) for slug, _, _ in GSP_NEIGHBOURS
    ]
    assert [(hop["record"]["slug"], ends(hop)) for hop in second] == GSP_SECOND_LEVEL
    assert {hop["distance"] for hop in second} == {2}
    # Each second-level record hangs off a first-level one.
    near = {slug for slug, _, _ in GSP_NEIGHBOURS}
    for hop in second:
        subject, _, obj = ends(hop)
        came_from = obj if hop["direction"] == "INCOMING" else subject
        assert came_from in near, hop


async def test_outgoing_and_incoming_walk_one_way(api: Api, ids: dict[str, str]) -> None:
    outgoing = await hood(api, ids["gsp"], direction="OUTGOING", depth=3, first=100)
    # GSP -> FAO (hosted by) -> the 4p1000 partner #19 (FAO is a party to it); GSP -> #19.
    assert rows(outgoing) == [
        ("4p1000-partner-19", "OUTGOING", "PARTY_TO"),
        ("fao", "OUTGOING", "HOSTED_BY"),
    ]
    assert outgoing["totalCount"] == 2
    incoming = await hood(api, ids["gsp"], direction="INCOMING", first=100)
    assert rows(incoming) == [row for row in GSP_NEIGHBOURS if row[1] == "INCOMING"]


async def test_the_org_tree_predicates_give_the_descendants(api: Api, ids: dict[str, str]) -> None:
    tree = ["SUB_ORGANIZATION_OF", "UNIT_OF", "TECHNICAL_NETWORK_OF"]
    found = await hood(api, ids["gsp"], direction="INCOMING", predicates=tree, depth=3, first=100)
    walked = [(hop["record"]["slug"], hop["distance"]) for hop in hops(found)]
    assert walked == [
        ("esp", 1),
        ("gsp-plenary-assembly", 1),
        ("gsp-secretariat", 1),
        ("itps", 1),
        ("inser", 1),
        ("alpsp", 2),  # Alpine
        ("easp", 2),  # Eurasian
        ("aspir", 2),  # Pyrenean
        ("wbsp", 2),  # Western Balkan
    ]
    descendants = await api.data(
        '{ organization(slug: "gsp") { descendants(first: 100) '
        "{ nodes { depth organization { slug } } } } }"
    )
    nodes = descendants["organization"]["descendants"]["nodes"]
    assert sorted(walked) == sorted((n["organization"]["slug"], n["depth"]) for n in nodes)


async def test_kinds_list_only_those_records_and_walk_through_the_others(
    api: Api, ids: dict[str, str]
) -> None:
    found = await hood(api, ids["gsp"], depth=2, kinds=["PERSON"], first=100)
    # The speakers of INSER's launch, an event the GSP organised.
    assert rows(found) == [
        ("ghaouti-lamiae", "INCOMING", "SPEAKER_AT"),
        ("lifeng-li", "INCOMING", "SPEAKER_AT"),
        ("thorunn-wolfram-petursdottir", "INCOMING", "SPEAKER_AT"),
        ("yuxin-tong", "INCOMING", "SPEAKER_AT"),
    ]
    assert {hop["record"]["__typename"] for hop in hops(found)} == {"Person"}
    assert found["totalCount"] == 4
    two = await hood(api, ids["gsp"], depth=2, kinds=["PLACE", "SDG_TARGET"], first=100)
    assert [(r[0], h["distance"]) for r, h in zip(rows(two), hops(two), strict=True)] == [
        ("europe", 2),
        ("sdg-15-3", 2),
    ]


async def test_pages_follow_each_other(api: Api, ids: dict[str, str]) -> None:
    whole = await hood(api, ids["gsp"], depth=2, first=100)
    seen: list[str] = []
    after = None
    for _ in range(10):
        page = await hood(api, ids["gsp"], depth=2, first=25, after=after)
        seen += [hop["record"]["slug"] for hop in hops(page)]
        assert page["totalCount"] == 58
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [hop["record"]["slug"] for hop in hops(whole)]
    assert len(seen) == 58
    # Backwards from the end: the last 8, then the 8 before them.
    last = await hood(api, ids["gsp"], depth=2, last=8)
    assert [hop["record"]["slug"] for hop in hops(last)] == seen[-8:]
    assert last["pageInfo"]["hasPreviousPage"] is True
    before = await hood(api, ids["gsp"], depth=2, last=8, before=last["pageInfo"]["startCursor"])
    assert [hop["record"]["slug"] for hop in hops(before)] == seen[-16:-8]
    # A page the first level fills reads no name of the second, and still counts all 58.
    small = await hood(api, ids["gsp"], depth=2, first=5)
    assert [hop["record"]["slug"] for hop in hops(small)] == seen[:5]
    assert small["totalCount"] == 58
    assert small["pageInfo"]["hasNextPage"] is True


async def test_pages_of_one_kind_follow_each_other(api: Api, ids: dict[str, str]) -> None:
    whole = await hood(api, ids["gsp"], depth=2, kinds=["ORGANIZATION"], first=100)
    expected = [hop["record"]["slug"] for hop in hops(whole)]
    seen: list[str] = []
    after = None
    while True:
        page = await hood(api, ids["gsp"], depth=2, kinds=["ORGANIZATION"], first=4, after=after)
        seen += [hop["record"]["slug"] for hop in hops(page)]
        assert page["totalCount"] == len(expected)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected
    assert {hop["record"]["__typename"] for hop in hops(whole)} == {"Organization"}
    assert len(expected) == 18
    assert expected[:3] == ["easp", "esp", "fao"]


async def test_a_cursor_fits_only_its_own_neighbourhood(api: Api, ids: dict[str, str]) -> None:
    page = await hood(api, ids["gsp"], first=2)
    cursor = page["pageInfo"]["endCursor"]
    for other in (
        {"id": ids["esp"]},
        {"id": ids["gsp"], "depth": 2},
        {"id": ids["gsp"], "direction": "INCOMING"},
        {"id": ids["gsp"], "kinds": ["ORGANIZATION"]},
    ):
        variables = {"id": ids["gsp"], "depth": 1, "direction": "BOTH", **other, "after": cursor}
        assert code(await api.post(HOOD, variables)) == ("INVALID_CURSOR", None)
    # This list's tag around a key of another shape: made by hand, refused too.
    [(_, tag), *_] = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    forged = encode_cursor(tag, ["esp", 1])
    variables = {"id": ids["gsp"], "depth": 1, "direction": "BOTH", "after": forged}
    assert code(await api.post(HOOD, variables)) == ("INVALID_CURSOR", None)


async def test_bad_arguments_get_coded_errors(api: Api, ids: dict[str, str]) -> None:
    gsp = {"id": ids["gsp"], "depth": 1, "direction": "BOTH"}
    cases = [
        ({"id": "not-an-id"}, ("INVALID_ID", None)),
        ({"depth": 0}, ("BAD_USER_INPUT", "depth")),
        ({"depth": 4}, ("BAD_USER_INPUT", "depth")),
        ({"predicates": []}, ("BAD_USER_INPUT", "predicates")),
        ({"kinds": []}, ("BAD_USER_INPUT", "kinds")),
        ({"id": ids["source"]}, ("BAD_USER_INPUT", "id")),
        ({"first": 101}, ("PAGE_SIZE_EXCEEDED", "first")),
        ({"after": "bm90IGEgY3Vyc29y"}, ("INVALID_CURSOR", None)),
    ]
    for change, expected in cases:
        body = await api.post(HOOD, {**gsp, **change})
        assert body["data"] == {"neighbourhood": None}, change
        assert code(body) == expected, change


async def test_an_id_of_no_record_gives_null(api: Api, ids: dict[str, str]) -> None:
    assert await hood(api, encode("Organization", uuid.UUID(int=0))) is None
    # The GSP's own id under another type names no record either, as with `node`.
    _, raw = decode(ids["gsp"])
    assert await hood(api, encode("Event", raw)) is None


async def test_a_walk_reaching_too_many_records_is_refused(
    api: Api, ids: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graph, "MAX_WALK_RECORDS", 40)
    body = await api.post(HOOD, {"id": ids["gsp"], "depth": 2, "direction": "BOTH"})
    assert body["data"] == {"neighbourhood": None}
    assert code(body) == ("BAD_USER_INPUT", "depth")
    assert "more than 40 records are within reach" in body["errors"][0]["message"]
    # One level is 16 records: within the bound.
    assert (await hood(api, ids["gsp"]))["totalCount"] == 16
    # The bound is on the records reached, the start aside: 58 may be reached, not 59.
    monkeypatch.setattr(graph, "MAX_WALK_RECORDS", 58)
    assert (await hood(api, ids["gsp"], depth=2))["totalCount"] == 58
    monkeypatch.setattr(graph, "MAX_WALK_RECORDS", 57)
    body = await api.post(HOOD, {"id": ids["gsp"], "depth": 2, "direction": "BOTH"})
    assert code(body) == ("BAD_USER_INPUT", "depth")


# --- paths -----------------------------------------------------------------------------------


async def path(api: Api, start: str, target: str, **arguments: Any) -> dict[str, Any] | None:
    variables = {"from": start, "to": target, "maxDepth": 4, "direction": "BOTH", **arguments}
    found: dict[str, Any] | None = (await api.data(PATH, variables))["path"]
    return found


def chain(found: dict[str, Any]) -> list[tuple[int, str, str, tuple[str, str, str]]]:
    return [
        (hop["distance"], hop["direction"], hop["record"]["slug"], ends(hop))
        for hop in found["hops"]
    ]


async def test_a_subregional_partnership_up_to_fao(api: Api, ids: dict[str, str]) -> None:
    found = await path(api, ids["aspir"], ids["fao"], direction="OUTGOING")
    assert found is not None
    assert found["length"] == 3
    assert chain(found) == [
        (1, "OUTGOING", "esp", ("aspir", "SUB_ORGANIZATION_OF", "esp")),
        (2, "OUTGOING", "gsp", ("esp", "SUB_ORGANIZATION_OF", "gsp")),
        (3, "OUTGOING", "fao", ("gsp", "HOSTED_BY", "fao")),
    ]
    # With its provenance: "The Global Soil Partnership ... hosted by FAO".
    [hosted] = found["hops"][2]["relation"]["sources"]
    assert hosted["evidence"] == "STATED"
    assert "FAO" in hosted["quote"]
    # Either way gives a chain as short; nothing shorter links them.
    both = await path(api, ids["aspir"], ids["fao"])
    assert both is not None
    assert both["length"] == 3


async def test_a_path_walked_backwards(api: Api, ids: dict[str, str]) -> None:
    found = await path(api, ids["fao"], ids["aspir"], direction="INCOMING")
    assert found is not None
    assert chain(found) == [
        (1, "INCOMING", "gsp", ("gsp", "HOSTED_BY", "fao")),
        (2, "INCOMING", "esp", ("esp", "SUB_ORGANIZATION_OF", "gsp")),
        (3, "INCOMING", "aspir", ("aspir", "SUB_ORGANIZATION_OF", "esp")),
    ]


async def test_no_path_is_null(api: Api, ids: dict[str, str]) -> None:
    # FAO is no subject of a relation that leads down to ASPir.
    assert await path(api, ids["fao"], ids["aspir"], direction="OUTGOING") is None
    # Three relations are needed.
    assert await path(api, ids["aspir"], ids["fao"], maxDepth=2) is None
    # The organisational tree alone does not reach FAO (hosting is not part of it).
    tree = ["SUB_ORGANIZATION_OF", "UNIT_OF"]
    assert await path(api, ids["aspir"], ids["fao"], predicates=tree, maxDepth=6) is None
    found = await path(api, ids["aspir"], ids["gsp"], predicates=tree)
    assert found is not None
    assert [hop["record"]["slug"] for hop in found["hops"]] == ["esp", "gsp"]
    nobody = encode("Organization", uuid.UUID(int=0))
    assert await path(api, ids["aspir"], nobody) is None
    assert await path(api, nobody, ids["aspir"]) is None


async def test_a_path_to_itself_has_no_hops(api: Api, ids: dict[str, str]) -> None:
    assert await path(api, ids["gsp"], ids["gsp"]) == {"length": 0, "hops": []}


async def test_bad_path_arguments_get_coded_errors(api: Api, ids: dict[str, str]) -> None:
    base = {"from": ids["aspir"], "to": ids["fao"], "maxDepth": 4, "direction": "BOTH"}
    cases = [
        ({"from": "nope"}, ("INVALID_ID", None)),
        ({"to": ids["source"]}, ("BAD_USER_INPUT", "to")),
        ({"maxDepth": 0}, ("BAD_USER_INPUT", "maxDepth")),
        ({"maxDepth": 7}, ("BAD_USER_INPUT", "maxDepth")),
        ({"predicates": []}, ("BAD_USER_INPUT", "predicates")),
    ]
    for change, expected in cases:
        body = await api.post(PATH, {**base, **change})
        assert body["data"] == {"path": None}, change
        assert code(body) == expected, change


# --- statements, cost and rate limit ---------------------------------------------------------


async def test_statements_do_not_grow_with_the_records_reached(
    engine_api: Api, ids: dict[str, str]
) -> None:
    counts = {}
    for depth in (1, 2, 3):
        found = await hood(engine_api, ids["gsp"], depth=depth, first=100)
        counts[depth] = (len(found["edges"]), engine_api.last_statements)
        # The compiler does not plan walks: the resolvers answer on both engines.
        assert engine_api.last_runs == (
            {"resolvers": 1} if engine_api.name == "compiled" else {"compiler_off": 1}
        )
    assert [edges for edges, _ in counts.values()] == [16, 58, 92]
    # The bucket update, the walk, the records reached, their relations, the relations' ends.
    assert {statements for _, statements in counts.values()} == {5}, counts
    found = await path(engine_api, ids["aspir"], ids["fao"])
    assert found is not None
    assert engine_api.last_statements == 5


async def test_walks_are_priced_by_depth_and_page(api: Api, ids: dict[str, str]) -> None:
    costs = {}
    for depth in (1, 2, 3):
        body = await api.post(HOOD, {"id": ids["gsp"], "depth": depth, "direction": "BOTH"})
        costs[depth] = body["extensions"]["cost"]
    # The walk's records (100, 10,000, then the bound on a walk) and a page of 20 hops.
    assert [cost["maxNodes"] for cost in costs.values()] == [
        100 + 20,
        10_000 + 20,
        graph.MAX_WALK_RECORDS + 20,
    ]
    assert [cost["requestedQueryCost"] for cost in costs.values()] == [1, 11, 51]
    assert [cost["pageRequests"] for cost in costs.values()] == [2, 3, 4]
    body = await api.post(
        PATH, {"from": ids["aspir"], "to": ids["fao"], "maxDepth": 2, "direction": "BOTH"}
    )
    # Two levels, and at most six hops, each with its relation's sources (a list counted
    # as a default page of 20).
    hops_at_most = graph.MAX_PATH_DEPTH
    assert body["extensions"]["cost"]["maxNodes"] == 10_000 + hops_at_most + hops_at_most * 20


async def test_walks_are_charged_to_the_rate_limit(engine: AsyncEngine) -> None:
    api_key = f"test-{uuid.uuid4().hex}"
    settings = Settings(
        database_url="postgresql://unused",
        rate_limit_capacity=60,
        rate_limit_refill_per_minute=1,
        rate_limit_api_keys=api_key,
        response_cache_enabled=False,
    )
    app = create_app(settings, engine=engine)
    headers = {"x-api-key": api_key, "accept": "application/graphql-response+json"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        found = await http.post("/graphql", json={"query": IDS}, headers=headers)
        gsp = found.json()["data"]["gsp"]["id"]
        variables = {"id": gsp, "depth": 3, "direction": "BOTH"}
        answers = [
            await http.post(
                "/graphql", json={"query": HOOD, "variables": variables}, headers=headers
            )
            for _ in range(2)
        ]
    await app.state.version_probe.close()
    # 60 points: the lookup costs 1, a walk three levels deep 51, so the second is refused.
    assert [a.status_code for a in answers] == [200, 429]
    assert answers[0].headers["ratelimit-remaining"] == "8"
    assert answers[1].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_graphiqls_example_walks_around_the_esp(api: Api, ids: dict[str, str]) -> None:
    """GraphiQL's neighbourhood tab names the ESP by its global ID: it must be the ESP's."""
    assert NEIGHBOURHOOD.variables == {"id": ids["esp"]}
    body = await api.post(NEIGHBOURHOOD.query, NEIGHBOURHOOD.variables)
    assert "errors" not in body, body
    found = body["data"]["neighbourhood"]
    hops = found["nodes"]
    assert found["totalCount"] == 28
    assert [(h["distance"], h["record"]["name"]) for h in hops[:2]] == [
        (1, "Alpine Subregional Soil Partnership"),
        (1, "Eurasian Subregional Soil Partnership"),
    ]
