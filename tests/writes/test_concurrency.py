"""Writes at the same moment: one of N conflicting writes wins, and no revision is lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.conftest import app_client, writable_database

from soilapi.services import keys
from soilapi.settings import Settings
from soilapi.vocab import Role

N = 8
STATED = {"evidence": "STATED", "stated": True, "quote": "As the curator reads it."}
UPDATE = """mutation($input: OrganizationUpdateInput!) {
  organizationUpdate(input: $input) { revision errors { code currentRevision } } }"""
CREATE = """mutation($input: OrganizationCreateInput!) {
  organizationCreate(input: $input) { organization { id } errors { code } } }"""


@pytest.fixture(scope="module")
async def setup(server_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, AsyncEngine, str]]:
    async with writable_database(server_url) as db:
        async with db.begin() as conn:
            key = (await keys.create(conn, Role.CURATOR, [], "concurrency")).secret
        settings = Settings(database_url="postgresql://unused", rate_limit_enabled=False)
        async with app_client(db, settings) as http:
            yield http, db, key


async def post(http: httpx.AsyncClient, key: str, query: str, variables: Any) -> dict[str, Any]:
    body = {"query": query, "variables": variables}
    response = await http.post("/graphql", json=body, headers={"x-api-key": key})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def revisions_of(db: AsyncEngine, target: str) -> int:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.text("SELECT count(*) FROM revisions WHERE target_id = CAST(:t AS uuid)"),
            {"t": target},
        )
        return int(found.scalar_one())


async def uuid_of(http: httpx.AsyncClient, slug: str) -> tuple[str, str]:
    found = await http.post(
        "/graphql", json={"query": f'{{ organization(slug: "{slug}") {{ id }} }}'}
    )
    global_id = found.json()["data"]["organization"]["id"]
    from soilapi.graphql import ids  # noqa: PLC0415

    return global_id, str(ids.decode(global_id)[1])


async def test_one_of_n_conflicting_writes_wins(
    setup: tuple[httpx.AsyncClient, AsyncEngine, str],
) -> None:
    http, db, key = setup
    global_id, target = await uuid_of(http, "itps")
    before = await revisions_of(db, target)
    writes = [
        post(
            http,
            key,
            UPDATE,
            {
                "input": {
                    "id": global_id,
                    "expectedRevision": 1,
                    "fields": {"description": f"Writer {n}"},
                    "source": STATED,
                }
            },
        )
        for n in range(N)
    ]
    answers = [a["organizationUpdate"] for a in await asyncio.gather(*writes)]
    won = [a for a in answers if not a["errors"]]
    lost = [a["errors"] for a in answers if a["errors"]]
    assert len(won) == 1
    assert won[0]["revision"] == 2  # after the seed's CREATE
    assert lost == [[{"code": "CONFLICT", "currentRevision": 2}]] * (N - 1)
    assert await revisions_of(db, target) == before + 1


async def test_n_writes_to_different_records_all_succeed(
    setup: tuple[httpx.AsyncClient, AsyncEngine, str],
) -> None:
    http, _db, key = setup
    writes = [
        post(
            http,
            key,
            CREATE,
            {
                "input": {
                    "slug": f"parallel-{n}",
                    "fields": {"name": f"Parallel {n}"},
                    "source": STATED,
                }
            },
        )
        for n in range(N)
    ]
    answers = [a["organizationCreate"] for a in await asyncio.gather(*writes)]
    assert [a["errors"] for a in answers] == [[]] * N
    assert len({a["organization"]["id"] for a in answers}) == N


async def test_two_creates_racing_for_one_slug_give_one_record(
    setup: tuple[httpx.AsyncClient, AsyncEngine, str],
) -> None:
    http, _db, key = setup
    variables = {"input": {"slug": "contested", "fields": {"name": "Contested"}, "source": STATED}}
    answers = await asyncio.gather(*(post(http, key, CREATE, variables) for _ in range(4)))
    codes = sorted(e["code"] for a in answers for e in a["organizationCreate"]["errors"])
    assert len(codes) == 3
    assert set(codes) <= {"SLUG_TAKEN", "CONFLICT"}
