"""The authorisation matrix: every mutation, by every role, in scope and out of scope.

A partner's key acts for FAO. In scope, it writes; out of scope, its change becomes a
proposal and nothing else changes; without a key (or with a revoked one) nothing changes at
all; curators and admins write anywhere. Every cell checks the data version too: a write
that was refused or proposed leaves it where it was.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.conftest import app_client, writable_database

from soilapi.graphql.schema import schema
from soilapi.services import keys
from soilapi.settings import Settings
from soilapi.vocab import Role

STATED = {"evidence": "STATED", "stated": True, "quote": "As the partner states."}
ROLES = ("anonymous", "revoked", "partner", "curator", "admin")
SCOPES = ("in", "out")
counter = itertools.count(1)


@dataclass
class World:
    http: httpx.AsyncClient
    db: AsyncEngine
    keys: dict[str, str]

    async def post(self, query: str, variables: dict[str, Any], role: str) -> dict[str, Any]:
        key = self.keys.get(role)
        headers = {"x-api-key": key} if key else {}
        body = {"query": query, "variables": variables}
        response = await self.http.post("/graphql", json=body, headers=headers)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        assert "errors" not in found, found["errors"]
        return found["data"]

    async def id_of(self, slug: str) -> str:
        data = await self.post(
            "query($s: String!) { entity(slug: $s) { id } }", {"s": slug}, "curator"
        )
        return str(data["entity"]["id"])

    async def create(self, kind: str, fields: dict[str, Any], owners: list[str]) -> str:
        """A record made by the curator, for a cell to work on."""
        name = kind[0].upper() + kind[1:]
        query = f"""mutation($input: {name}CreateInput!) {{
          {kind}Create(input: $input) {{ {kind} {{ id }} errors {{ message }} }} }}"""
        variables = {
            "input": {"slug": f"matrix-{next(counter)}", "fields": fields, "source": STATED}
        }
        if owners:
            variables["input"]["owners"] = owners
        data = (await self.post(query, variables, "curator"))[f"{kind}Create"]
        assert data["errors"] == [], data["errors"]
        return str(data[kind]["id"])

    async def version(self) -> int:
        async with self.db.connect() as conn:
            return int(
                (
                    await conn.execute(
                        sa.text("SELECT coalesce(max(version), 0) FROM data_versions")
                    )
                ).scalar_one()
            )


Prepare = Callable[[World, str], Awaitable[tuple[str, dict[str, Any]]]]


def org_fields() -> dict[str, Any]:
    return {"name": f"Matrix organisation {next(counter)}"}


async def owner(world: World, scope: str) -> list[str]:
    return [await world.id_of("fao")] if scope == "in" else []


async def target_org(world: World, scope: str) -> str:
    return await world.create("organization", org_fields(), await owner(world, scope))


async def agreement(world: World, scope: str) -> str:
    fields = {
        "name": "Matrix agreement",
        "owner": await world.id_of("4p1000"),
        "ordinal": 1000 + next(counter),
        "rawText": "Matrix agreement",
    }
    return await world.create("partnerAgreement", fields, await owner(world, scope))


def record_update(kind: str, make: Callable[[World, str], Awaitable[str]]) -> Prepare:
    async def prepare(world: World, scope: str) -> tuple[str, dict[str, Any]]:
        name = kind[0].upper() + kind[1:]
        query = f"""mutation($input: {name}UpdateInput!) {{
          {kind}Update(input: $input) {{ revision changeRequest errors {{ code }} }} }}"""
        target = await make(world, scope)
        return query, {
            "input": {"id": target, "fields": {"description": "Changed."}, "source": STATED}
        }

    return prepare


def retire(mutation: str, make: Callable[[World, str], Awaitable[str]]) -> Prepare:
    async def prepare(world: World, scope: str) -> tuple[str, dict[str, Any]]:
        query = f"""mutation($input: RetireInput!) {{
          {mutation}(input: $input) {{ revision changeRequest errors {{ code }} }} }}"""
        return query, {"input": {"id": await make(world, scope)}}

    return prepare


def record_create(
    kind: str, fields: Callable[[World, str], Awaitable[dict[str, Any]]], owned: bool
) -> Prepare:
    async def prepare(world: World, scope: str) -> tuple[str, dict[str, Any]]:
        name = kind[0].upper() + kind[1:]
        query = f"""mutation($input: {name}CreateInput!) {{
          {kind}Create(input: $input) {{ revision changeRequest errors {{ code }} }} }}"""
        variables: dict[str, Any] = {
            "slug": f"matrix-{next(counter)}",
            "fields": await fields(world, scope),
            "source": STATED,
        }
        if owned:
            variables["owners"] = await owner(world, scope)
        return query, {"input": variables}

    return prepare


async def plain(world: World, scope: str) -> dict[str, Any]:
    return {"name": f"Matrix record {next(counter)}"}


async def instrument_fields(world: World, scope: str) -> dict[str, Any]:
    return {
        "name": "Matrix instrument",
        "agreement": await agreement(world, scope),
        "ordinal": 1,
        "instrumentType": "GRANT_AGREEMENT",
        "rawText": "A grant",
        "fte": 0.5,
        "signed": "2024-03",
    }


async def post_fields(world: World, scope: str) -> dict[str, Any]:
    org = await world.id_of("fao" if scope == "in" else "esp")
    return {"name": "Matrix post", "organization": org, "label": "Matrix officer"}


async def instrument(world: World, scope: str) -> str:
    return await world.create("agreementInstrument", await instrument_fields(world, scope), [])


async def post_record(world: World, scope: str) -> str:
    return await world.create("post", await post_fields(world, scope), [])


async def owned(kind: str, world: World, scope: str) -> str:
    return await world.create(kind, {"name": f"Matrix {kind}"}, await owner(world, scope))


async def person(world: World, scope: str) -> str:
    return await world.create("person", {"name": "Matrix Person"}, [])


async def relation_create(world: World, scope: str) -> tuple[str, dict[str, Any]]:
    subject = await target_org(world, scope)
    query = """mutation($input: RelationCreateInput!) {
      relationCreate(input: $input) { revision changeRequest errors { code } } }"""
    variables = {
        "subject": subject,
        "predicate": "MEMBER_OF",
        "object": await world.id_of("gsp"),
        "source": STATED,
    }
    return query, {"input": variables}


async def relation(world: World, scope: str) -> str:
    subject = await target_org(world, scope)
    query = """mutation($input: RelationCreateInput!) {
      relationCreate(input: $input) { errors { code } } }"""
    variables = {
        "subject": subject,
        "predicate": "MEMBER_OF",
        "object": await world.id_of("gsp"),
        "source": STATED,
    }
    assert (await world.post(query, {"input": variables}, "curator"))["relationCreate"][
        "errors"
    ] == []
    found = await world.post(
        """query($id: ID!) { node(id: $id) { ... on Organization {
          relations(direction: OUTGOING) { nodes { id } } } } }""",
        {"id": subject},
        "curator",
    )
    return str(found["node"]["relations"]["nodes"][0]["id"])


FACTS = {
    "quantity": {"metric": "members", "value": 12, "qualifier": "EXACT"},
    "statement": {"property": "AIM", "text": "A matrix aim."},
    "name": {"value": "Matrix alias", "kind": "ALIAS"},
}
PLURALS = {"quantity": "quantities", "statement": "statements", "name": "names"}


def fact_create(fact: str) -> Prepare:
    async def prepare(world: World, scope: str) -> tuple[str, dict[str, Any]]:
        name = fact.capitalize()
        query = f"""mutation($input: {name}CreateInput!) {{
          {fact}Create(input: $input) {{ revision changeRequest errors {{ code }} }} }}"""
        subject = await target_org(world, scope)
        return query, {"input": {"subject": subject, "fields": FACTS[fact], "source": STATED}}

    return prepare


def fact(kind: str) -> Callable[[World, str], Awaitable[str]]:
    async def make(world: World, scope: str) -> str:
        query, variables = await fact_create(kind)(world, scope)
        assert (await world.post(query, variables, "curator"))[f"{kind}Create"]["errors"] == []
        plural = PLURALS[kind]
        found = await world.post(
            f"""query($id: ID!) {{ node(id: $id) {{ ... on Organization {{
              {plural} {{ nodes {{ id }} }} }} }} }}""",
            {"id": variables["input"]["subject"]},
            "curator",
        )
        return str(found["node"][plural]["nodes"][0]["id"])

    return make


async def proposal(world: World, scope: str) -> tuple[str, dict[str, Any]]:
    return await _review(world, "changeRequestApprove")


async def rejection(world: World, scope: str) -> tuple[str, dict[str, Any]]:
    query, variables = await _review(world, "changeRequestReject")
    variables["input"]["reason"] = "Not in the sources."
    return query, variables


async def _review(world: World, mutation: str) -> tuple[str, dict[str, Any]]:
    query, variables = await record_update("organization", target_org)(world, "out")
    data = (await world.post(query, variables, "partner"))["organizationUpdate"]
    assert data["changeRequest"] is not None
    review = f"""mutation($input: ChangeRequestReviewInput!) {{
      {mutation}(input: $input) {{ revision changeRequest errors {{ code }} }} }}"""
    return review, {"input": {"id": data["changeRequest"]}}


def by_kind(
    kind: str, make: Callable[[str, World, str], Awaitable[str]]
) -> Callable[[World, str], Awaitable[str]]:
    async def made(world: World, scope: str) -> str:
        return await make(kind, world, scope)

    return made


# Every mutation of the schema, and how to prepare a cell of it. Person records have no
# owners: a partner may only propose them (its "in scope" cell is a proposal too).
MUTATIONS: dict[str, Prepare] = {
    "organizationCreate": record_create("organization", plain, owned=True),
    "organizationUpdate": record_update("organization", target_org),
    "organizationRetire": retire("organizationRetire", target_org),
    "partnerAgreementCreate": record_create(
        "partnerAgreement", lambda w, s: _agreement_fields(w), owned=True
    ),
    "partnerAgreementUpdate": record_update("partnerAgreement", agreement),
    "partnerAgreementRetire": retire("partnerAgreementRetire", agreement),
    "agreementInstrumentCreate": record_create(
        "agreementInstrument", instrument_fields, owned=False
    ),
    "agreementInstrumentUpdate": record_update("agreementInstrument", instrument),
    "agreementInstrumentRetire": retire("agreementInstrumentRetire", instrument),
    "outputCreate": record_create("output", plain, owned=True),
    "outputUpdate": record_update("output", by_kind("output", owned)),
    "outputRetire": retire("outputRetire", by_kind("output", owned)),
    "eventCreate": record_create("event", plain, owned=True),
    "eventUpdate": record_update("event", by_kind("event", owned)),
    "eventRetire": retire("eventRetire", by_kind("event", owned)),
    "personCreate": record_create("person", plain, owned=False),
    "personUpdate": record_update("person", person),
    "personRetire": retire("personRetire", person),
    "postCreate": record_create("post", post_fields, owned=False),
    "postUpdate": record_update("post", post_record),
    "postRetire": retire("postRetire", post_record),
    "relationCreate": relation_create,
    "relationRetire": retire("relationRetire", relation),
    "quantityCreate": fact_create("quantity"),
    "quantityRetire": retire("quantityRetire", fact("quantity")),
    "statementCreate": fact_create("statement"),
    "statementRetire": retire("statementRetire", fact("statement")),
    "nameCreate": fact_create("name"),
    "nameRetire": retire("nameRetire", fact("name")),
    "changeRequestApprove": proposal,
    "changeRequestReject": rejection,
}
UNOWNED = {"personCreate", "personUpdate", "personRetire"}
REVIEWS = {"changeRequestApprove", "changeRequestReject"}


async def _agreement_fields(world: World) -> dict[str, Any]:
    return {
        "name": "Matrix agreement",
        "owner": await world.id_of("4p1000"),
        "ordinal": 1000 + next(counter),
        "rawText": "Matrix agreement",
    }


def expected(mutation: str, role: str, scope: str) -> str:
    """What a cell should do: "write", "propose", or refuse with a code."""
    if role in ("anonymous", "revoked"):
        return "UNAUTHENTICATED"
    if role in ("curator", "admin"):
        return "reject" if mutation == "changeRequestReject" else "write"
    if mutation in REVIEWS:
        return "FORBIDDEN"
    return "write" if scope == "in" and mutation not in UNOWNED else "propose"


CELLS = [(m, r, s) for m in MUTATIONS for r in ROLES for s in SCOPES]


def test_the_matrix_covers_every_mutation_of_the_schema() -> None:
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    assert set(MUTATIONS) == set(mutation_type.fields)


@pytest.fixture(scope="module")
async def world(server_url: str) -> AsyncIterator[World]:
    async with writable_database(server_url) as db:
        made: dict[str, str] = {}
        async with db.begin() as conn:
            made["partner"] = (await keys.create(conn, Role.PARTNER, ["fao"], "matrix")).secret
            made["curator"] = (await keys.create(conn, Role.CURATOR, [], "matrix")).secret
            made["admin"] = (await keys.create(conn, Role.ADMIN, [], "matrix")).secret
            revoked = await keys.create(conn, Role.CURATOR, [], "matrix")
            await keys.revoke(conn, revoked.prefix)
            made["revoked"] = revoked.secret
        settings = Settings(database_url="postgresql://unused", rate_limit_enabled=False)
        async with app_client(db, settings) as http:
            yield World(http, db, made)


@pytest.mark.parametrize(("mutation", "role", "scope"), CELLS)
async def test_cell(world: World, mutation: str, role: str, scope: str) -> None:
    query, variables = await MUTATIONS[mutation](world, scope)
    before = await world.version()
    payload = (await world.post(query, variables, role))[mutation]
    after = await world.version()
    want = expected(mutation, role, scope)
    codes = [e["code"] for e in payload["errors"]]
    if want == "write":
        assert codes == []
        assert payload["changeRequest"] is None
        assert payload["revision"] is not None
        assert after > before
    elif want == "reject":  # a decision, not a change to the registry
        assert codes == []
        assert payload["revision"] is None
        assert after == before
    elif want == "propose":
        assert codes == []
        assert payload["changeRequest"] is not None
        assert after == before
    else:
        assert codes == [want]
        assert after == before
