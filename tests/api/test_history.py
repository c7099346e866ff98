"""A record's history (`revision`, `createdAt`, `updatedAt`, `changedBy`, `revisions`) and
the change feed (`changes`), on the seed data with revisions written the only way there is
(soilapi.repositories.history.record), committed so the API's own connections see them.

The `api` client compares every answer with the resolvers'; `engine_api` tests run on both.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import Api
from soilapi.db.history import Revision
from soilapi.db.models import Entity, Relation
from soilapi.graphql import ids
from soilapi.graphql.pagination import feed_cursor
from soilapi.repositories.history import NewRevision, record
from soilapi.vocab import Operation

SOURCE = {
    "document": "000",
    "line_start": 5,
    "line_end": 7,
    "quote": "Global Soil Partnership (2012)",
    "evidence": "stated",
}
PAGE = {"url": "https://example.org/gsp", "title": "GSP", "read_on": "2025-09-26"}


@dataclass
class Written:
    """What the fixture wrote: the feed's cursor before it, and its revisions' ids."""

    before: int
    ids: list[int]
    gsp: uuid.UUID
    esp: uuid.UUID
    relation: uuid.UUID
    ghost: uuid.UUID  # created and retired: only its history remains
    base: dict[uuid.UUID, int]  # each target's revision number before the fixture


async def _ids(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    async with engine.connect() as conn:
        slugs = dict((await conn.execute(sa.select(Entity.slug, Entity.id))).all())
        relation = await conn.scalar(
            sa.select(Relation.id)
            .where(Relation.subject_id == slugs["esp"], Relation.object_id == slugs["gsp"])
            .order_by(Relation.id)
            .limit(1)
        )
    assert relation is not None
    return slugs["gsp"], slugs["esp"], relation


def change(target: uuid.UUID, kind: str, operation: Operation, **extra: Any) -> NewRevision:
    values: dict[str, Any] = {"actor": "key:pk_test1", "actor_role": "partner", "diff": {}}
    values.update(extra)
    return NewRevision(target_id=target, kind=kind, operation=operation, **values)


@pytest.fixture(scope="module")
async def written(engine: AsyncEngine) -> AsyncIterator[Written]:
    """Six revisions in three committed transactions; undone (revisions deleted, numbers and
    times restored) after the module, so other tests see the seed as it was."""
    gsp, esp, relation = await _ids(engine)
    ghost = uuid.UUID("00000000-0000-4000-8000-00000000beef")
    async with engine.connect() as conn:
        before = await conn.scalar(sa.select(sa.func.coalesce(sa.func.max(Revision.id), 0)))
        saved = (
            await conn.execute(
                sa.select(Entity.id, Entity.revision, Entity.updated_at).where(
                    Entity.id.in_([gsp, esp])
                )
            )
        ).all()
        old_relation = await conn.scalar(
            sa.select(Relation.revision).where(Relation.id == relation)
        )
    base = {row.id: row.revision for row in saved} | {relation: old_relation, ghost: 0}
    batches = [
        [
            change(
                gsp,
                "organization",
                Operation.UPDATE,
                provenance=SOURCE,
                diff={"acronym": ["GSP", "G.S.P."]},
                comment="as written in 000",
                request_id="req-1",
            ),
            change(
                relation,
                "relation",
                Operation.UPDATE,
                provenance=PAGE,
                diff={"note": [None, "regional"]},
            ),
        ],
        [
            change(
                gsp,
                "organization",
                Operation.UPDATE,
                actor="key:pk_cur01",
                actor_role="curator",
                approved_by="key:pk_cur01",
                provenance={"stated": True, "evidence": "stated", "quote": "we host it"},
                diff={
                    "start": [
                        {"iso": "2012", "precision": "YEAR"},
                        {"iso": "2012-12", "precision": "MONTH"},
                    ]
                },
            ),
            change(ghost, "output", Operation.CREATE, diff={"name": [None, "Draft"]}),
        ],
        [change(ghost, "output", Operation.RETIRE, diff={"name": ["Draft", None]})],
        [
            change(
                esp,
                "organization",
                Operation.UPDATE,
                actor="seed:000.yaml",
                actor_role="seed",
                diff={"description": ["a", "b"]},
            )
        ],
    ]
    done: list[int] = []
    for batch in batches:
        async with engine.begin() as conn:
            done += [found.id for found in await record(conn, batch)]
    yield Written(before, done, gsp, esp, relation, ghost, base)
    async with engine.begin() as conn:
        await conn.execute(sa.delete(Revision).where(Revision.id.in_(done)))
        for row in saved:
            await conn.execute(
                sa.update(Entity)
                .where(Entity.id == row.id)
                .values(revision=row.revision, updated_at=row.updated_at)
            )
        await conn.execute(
            sa.update(Relation).where(Relation.id == relation).values(revision=old_relation)
        )


HISTORY = """
{ organization(slug: "gsp") {
    revision changedBy { actor role }
    revisions(first: 5) { totalCount pageInfo { hasNextPage }
      nodes { number operation kind changedBy { actor role } approvedBy requestId comment
        target diff { field before after }
        provenance { document lines { start end } quote evidence url title readOn stated }
        record { __typename ... on Organization { slug } } relation { predicate } } }
    relations(direction: BOTH, first: 50) {
      nodes { subject { slug } predicate revision changedBy { actor role }
        revisions { nodes { number diff { field before after }
          provenance { url title readOn } } } } }
} }
"""


async def test_a_records_history_newest_first(api: Api, written: Written) -> None:
    data = (await api.data(HISTORY))["organization"]
    gsp_id = ids.encode("Organization", written.gsp)
    base = written.base[written.gsp]
    assert data["revision"] == base + 2
    assert data["changedBy"] == {"actor": "key:pk_cur01", "role": "CURATOR"}
    revisions = data["revisions"]
    assert revisions["totalCount"] == base + 2
    assert revisions["nodes"][:2] == [
        {
            "number": base + 2,
            "operation": "UPDATE",
            "kind": "ORGANIZATION",
            "changedBy": {"actor": "key:pk_cur01", "role": "CURATOR"},
            "approvedBy": "key:pk_cur01",
            "requestId": None,
            "comment": None,
            "target": gsp_id,
            "diff": [
                {
                    "field": "start",
                    "before": {"iso": "2012", "precision": "YEAR"},
                    "after": {"iso": "2012-12", "precision": "MONTH"},
                }
            ],
            "provenance": {
                "document": None,
                "lines": None,
                "quote": "we host it",
                "evidence": "STATED",
                "url": None,
                "title": None,
                "readOn": None,
                "stated": True,
            },
            "record": {"__typename": "Organization", "slug": "gsp"},
            "relation": None,
        },
        {
            "number": base + 1,
            "operation": "UPDATE",
            "kind": "ORGANIZATION",
            "changedBy": {"actor": "key:pk_test1", "role": "PARTNER"},
            "approvedBy": None,
            "requestId": "req-1",
            "comment": "as written in 000",
            "target": gsp_id,
            "diff": [{"field": "acronym", "before": "GSP", "after": "G.S.P."}],
            "provenance": {
                "document": "000",
                "lines": {"start": 5, "end": 7},
                "quote": "Global Soil Partnership (2012)",
                "evidence": "STATED",
                "url": None,
                "title": None,
                "readOn": None,
                "stated": False,
            },
            "record": {"__typename": "Organization", "slug": "gsp"},
            "relation": None,
        },
    ]
    changed = [r for r in data["relations"]["nodes"] if r["revision"] > 0]
    [esp] = [
        r
        for r in changed
        if (r["subject"]["slug"], r["predicate"]) == ("esp", "SUB_ORGANIZATION_OF")
    ]
    relation_base = written.base[written.relation]
    assert esp["revision"] == relation_base + 1
    assert esp["changedBy"] == {"actor": "key:pk_test1", "role": "PARTNER"}
    assert esp["revisions"]["nodes"][0] == {
        "number": relation_base + 1,
        "diff": [{"field": "note", "before": None, "after": "regional"}],
        "provenance": {"url": PAGE["url"], "title": "GSP", "readOn": "2025-09-26"},
    }
    # The GSP's other relations have the seed's CREATE alone.
    seeded = [r for r in data["relations"]["nodes"] if r is not esp]
    assert len(seeded) > 10
    assert {(r["revision"], r["changedBy"]["role"]) for r in seeded} == {(1, "SEED")}


TIMES = """
{ organizations(first: 100) { nodes { slug revision createdAt updatedAt } } }
"""


async def test_times_are_rfc_3339_utc_and_the_engines_write_them_alike(
    api: Api, engine: AsyncEngine, written: Written
) -> None:
    # `api` compares the compiler's text (to_char in SQL) with the resolvers' (Python).
    nodes = (await api.data(TIMES))["organizations"]["nodes"]
    assert api.last_runs == {"compiled": 1}
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(Entity.slug, Entity.created_at, Entity.updated_at))
        stored = {row.slug: row for row in rows}
    for node in nodes:
        row = stored[node["slug"]]
        assert node["createdAt"] == row.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert datetime.fromisoformat(node["updatedAt"]) == row.updated_at
    by_slug = {node["slug"]: node for node in nodes}
    assert by_slug["gsp"]["updatedAt"] > by_slug["gsp"]["createdAt"]
    assert by_slug["esp"]["revision"] == written.base[written.esp] + 1


FEED = """
query($after: String, $kinds: [RecordKind!], $first: Int) {
  changes(after: $after, kinds: $kinds, first: $first) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { number operation kind target changedBy { actor }
      record { id } relation { predicate } } }
  }
}
"""


async def _follow(api: Api, after: str, size: int, kinds: list[str] | None = None) -> list[Any]:
    """Every change from `after`, page by page, as a client would read them."""
    seen: list[Any] = []
    while True:
        page = (await api.data(FEED, {"after": after, "first": size, "kinds": kinds}))["changes"]
        seen += page["edges"]
        assert page["pageInfo"]["endCursor"] is not None
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return seen


async def test_the_feed_lists_every_change_once_in_commit_order(api: Api, written: Written) -> None:
    start = feed_cursor(written.before)
    gsp, esp = ids.encode("Organization", written.gsp), ids.encode("Organization", written.esp)
    ghost = ids.encode("Output", written.ghost)
    relation = ids.encode("Relation", written.relation)
    expected = [
        ("UPDATE", "ORGANIZATION", gsp, True),
        ("UPDATE", "RELATION", relation, False),
        ("UPDATE", "ORGANIZATION", gsp, True),
        ("CREATE", "OUTPUT", ghost, False),
        ("RETIRE", "OUTPUT", ghost, False),
        ("UPDATE", "ORGANIZATION", esp, True),
    ]
    for size in (1, 2, 4, 100):
        edges = await _follow(api, start, size)
        assert [e["cursor"] for e in edges] == [feed_cursor(i) for i in written.ids]
        found = [
            (n["operation"], n["kind"], n["target"], n["record"] is not None)
            for n in (e["node"] for e in edges)
        ]
        assert found == expected
    relation_change = edges[1]["node"]
    assert relation_change["relation"] == {"predicate": "SUB_ORGANIZATION_OF"}
    assert relation_change["record"] is None
    assert edges[0]["node"]["record"] == {"id": gsp}
    # The tombstone and the creation before it: the record is gone, its ID stays.
    assert [edges[3]["node"]["record"], edges[4]["node"]["record"]] == [None, None]
    # From any saved cursor: the changes after it, each once.
    middle = await _follow(api, edges[2]["cursor"], 2)
    assert [e["cursor"] for e in middle] == [feed_cursor(i) for i in written.ids[3:]]


async def test_the_feed_by_kind(api: Api, written: Written) -> None:
    start = feed_cursor(written.before)
    outputs = await _follow(api, start, 1, ["OUTPUT", "RELATION"])
    assert [(e["node"]["kind"], e["node"]["operation"]) for e in outputs] == [
        ("RELATION", "UPDATE"),
        ("OUTPUT", "CREATE"),
        ("OUTPUT", "RETIRE"),
    ]
    body = await api.post(FEED, {"kinds": []})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "kinds"


async def test_past_the_end_the_page_is_empty_and_keeps_the_cursor(
    api: Api, written: Written
) -> None:
    last = feed_cursor(written.ids[-1])
    page = (await api.data(FEED, {"after": last}))["changes"]
    assert page == {"pageInfo": {"hasNextPage": False, "endCursor": last}, "edges": []}
    beyond = feed_cursor(written.ids[-1] + 1000)
    page = (await api.data(FEED, {"after": beyond}))["changes"]
    assert page == {"pageInfo": {"hasNextPage": False, "endCursor": beyond}, "edges": []}
    nothing = (await api.data(FEED, {"first": 0}))["changes"]
    assert nothing["pageInfo"]["endCursor"] == feed_cursor(0)


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"after": "not-a-cursor"}, "INVALID_CURSOR"),
        ({"after": "W1sidCIsInJldmlzaW9ucyJdLFsiaSIsMV1d"}, "INVALID_CURSOR"),  # `revisions`'
        ({"first": 101}, "PAGE_SIZE_EXCEEDED"),
        ({"first": -1}, "BAD_USER_INPUT"),
    ],
)
async def test_bad_feed_arguments(api: Api, variables: dict[str, Any], code: str) -> None:
    body = await api.post(FEED, variables)
    assert body["data"] is None  # `changes` is non-null, as every list
    assert body["errors"][0]["extensions"]["code"] == code


async def test_a_feed_page_costs_the_same_statements_whatever_its_size(
    engine_api: Api, written: Written
) -> None:
    start = feed_cursor(written.before)
    counts = []
    for size in (2, 6):  # each page holds records and a relation
        page = (await engine_api.data(FEED, {"after": start, "first": size}))["changes"]
        assert len(page["edges"]) == size
        counts.append(engine_api.last_statements)
        assert "resolvers" not in engine_api.last_runs  # the compiler planned it
    if engine_api.name == "compiled":  # the bucket, then one statement builds the page's JSON
        assert counts == [2, 2]
    else:  # the bucket, the page, its records, its relations
        assert counts == [4, 4]


NESTED = """
query($first: Int!) { organizations(first: $first) { nodes { slug revision createdAt
  changedBy { actor } revisions(first: 3) { totalCount nodes { number changedAt
    diff { field } } } } } }
