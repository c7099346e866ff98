"""A partner integration, end to end: it loads the dump, follows the feed, writes in its
scope, proposes a change outside it that a curator approves, and its mirror sees every change
exactly once and ends equal to the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.conftest import app_client, writable_database

from soilapi.services import keys
from soilapi.settings import Settings
from soilapi.vocab import Role

STATED = {"evidence": "STATED", "stated": True, "quote": "As FAO states it."}
FEED = """query($after: String) { changes(after: $after, first: 100) {
  pageInfo { endCursor hasNextPage }
  nodes { operation kind target number
          record { id ... on Entity { slug name acronym description } }
          relation { id } } } }"""


class Mirror:
    """What the integration keeps: records by global ID, the changes it applied."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.relations: set[str] = set()
        self.seen: list[tuple[str, str]] = []
        self.revisions: list[tuple[str, int]] = []
        self.cursor: str | None = None

    def load_dump(self, body: bytes) -> None:
        lines = [orjson.loads(line) for line in body.splitlines() if line]
        header, *entries = lines
        assert header["type"] == "header"
        self.cursor = header["cursor"]
        for entry in entries:
            if entry["type"] == "record":
                self.records[entry["id"]] = {
                    k: entry[k] for k in ("slug", "name", "acronym", "description")
                }
            else:
                self.relations.add(entry["id"])

    def apply(self, change: dict[str, Any]) -> None:
        self.seen.append((change["operation"], change["target"]))
        self.revisions.append((change["target"], change["number"]))
        if change["kind"] == "RELATION":
            if change["operation"] == "RETIRE":
                self.relations.discard(change["target"])
            else:
                self.relations.add(change["target"])
        elif change["operation"] == "RETIRE":
            self.records.pop(change["target"], None)
        elif change["record"] is not None:
            record = change["record"]
            self.records[record["id"]] = {
                k: record[k] for k in ("slug", "name", "acronym", "description")
            }


@pytest.fixture(scope="module")
async def world(server_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, AsyncEngine]]:
    async with writable_database(server_url) as db:
        settings = Settings(database_url="postgresql://unused", rate_limit_enabled=False)
        async with app_client(db, settings) as http:
            yield http, db


async def gql(http: httpx.AsyncClient, query: str, variables: Any, key: str | None = None) -> Any:
    headers = {"x-api-key": key} if key else {}
    body = (
        await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    ).json()
    assert "errors" not in body, body["errors"]
    return body["data"]


async def follow(http: httpx.AsyncClient, mirror: Mirror) -> None:
    while True:
        page = (await gql(http, FEED, {"after": mirror.cursor}))["changes"]
        for change in page["nodes"]:
            mirror.apply(change)
        mirror.cursor = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return


async def test_a_partner_integration_sees_every_change_once(
    world: tuple[httpx.AsyncClient, AsyncEngine],
) -> None:
    http, db = world
    async with db.begin() as conn:
        partner = (await keys.create(conn, Role.PARTNER, ["fao"], "integration")).secret
        curator = (await keys.create(conn, Role.CURATOR, [], "integration")).secret
    mirror = Mirror()
    dump = await http.get("/export.jsonl")
    assert dump.status_code == 200
    mirror.load_dump(dump.content)
    assert len(mirror.records) == 244
    await follow(http, mirror)
    assert mirror.seen == []  # the dump is current: nothing after its cursor

    ids = {
        s: (await gql(http, f'{{ entity(slug: "{s}") {{ id }} }}', None))["entity"]["id"]
        for s in ("fao", "esp")
    }
    # In scope: FAO's own acronym; an output FAO authored, then retired.
    update = """mutation($input: OrganizationUpdateInput!) {
      organizationUpdate(input: $input) { changeRequest errors { code } } }"""
    done = await gql(
        http,
        update,
        {"input": {"id": ids["fao"], "fields": {"acronym": "FAO-UN"}, "source": STATED}},
        partner,
    )
    assert done["organizationUpdate"] == {"changeRequest": None, "errors": []}
    create = """mutation($input: OutputCreateInput!) {
      outputCreate(input: $input) { output { id } errors { code } } }"""
    made = await gql(
        http,
        create,
        {
            "input": {
                "slug": "fao-soil-atlas-2027",
                "owners": [ids["fao"]],
                "fields": {"name": "Soil atlas 2027"},
                "source": STATED,
            }
        },
        partner,
    )
    output = made["outputCreate"]["output"]["id"]
    retire = "mutation($id: ID!) { outputRetire(input: {id: $id}) { errors { code } } }"
    assert (await gql(http, retire, {"id": output}, partner))["outputRetire"]["errors"] == []
    # Out of scope: the ESP's description, proposed, then approved by a curator.
    proposed = await gql(
        http,
        update,
        {
            "input": {
                "id": ids["esp"],
                "fields": {"description": "The European Soil Partnership, as FAO describes it."},
                "source": STATED,
            }
        },
        partner,
    )
    request = proposed["organizationUpdate"]["changeRequest"]
    assert request is not None
    await follow(http, mirror)
    halfway = len(mirror.seen)
    approve = "mutation($id: ID!) { changeRequestApprove(input: {id: $id}) { errors { code } } }"
    assert (await gql(http, approve, {"id": request}, curator))["changeRequestApprove"][
        "errors"
    ] == []
    await follow(http, mirror)

    # Every change once, in order: FAO's update; the output's creation and its tie to FAO;
    # its retirement with its tie's; then, after the approval, the ESP's update.
    assert len(mirror.revisions) == len(set(mirror.revisions)) == 6
    async with db.connect() as conn:
        written = await conn.execute(
            sa.text("SELECT count(*) FROM revisions WHERE actor LIKE 'key:%'")
        )
        assert written.scalar_one() == 6
    kinds = [op for op, _ in mirror.seen]
    assert kinds == ["UPDATE", "CREATE", "CREATE", "RETIRE", "RETIRE", "UPDATE"]
    assert halfway == 5
    assert mirror.seen[-1] == ("UPDATE", ids["esp"])
    assert output not in mirror.records
    # The mirror now equals the API, record for record.
    fresh = Mirror()
    fresh.load_dump((await http.get("/export.jsonl")).content)
    assert fresh.records == mirror.records
    assert fresh.relations == mirror.relations
    assert fresh.cursor == mirror.cursor
