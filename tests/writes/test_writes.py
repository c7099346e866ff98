"""Writes through GraphQL: keys, scope, provenance, retries, conflicts, proposals, retiring.

Each module writes to a database of its own (conftest.writable_database).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.conftest import app_client, writable_database

from soilapi.services import keys
from soilapi.settings import Settings
from soilapi.vocab import Role

UPDATE = """
mutation($input: OrganizationUpdateInput!) {
  organizationUpdate(input: $input) {
    organization { name acronym revision: id }
    revision
    diff { field before after }
    changeRequest
    errors { field message code currentRevision }
  }
}"""
CREATE = """
mutation($input: OrganizationCreateInput!) {
  organizationCreate(input: $input) {
    organization { id slug name country }
    revision
    diff { field before after }
    changeRequest
    errors { field message code }
  }
}"""
LOOKUP = '{ organization(slug: "%s") { id name acronym } }'
STATED = {"evidence": "STATED", "stated": True, "quote": "Our acronym is FAO-UN."}


@pytest.fixture(scope="module")
async def db(server_url: str) -> AsyncIterator[AsyncEngine]:
    async with writable_database(server_url) as engine:
        yield engine


@pytest.fixture(scope="module")
async def http(db: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url="postgresql://unused", rate_limit_enabled=False)
    async with app_client(db, settings) as client:
        yield client


async def issue(db: AsyncEngine, role: Role, orgs: list[str]) -> str:
    async with db.begin() as conn:
        return (await keys.create(conn, role, orgs, "test")).secret


async def post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], key: str | None = None
) -> dict[str, Any]:
    headers = {"x-api-key": key} if key else {}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


async def org_id(http: httpx.AsyncClient, slug: str) -> str:
    found = await post(http, LOOKUP % slug, {})
    return str(found["organization"]["id"])


async def test_a_write_without_a_key_is_refused_and_writes_nothing(
    http: httpx.AsyncClient,
) -> None:
    fao = await org_id(http, "fao")
    data = await post(
        http, UPDATE, {"input": {"id": fao, "fields": {"acronym": "X"}, "source": STATED}}
    )
    payload = data["organizationUpdate"]
    assert payload["organization"] is None
    assert [e["code"] for e in payload["errors"]] == ["UNAUTHENTICATED"]
    assert (await post(http, LOOKUP % "fao", {}))["organization"]["acronym"] == "FAO"


async def test_a_partner_updates_its_own_organisation_with_a_revision(
    http: httpx.AsyncClient, db: AsyncEngine
) -> None:
    key = await issue(db, Role.PARTNER, ["fao"])
    fao = await org_id(http, "fao")
    data = await post(
        http,
        UPDATE,
        {
            "input": {
                "id": fao,
                "fields": {"acronym": "FAO-UN"},
                "source": STATED,
                "expectedRevision": 1,
            }
        },
        key,
    )
    payload = data["organizationUpdate"]
    assert payload["errors"] == []
    assert payload["revision"] == 2  # the seed's CREATE was the first
    assert payload["diff"] == [{"field": "acronym", "before": "FAO", "after": "FAO-UN"}]
    assert payload["organization"]["acronym"] == "FAO-UN"
    # The old revision is now stale: CONFLICT with the current one, and nothing written.
    stale = await post(
        http,
        UPDATE,
        {"input": {"id": fao, "fields": {"acronym": "F"}, "source": STATED, "expectedRevision": 1}},
        key,
    )
    [error] = stale["organizationUpdate"]["errors"]
    assert (error["code"], error["currentRevision"]) == ("CONFLICT", 2)
    assert (await post(http, LOOKUP % "fao", {}))["organization"]["acronym"] == "FAO-UN"


async def test_dry_run_returns_the_diff_and_writes_nothing(
    http: httpx.AsyncClient, db: AsyncEngine
) -> None:
    key = await issue(db, Role.CURATOR, [])
    itps = await org_id(http, "itps")
    data = await post(
        http,
        UPDATE,
        {"input": {"id": itps, "fields": {"country": "IT"}, "source": STATED, "dryRun": True}},
        key,
    )
    payload = data["organizationUpdate"]
    assert payload["diff"] == [{"field": "country", "before": None, "after": "IT"}]
    assert payload["organization"] is None
    assert payload["errors"] == []


async def test_bad_input_gets_field_errors_and_writes_nothing(
    http: httpx.AsyncClient, db: AsyncEngine
) -> None:
    key = await issue(db, Role.CURATOR, [])
    fields = {"name": "New\u0007Name", "country": "fr", "start": "2020", "end": "2019"}
    data = await post(
        http, CREATE, {"input": {"slug": "fao", "fields": fields, "source": STATED}}, key
    )
    errors = data["organizationCreate"]["errors"]
    assert {(tuple(e["field"]), e["code"]) for e in errors} == {
        (("name",), "INVALID"),
        (("country",), "INVALID"),
    }


async def test_idempotency_key_returns_the_first_answer(
    http: httpx.AsyncClient, db: AsyncEngine
) -> None:
    key = await issue(db, Role.CURATOR, [])
    variables = {
        "input": {
            "slug": "soil-test-network",
            "fields": {"name": "Soil Test Network", "country": "FR"},
            "source": STATED,
            "idempotencyKey": "create-1",
        }
    }
    first = (await post(http, CREATE, variables, key))["organizationCreate"]
    again = (await post(http, CREATE, variables, key))["organizationCreate"]
    assert first["errors"] == []
    assert again["errors"] == []
    assert again["organization"]["id"] == first["organization"]["id"]
    variables["input"]["fields"]["name"] = "Other"
    other = (await post(http, CREATE, variables, key))["organizationCreate"]
    assert [e["code"] for e in other["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]


async def test_an_out_of_scope_change_is_proposed_then_approved(
    http: httpx.AsyncClient, db: AsyncEngine
) -> None:
    partner = await issue(db, Role.PARTNER, ["giz"])
    curator = await issue(db, Role.CURATOR, [])
    esp = await org_id(http, "esp")
    proposed = (
        await post(
            http,
            UPDATE,
            {"input": {"id": esp, "fields": {"description": "Proposed text."}, "source": STATED}},
            partner,
        )
    )["organizationUpdate"]
    assert proposed["errors"] == []
    assert proposed["organization"] is None
    assert proposed["changeRequest"] is not None
    approve = """mutation($id: ID!) {
      changeRequestApprove(input: {id: $id}) { revision errors { code } }
    }"""
    denied = (await post(http, approve, {"id": proposed["changeRequest"]}, partner))[
        "changeRequestApprove"
    ]
    assert [e["code"] for e in denied["errors"]] == ["FORBIDDEN"]
    done = (await post(http, approve, {"id": proposed["changeRequest"]}, curator))[
        "changeRequestApprove"
    ]
    assert done["errors"] == []
    assert done["revision"] == 2
    found = await post(http, '{ organization(slug: "esp") { description } }', {})
    assert found["organization"]["description"] == "Proposed text."


async def test_retiring_removes_the_record_from_lookups(
    http: httpx.AsyncClient, db: AsyncEngine
) -> None:
    curator = await issue(db, Role.CURATOR, [])
    created = (
        await post(
            http,
            CREATE,
            {"input": {"slug": "short-lived", "fields": {"name": "Short-lived"}, "source": STATED}},
            curator,
        )
    )["organizationCreate"]
    retire = (
        "mutation($id: ID!) { organizationRetire(input: {id: $id}) { revision errors { code } } }"
    )
    done = (await post(http, retire, {"id": created["organization"]["id"]}, curator))[
        "organizationRetire"
    ]
    assert done["errors"] == []
    assert done["revision"] == 2
    assert (await post(http, LOOKUP % "short-lived", {}))["organization"] is None


HISTORY = """query($slug: String!) {
  organization(slug: $slug) {
    revision changedBy { actor role }
    revisions(first: 5) { nodes { number operation diff { field before after }
                                  changedBy { role } provenance { stated quote } } }
  }
}"""
FEED = """query($after: String) {
  changes(after: $after, first: 100) {
    pageInfo { endCursor hasNextPage }
    nodes { operation kind target record { id } diff { field } }
  }
}"""


async def test_a_write_is_in_the_records_history_and_the_feed(
    http: httpx.AsyncClient, db: AsyncEngine
) -> None:
    key = await issue(db, Role.CURATOR, [])
    start = None  # the feed's end: page through the seed's revisions and the tests' so far
    while True:
        info = (await post(http, FEED, {"after": start}))["changes"]["pageInfo"]
        start = info["endCursor"]
        if not info["hasNextPage"]:
            break
    eu = await org_id(http, "eu")
    fields = {"acronym": "EU-27", "start": "1993-11"}
    done = await post(http, UPDATE, {"input": {"id": eu, "fields": fields, "source": STATED}}, key)
    assert done["organizationUpdate"]["errors"] == []
    found = (await post(http, HISTORY, {"slug": "eu"}))["organization"]
    assert found["revision"] == 2
    assert found["changedBy"]["role"] == "CURATOR"
    revision, seeded = found["revisions"]["nodes"]  # newest first
    assert seeded["operation"] == "CREATE"
    assert seeded["changedBy"]["role"] == "SEED"
    assert revision["operation"] == "UPDATE"
    assert {d["field"]: (d["before"], d["after"]) for d in revision["diff"]} == {
        "acronym": ("EU", "EU-27"),
        "start": (None, "1993-11"),
    }
    assert revision["provenance"] == {"stated": True, "quote": STATED["quote"]}
    page = (await post(http, FEED, {"after": start}))["changes"]
    assert [(n["operation"], n["target"]) for n in page["nodes"]] == [("UPDATE", eu)]


REQUESTS = """query($status: ChangeRequestStatus) {
  changeRequests(status: $status, first: 10) {
    totalCount
    nodes { status stale proposer mutation baseRevision diff { field before after } }
  }
}"""


async def test_proposals_are_listed_for_curators_and_their_proposers(
    http: httpx.AsyncClient, db: AsyncEngine
) -> None:
    proposer = await issue(db, Role.PARTNER, ["giz"])
    other = await issue(db, Role.PARTNER, ["giz"])
    curator = await issue(db, Role.CURATOR, [])
    wbsp = await org_id(http, "wbsp")
    change = {
        "input": {"id": wbsp, "fields": {"purpose": "Soils of the Balkans."}, "source": STATED}
    }
    proposed = (await post(http, UPDATE, change, proposer))["organizationUpdate"]
    assert proposed["changeRequest"] is not None
    mine = (await post(http, REQUESTS, {"status": "PENDING"}, proposer))["changeRequests"]
    assert mine["totalCount"] == 1
    assert mine["nodes"] == [
        {
            "status": "PENDING",
            "stale": False,
            "proposer": mine["nodes"][0]["proposer"],
            "mutation": "recordUpdate",
            "baseRevision": 1,
            "diff": [{"field": "purpose", "before": None, "after": "Soils of the Balkans."}],
        }
    ]
    assert (await post(http, REQUESTS, {"status": "PENDING"}, other))["changeRequests"][
        "nodes"
    ] == []
    # A curator changes the record meanwhile: the proposal is stale, and approving it says so.
    edit = {"input": {"id": wbsp, "fields": {"acronym": "WB-SP"}, "source": STATED}}
    assert (await post(http, UPDATE, edit, curator))["organizationUpdate"]["errors"] == []
    listed = (await post(http, REQUESTS, {"status": "PENDING"}, curator))["changeRequests"]
    [stale] = [n for n in listed["nodes"] if n["proposer"] == mine["nodes"][0]["proposer"]]
    assert stale["stale"] is True
    approve = """mutation($id: ID!) {
      changeRequestApprove(input: {id: $id}) { errors { code currentRevision } } }"""
    done = await post(http, approve, {"id": proposed["changeRequest"]}, curator)
    assert done["changeRequestApprove"]["errors"] == [{"code": "STALE", "currentRevision": 2}]


async def test_change_requests_need_a_key(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": REQUESTS})
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_readmes_first_write_names_fao() -> None:
    """The README's curl example sends FAO's global ID; ids are stable, so it stays right."""
    from pathlib import Path  # noqa: PLC0415

    from soilapi.graphql import ids  # noqa: PLC0415
    from soilapi.seed.loader import entity_id  # noqa: PLC0415

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert ids.encode("Organization", entity_id("fao")) in readme


async def test_the_response_cache_never_serves_an_answer_older_than_a_write(
    db: AsyncEngine,
) -> None:
    key = await issue(db, Role.CURATOR, [])
    settings = Settings(
        database_url="postgresql://unused", rate_limit_enabled=False, response_cache_enabled=True
    )
    query = {"query": '{ organization(slug: "alpsp") { id purpose } }'}
    async with app_client(db, settings) as cached:
        first = await cached.post("/graphql", json=query)
        again = await cached.post("/graphql", json=query)
        assert again.headers.get("x-cache") == "hit"
        alpsp = first.json()["data"]["organization"]["id"]
        change = {"input": {"id": alpsp, "fields": {"purpose": "Alpine soils."}, "source": STATED}}
        assert (await post(cached, UPDATE, change, key))["organizationUpdate"]["errors"] == []
        after = await cached.post("/graphql", json=query)
        assert after.headers.get("x-cache") != "hit"
        assert after.json()["data"]["organization"]["purpose"] == "Alpine soils."
