"""Bearer tokens from an OpenID Connect provider: a loopback server publishes the signing
key (JWKS), tokens are signed with it, and only a valid one writes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from tests.conftest import app_client, writable_database

from soilapi.settings import Settings

ISSUER, AUDIENCE = "https://login.example.org", "soilapi"
SIGNING = rsa.generate_private_key(public_exponent=65537, key_size=2048)
FORGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
UPDATE = """mutation($id: ID!) { organizationUpdate(input: {id: $id, fields: {purpose: "Food."},
  source: {evidence: STATED, stated: true, quote: "We state it."}}) {
  changeRequest errors { code } } }"""
WHO = '{ organization(slug: "fao") { id changedBy { actor role } } }'


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    public = json.loads(RSAAlgorithm.to_jwk(SIGNING.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
async def http(server_url: str, jwks_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with writable_database(server_url) as db:
        settings = Settings(
            database_url="postgresql://unused",
            rate_limit_enabled=False,
            oidc_issuer=ISSUER,
            oidc_audience=AUDIENCE,
            oidc_jwks_url=jwks_url,
        )
        async with app_client(db, settings) as client:
            yield client


def token(key: Any = SIGNING, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-42",
        "iat": now,
        "exp": now + 300,
        "soilapi_role": "partner",
        "soilapi_organizations": ["fao"],
        **claims,
    }
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})


async def write(http: httpx.AsyncClient, bearer: str) -> dict[str, Any]:
    fao = (await http.post("/graphql", json={"query": WHO})).json()["data"]["organization"]["id"]
    headers = {"authorization": f"Bearer {bearer}"}
    body = {"query": UPDATE, "variables": {"id": fao}}
    found: dict[str, Any] = (await http.post("/graphql", json=body, headers=headers)).json()
    return found["data"]["organizationUpdate"]


async def test_a_valid_token_writes_in_its_partners_scope(http: httpx.AsyncClient) -> None:
    assert await write(http, token()) == {"changeRequest": None, "errors": []}
    found = (await http.post("/graphql", json={"query": WHO})).json()["data"]["organization"]
    assert found["changedBy"] == {"actor": "oidc:user-42", "role": "PARTNER"}


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"key": FORGER}, id="forged"),
        pytest.param({"exp": int(time.time()) - 10}, id="expired"),
        pytest.param({"aud": "another-api"}, id="another-audience"),
        pytest.param({"iss": "https://elsewhere.example.org"}, id="another-issuer"),
        pytest.param({"soilapi_role": "owner"}, id="unknown-role"),
    ],
)
async def test_an_invalid_token_writes_nothing(
    http: httpx.AsyncClient, bad: dict[str, Any]
) -> None:
    key = bad.pop("key", SIGNING)
    assert await write(http, token(key, **bad)) == {
        "changeRequest": None,
        "errors": [{"code": "UNAUTHENTICATED"}],
    }
