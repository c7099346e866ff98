"""A relation's copies of its ends' names and kinds (soilapi.db.models.Relation) follow every
write: relation lists sort by them, on both engines, so a record renamed moves in its
parents' lists at once, and a new relation is listed in its place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.conftest import app_client, writable_database
from tests.writes.test_writes import STATED, issue, org_id, post

from soilapi.settings import Settings
from soilapi.vocab import Role

# Relations whose copies differ from the records at their ends.
DIFFERING = """
SELECT count(*) FROM relations AS r
JOIN entities AS s ON s.id = r.subject_id
JOIN entities AS o ON o.id = r.object_id
WHERE (r.subject_name, r.subject_kind, r.object_name, r.object_kind)
   IS DISTINCT FROM (s.name, s.kind, o.name, o.kind)
"""
CHILDREN = '{ organization(slug: "esp") { children(first: 50) { nodes { slug name } } } }'
RENAME = """mutation($input: OrganizationUpdateInput!) {
  organizationUpdate(input: $input) { errors { code } } }"""
RELATE = """mutation($input: RelationCreateInput!) {
  relationCreate(input: $input) { errors { code } } }"""


@pytest.fixture(scope="module")
async def db(server_url: str) -> AsyncIterator[AsyncEngine]:
    async with writable_database(server_url) as engine:
        yield engine


@pytest.fixture(scope="module", params=["compiled", "resolvers"])
async def http(db: AsyncEngine, request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url="postgresql://unused",
        rate_limit_enabled=False,
        response_cache_enabled=False,
        query_compiler=request.param == "compiled",
    )
    async with app_client(db, settings) as client:
        yield client


async def _differing(db: AsyncEngine) -> tuple[int, int]:
    async with db.connect() as conn:
        differing = (await conn.execute(sa.text(DIFFERING))).scalar_one()
        total = (await conn.execute(sa.text("SELECT count(*) FROM relations"))).scalar_one()
    return int(differing), int(total)


async def _children(http: httpx.AsyncClient) -> list[str]:
    data: dict[str, Any] = await post(http, CHILDREN, {})
    return [node["slug"] for node in data["organization"]["children"]["nodes"]]


async def test_the_seeds_relations_name_their_ends_as_the_records_do(db: AsyncEngine) -> None:
    differing, total = await _differing(db)
    assert total > 100
    assert differing == 0


async def test_a_renamed_record_moves_in_its_parents_list(
    http: httpx.AsyncClient, db: AsyncEngine
) -> None:
    curator = await issue(db, Role.CURATOR, [])
    before = await _children(http)
    assert len(before) > 2
    first = before[0]
    renamed = {"id": await org_id(http, first), "fields": {"name": "Zz renamed " + first}}
    written = await post(http, RENAME, {"input": {**renamed, "source": STATED}}, curator)
    assert written["organizationUpdate"]["errors"] == []
    after = await _children(http)
    # Unnumbered children come by name: the renamed one is now last.
    assert after == [*before[1:], first]
    assert (await _differing(db))[0] == 0


async def test_a_new_relation_is_listed_by_its_ends_name(
    http: httpx.AsyncClient, db: AsyncEngine
) -> None:
    curator = await issue(db, Role.CURATOR, [])
    before = await _children(http)
    newcomer = next(slug for slug in ("fao", "giz") if slug not in before)
    relation = {
        "subject": await org_id(http, newcomer),
        "predicate": "SUB_ORGANIZATION_OF",
        "object": await org_id(http, "esp"),
        "source": STATED,
    }
    written = await post(http, RELATE, {"input": relation}, curator)
    assert written["relationCreate"]["errors"] == []
    names = (await post(http, CHILDREN, {}))["organization"]["children"]["nodes"]
    # ESP's children are unnumbered: by name, the newcomer among them.
    assert [node["name"] for node in names] == sorted(node["name"] for node in names)
    assert sorted(node["slug"] for node in names) == sorted([*before, newcomer])
    assert (await _differing(db))[0] == 0
