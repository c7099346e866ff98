"""What writes check and what they record: sources, cycles, numbers, dates, retirement, the
agreements' sort dates, and that a mutation never runs over GET."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.conftest import app_client, writable_database

from soilapi.repositories import writes as repo
from soilapi.seed.loader import agreement_dates
from soilapi.services import keys
from soilapi.settings import Settings
from soilapi.vocab import Role

STATED = {"evidence": "STATED", "stated": True, "quote": "As the curator reads it."}
ALPSP = {
    "evidence": "STATED",
    "document": "000",
    "lineStart": 22,
    "lineEnd": 25,
    "quote": "the Alpine Subregional Soil Partnership (AlpSP)",
}


@pytest.fixture(scope="module")
async def world(server_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, AsyncEngine, str]]:
    async with writable_database(server_url) as db:
        async with db.begin() as conn:
            key = (await keys.create(conn, Role.CURATOR, [], "rules")).secret
        settings = Settings(database_url="postgresql://unused", rate_limit_enabled=False)
        async with app_client(db, settings) as http:
            yield http, db, key


async def write(world: Any, mutation: str, input_type: str, selection: str, value: Any) -> Any:
    http, _db, key = world
    query = f"mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ {selection} }} }}"
    response = await http.post(
        "/graphql", json={"query": query, "variables": {"input": value}}, headers={"x-api-key": key}
    )
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"][mutation]


async def org(world: Any, slug: str) -> str:
    http = world[0]
    found = await http.post("/graphql", json={"query": f'{{ entity(slug: "{slug}") {{ id }} }}'})
    return str(found.json()["data"]["entity"]["id"])


async def test_a_document_source_is_checked_against_its_lines(world: Any) -> None:
    alpsp = await org(world, "alpsp")
    update = {"id": alpsp, "fields": {"acronym": "AlpSP"}}
    wrong = dict(ALPSP, quote="the Baltic Subregional Soil Partnership")
    found = await write(
        world,
        "organizationUpdate",
        "OrganizationUpdateInput",
        "errors { field code }",
        {**update, "source": wrong},
    )
    assert found["errors"] == [{"field": ["source", "quote"], "code": "INVALID"}]
    missing = dict(ALPSP, document="999")
    found = await write(
        world,
        "organizationUpdate",
        "OrganizationUpdateInput",
        "errors { field code }",
        {**update, "source": missing},
    )
    assert found["errors"] == [{"field": ["source", "document"], "code": "NOT_FOUND"}]


async def test_a_web_page_source_backs_the_changed_field(world: Any) -> None:
    easp = await org(world, "easp")
    source = {
        "evidence": "STATED",
        "url": "https://example.org/easp",
        "title": "EASP",
        "readOn": "2026-12-01",
        "quote": "Founded in 2015",
    }
    found = await write(
        world,
        "organizationUpdate",
        "OrganizationUpdateInput",
        "organization { start { value precision }"
        " sources { nodes { property quote document { url readOn } } } } errors { code }",
        {"id": easp, "fields": {"start": "2015"}, "source": source},
    )
    assert found["errors"] == []
    assert found["organization"]["start"] == {"value": "2015-01-01", "precision": "YEAR"}
    sources = found["organization"]["sources"]["nodes"]
    # The seed's own source of EASP's start stays; the new one backs the new value.
    backing = [s for s in sources if s["property"] == "start" and s["document"]["url"]]
    assert backing == [
        {
            "property": "start",
            "quote": "Founded in 2015",
            "document": {"url": "https://example.org/easp", "readOn": "2026-12-01"},
        }
    ]


async def test_a_relation_that_closes_a_cycle_is_refused(world: Any) -> None:
    gsp, alpsp = await org(world, "gsp"), await org(world, "alpsp")
    found = await write(
        world,
        "relationCreate",
        "RelationCreateInput",
        "errors { field code }",
        {"subject": gsp, "predicate": "SUB_ORGANIZATION_OF", "object": alpsp, "source": STATED},
    )
    assert found["errors"] == [{"field": ["object"], "code": "CYCLE"}]


async def test_numbers_and_dates_out_of_range_are_field_errors(world: Any) -> None:
    agreement = await org(world, "4p1000-partner-01")
    fields = {
        "name": "Bad",
        "agreement": agreement,
        "ordinal": 99,
        "instrumentType": "SECONDMENT",
        "rawText": "x",
        "fte": -0.5,
        "start": "2022",
        "end": "2021-05",
    }
    found = await write(
        world,
        "agreementInstrumentCreate",
        "AgreementInstrumentCreateInput",
        "errors { field code }",
        {"slug": "bad-instrument", "fields": fields, "source": STATED},
    )
    assert {tuple(e["field"]) for e in found["errors"]} == {("fte",)}
    fields["fte"] = 0.5
    found = await write(
        world,
        "agreementInstrumentCreate",
        "AgreementInstrumentCreateInput",
        "errors { field code }",
        {"slug": "bad-instrument", "fields": fields, "source": STATED},
    )
    assert found["errors"] == [{"field": ["end"], "code": "INVALID"}]


async def test_an_instrument_moves_its_agreements_sort_dates(world: Any) -> None:
    _http, db, _key = world
    agreement = await org(world, "4p1000-partner-01")
    fields = {
        "name": "Early grant",
        "agreement": agreement,
        "ordinal": 50,
        "instrumentType": "GRANT_AGREEMENT",
        "rawText": "A grant",
        "signed": "2001-02",
    }
    found = await write(
        world,
        "agreementInstrumentCreate",
        "AgreementInstrumentCreateInput",
        "errors { code }",
        {"slug": "early-grant", "fields": fields, "source": STATED},
    )
    assert found["errors"] == []
    async with db.connect() as conn:
        stored = await conn.execute(
            sa.text(
                "SELECT earliest_signed_date::text, earliest_start_date::text "
                "FROM partner_agreements p JOIN entities e USING (id) "
                "WHERE e.slug = '4p1000-partner-01'"
            )
        )
        assert stored.one() == ("2001-02-01", "2001-02-01")


async def test_the_sql_sort_dates_agree_with_the_seed_loaders(world: Any) -> None:
    """repositories.writes.refresh_agreement_dates and seed.loader.agreement_dates compute the
    same thing: for every agreement, the SQL's dates equal the loader's function applied to the
    instruments the database holds (the seed's and any another test added)."""
    _http, db, _key = world
    async with db.begin() as conn:
        held = await conn.execute(
            sa.text(
                "SELECT a.id, i.signed_date, e.start_date FROM partner_agreements a "
                "LEFT JOIN agreement_instruments i ON i.agreement_id = a.id "
                "LEFT JOIN entities e ON e.id = i.id"
            )
        )
        instruments: dict[Any, list[tuple[Any, Any]]] = {}
        for row in held:
            pairs = instruments.setdefault(row.id, [])
            if row.signed_date is not None or row.start_date is not None:
                pairs.append((row.signed_date, row.start_date))
        await repo.refresh_agreement_dates(conn, list(instruments))
        rows = await conn.execute(
            sa.text("SELECT id, earliest_signed_date, earliest_start_date FROM partner_agreements")
        )
        found = {row.id: (row.earliest_signed_date, row.earliest_start_date) for row in rows}
        await conn.rollback()
    assert len(found) == 22
    assert found == {i: agreement_dates(pairs) for i, pairs in instruments.items()}


async def test_retiring_keeps_the_history_with_its_relations(world: Any) -> None:
    _http, db, _key = world
    made = await write(
        world,
        "organizationCreate",
        "OrganizationCreateInput",
        "organization { id } errors { code }",
        {
            "slug": "to-retire",
            "fields": {"name": "To retire"},
            "owners": [await org(world, "fao")],
            "source": STATED,
        },
    )
    gone = await write(
        world,
        "organizationRetire",
        "RetireInput",
        "revision errors { code }",
        {"id": made["organization"]["id"], "expectedRevision": 1},
    )
    assert gone == {"revision": 2, "errors": []}
    async with db.connect() as conn:
        history = await conn.execute(
            sa.text(
                "SELECT kind, operation, diff->'slug' FROM revisions WHERE actor LIKE 'key:%' "
                "AND (diff->'slug'->>0 = 'to-retire' OR diff->'slug'->>1 = 'to-retire') ORDER BY id"
            )
        )
        assert [tuple(r) for r in history] == [
            ("organization", "create", [None, "to-retire"]),
            ("organization", "retire", ["to-retire", None]),
        ]
        tombstones = await conn.execute(
            sa.text(
                "SELECT diff->'subject', diff->'predicate', diff->'object' FROM revisions "
                "WHERE kind = 'relation' AND operation = 'retire'"
            )
        )
        # Its tie to FAO went with it; like the seed's diffs, a reference reads as a slug.
        assert [tuple(r) for r in tombstones] == [
            (["to-retire", None], ["sub_organization_of", None], ["fao", None])
        ]


async def test_mutations_never_run_over_get(world: Any) -> None:
    http, _db, key = world
    query = 'mutation { relationRetire(input: {id: "x"}) { errors { code } } }'
    response = await http.get(
        "/graphql",
        params={"query": query},
        headers={"x-api-key": key, "accept": "application/graphql-response+json"},
    )
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_a_country_must_be_an_iso_code_in_use(world: Any) -> None:
    easp = await org(world, "easp")
    for code in ("XX", "fr", "FRA"):
        found = await write(
            world,
            "organizationUpdate",
            "OrganizationUpdateInput",
            "errors { field code }",
            {"id": easp, "fields": {"country": code}, "source": STATED},
        )
        assert found["errors"] == [{"field": ["country"], "code": "INVALID"}], code


async def test_a_new_alias_is_found_by_search_and_can_be_removed(world: Any) -> None:
    http = world[0]
    gsp = await org(world, "gsp")
    made = await write(
        world,
        "nameCreate",
        "NameCreateInput",
        "revision errors { code }",
        {
            "subject": gsp,
            "fields": {"value": "Worldwide Soil Compact", "kind": "ALIAS"},
            "source": STATED,
        },
    )
    assert made["errors"] == []
    search = '{ search(query: "Worldwide Soil Compact") { nodes { field node { slug } } } }'
    hits = (await http.post("/graphql", json={"query": search})).json()["data"]["search"]["nodes"]
    assert hits[0] == {"field": "ALIAS", "node": {"slug": "gsp"}}
    names = '{ organization(slug: "gsp") { names { nodes { id value } } } }'
    found = (await http.post("/graphql", json={"query": names})).json()["data"]["organization"]
    [alias] = [n for n in found["names"]["nodes"] if n["value"] == "Worldwide Soil Compact"]
    gone = await write(world, "nameRetire", "RetireInput", "errors { code }", {"id": alias["id"]})
    assert gone["errors"] == []
    hits = (await http.post("/graphql", json={"query": search})).json()["data"]["search"]["nodes"]
    assert all(hit["field"] != "ALIAS" for hit in hits)
