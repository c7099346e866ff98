"""API keys: issued by the command line and shown once, stored as a hash, revoked at once,
and charged by the rate limiter as a bucket of their own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.conftest import app_client, writable_database

from soilapi.settings import Settings

QUERY = '{ organization(slug: "gsp") { name } }'
UPDATE = """mutation($id: ID!) { organizationUpdate(input: {id: $id, fields: {purpose: "P."},
  source: {evidence: STATED, stated: true, quote: "We state it."}}) { errors { code } } }"""


@pytest.fixture(scope="module")
async def db(server_url: str) -> AsyncIterator[AsyncEngine]:
    async with writable_database(server_url) as engine:
        yield engine


def cli(db: AsyncEngine, *args: str) -> subprocess.CompletedProcess[str]:
    url = db.url.render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-c",
            "import sys; from soilapi.cli import main; main(sys.argv[1:])",
            "keys",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


async def test_a_key_is_shown_once_stored_as_a_hash_and_revoked_at_once(db: AsyncEngine) -> None:
    made = await asyncio.to_thread(cli, db, "create", "--role", "partner", "--org", "fao")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("sk_")
    assert "only time it is shown" in made.stderr
    prefix = secret.split("_")[1]
    listed = await asyncio.to_thread(cli, db, "list")
    assert prefix in listed.stdout
    assert secret not in listed.stdout
    async with db.connect() as conn:
        stored = (await conn.execute(sa.text("SELECT prefix, secret_sha256 FROM api_keys"))).all()
    assert all(secret not in (p, h) for p, h in stored)
    settings = Settings(database_url="postgresql://unused", rate_limit_enabled=False)
    async with app_client(db, settings) as http:
        fao = await http.post("/graphql", json={"query": '{ organization(slug: "fao") { id } }'})
        variables = {"id": fao.json()["data"]["organization"]["id"]}
        headers = {"x-api-key": secret}
        written = await http.post(
            "/graphql", json={"query": UPDATE, "variables": variables}, headers=headers
        )
        assert written.json()["data"]["organizationUpdate"]["errors"] == []
        revoked = await asyncio.to_thread(cli, db, "revoke", prefix)
        assert revoked.returncode == 0, revoked.stderr
        refused = await http.post(
            "/graphql", json={"query": UPDATE, "variables": variables}, headers=headers
        )
        assert refused.json()["data"]["organizationUpdate"]["errors"] == [
            {"code": "UNAUTHENTICATED"}
        ]
    again = await asyncio.to_thread(cli, db, "revoke", prefix)
    assert again.returncode == 1


async def test_a_partner_key_needs_an_organisation_that_exists(db: AsyncEngine) -> None:
    none = await asyncio.to_thread(cli, db, "create", "--role", "partner")
    assert none.returncode == 1
    assert "at least one organisation" in none.stderr
    unknown = await asyncio.to_thread(cli, db, "create", "--role", "partner", "--org", "nowhere")
    assert unknown.returncode == 1
    assert "nowhere" in unknown.stderr


async def test_the_rate_limiter_charges_a_live_key_its_own_bucket(db: AsyncEngine) -> None:
    made = await asyncio.to_thread(cli, db, "create", "--role", "curator")
    secret = made.stdout.strip()
    settings = Settings(
        database_url="postgresql://unused", rate_limit_capacity=3, rate_limit_refill_per_minute=1
    )
    async with app_client(db, settings, base_url="http://keys.test") as http:
        with_key = [
            (
                await http.post("/graphql", json={"query": QUERY}, headers={"x-api-key": secret})
            ).status_code
            for _ in range(4)
        ]
        # The network's own bucket is untouched by the key's requests; a key of the right
        # shape that is not live is charged to the network, like no key at all.
        stranger = "sk_000000000000_" + "x" * 40
        without = [
            (
                await http.post("/graphql", json={"query": QUERY}, headers={"x-api-key": stranger})
            ).status_code
            for _ in range(4)
        ]
    assert with_key == [200, 200, 200, 429]
    assert without == [200, 200, 200, 429]