"""


async def test_revisions_are_batched_per_level(engine_api: Api, written: Written) -> None:
    counts = []
    for first in (2, 49):
        data = await engine_api.data(NESTED, {"first": first})
        assert len(data["organizations"]["nodes"]) == first
        counts.append(engine_api.last_statements)
        assert "resolvers" not in engine_api.last_runs  # the compiler planned it
    if engine_api.name == "compiled":  # the bucket, and one statement for the whole answer
        assert counts == [2, 2]
    else:  # bucket, list, the revisions' pages, their counts, the latest revisions
        assert counts == [5, 5]
    nodes = {n["slug"]: n for n in data["organizations"]["nodes"]}
    assert [r["number"] for r in nodes["gsp"]["revisions"]["nodes"][:2]] == [
        written.base[written.gsp] + 2,
        written.base[written.gsp] + 1,
    ]
    assert nodes["esp"]["changedBy"] == {"actor": "seed:000.yaml"}


async def test_revisions_page_backwards_and_forwards(api: Api, written: Written) -> None:
    query = """query($after: String) { organization(slug: "gsp") {
      revisions(first: 1, after: $after) { pageInfo { hasNextPage endCursor }
        nodes { number } } } }"""
    first = (await api.data(query))["organization"]["revisions"]
    top = written.base[written.gsp] + 2
    assert first["nodes"] == [{"number": top}]
    assert first["pageInfo"]["hasNextPage"] is True
    second = await api.data(query, {"after": first["pageInfo"]["endCursor"]})
    assert second["organization"]["revisions"]["nodes"] == [{"number": top - 1}]


WHOLE_FEED = """
query WholeFeed($after: String) { changes(after: $after, first: 6) {
  totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  nodes { __typename number operation kind target changedAt approvedBy requestId comment
    changedBy { __typename actor role } diff { __typename field before after }
    provenance { document lines { start end } quote evidence url title readOn stated }
    record { __typename id ... on Entity { slug revision changedBy { actor role }
      revisions(first: 2) { totalCount pageInfo { hasNextPage endCursor }
        nodes { number operation diff { field } } } } }
    relation { __typename id predicate revision createdAt updatedAt changedBy { actor role }
      subject { slug } object { slug } start { iso } end { iso }
      revisions(first: 1) { nodes { number changedAt provenance { url } } } } } } }
"""


async def test_the_compiler_answers_every_field_of_the_feed(
    api: Api, engine: AsyncEngine, written: Written
) -> None:
    # `api` compares the answer with the resolvers'; here the compiler must have made it.
    start = feed_cursor(written.before)
    found = (await api.data(WHOLE_FEED, {"after": start}))["changes"]
    assert api.last_runs == {"compiled": 1}
    async with engine.connect() as conn:
        total = await conn.scalar(sa.select(sa.func.count()).select_from(Revision))
    assert found["totalCount"] == total
    assert found["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": feed_cursor(written.ids[0]),
        "endCursor": feed_cursor(written.ids[-1]),
    }
    nodes = found["nodes"]
    gsp, relation = nodes[0], nodes[1]
    top = written.base[written.gsp] + 2
    assert gsp["record"]["revisions"]["totalCount"] == top
    assert [r["number"] for r in gsp["record"]["revisions"]["nodes"]] == [top, top - 1]
    assert gsp["record"]["changedBy"] == {"actor": "key:pk_cur01", "role": "CURATOR"}
    assert gsp["provenance"]["lines"] == {"start": 5, "end": 7}
    number = written.base[written.relation] + 1
    assert relation["changedBy"] == {
        "__typename": "ChangeActor",
        "actor": "key:pk_test1",
        "role": "PARTNER",
    }
    assert relation["diff"] == [
        {"__typename": "FieldChange", "field": "note", "before": None, "after": "regional"}
    ]
    assert relation["provenance"] == {
        "document": None,
        "lines": None,
        "quote": None,
        "evidence": None,
        "url": PAGE["url"],
        "title": "GSP",
        "readOn": "2025-09-26",
        "stated": False,
    }
    assert relation["record"] is None
    edge = relation["relation"]
    assert (edge["subject"], edge["object"]) == ({"slug": "esp"}, {"slug": "gsp"})
    assert (edge["predicate"], edge["revision"]) == ("SUB_ORGANIZATION_OF", number)
    assert edge["id"] == relation["target"] == ids.encode("Relation", written.relation)
    assert edge["updatedAt"] == relation["changedAt"] > edge["createdAt"]
    assert edge["revisions"]["nodes"] == [
        {"number": number, "changedAt": relation["changedAt"], "provenance": {"url": PAGE["url"]}}
    ]
    # The output created then retired: its history alone, no record.
    assert [(n["operation"], n["record"], n["relation"]) for n in nodes[3:5]] == [
        ("CREATE", None, None),
        ("RETIRE", None, None),
    ]


async def test_a_feed_page_with_histories_is_one_statement_whatever_its_size(
    engine_api: Api, written: Written
) -> None:
    counts = []
    for after in (written.before, written.before - 40):  # 6 changes, then 46 in the page
        page = await engine_api.data(WHOLE_FEED.replace("first: 6", "first: 50"),
                                     {"after": feed_cursor(after)})  # fmt: skip
        assert len(page["changes"]["nodes"]) == written.ids[-1] - after
        counts.append(engine_api.last_statements)
    if engine_api.name == "compiled":  # the bucket, and the statement
        assert counts == [2, 2]
    else:  # the bucket, then at most one per level of the query, whatever its rows: the
        # page and its count, the records, their revisions and counts, the latest revisions,
        # the relations, their ends, their revisions (a level with no row costs none)
        assert max(counts) <= 11, counts
