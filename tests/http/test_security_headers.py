"""Headers that keep browsers from misreading soilapi's answers, on every kind of response."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.app import create_app
from soilapi.settings import Settings

ASSET = "/graphql/static/graphiql/graphiql.min.js"


@pytest.fixture(scope="module")
async def app(engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    app = create_app(Settings(database_url="postgresql://unused"), engine=engine)

    @app.get("/test/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals")

    yield app
    await app.state.version_probe.close()


@pytest.fixture(scope="module")
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def responses(http: httpx.AsyncClient) -> dict[str, httpx.Response]:
    """One response of each kind the app gives, by what it is."""
    graphql = {"query": "{ __typename }"}
    return {
        "graphql json": await http.post("/graphql", json=graphql),
        "graphql error": await http.post("/graphql", json={"query": "{"}),
        "graphql get": await http.get("/graphql", params=graphql),
        "graphiql page": await http.get("/graphql", headers={"accept": "text/html"}),
        "static asset": await http.get(ASSET),
        "healthz": await http.get("/healthz"),
        "readyz": await http.get("/readyz"),
        "metrics": await http.get("/metrics"),
        "not found": await http.get("/no/such/page"),
        "method not allowed": await http.put("/graphql", json=graphql),
        "masked crash": await http.get("/test/crash"),
    }


async def test_every_response_forbids_sniffing_and_referrers(http: httpx.AsyncClient) -> None:
    found = await responses(http)
    assert found["masked crash"].status_code == 500
    assert found["static asset"].status_code == 200
    for kind, response in found.items():
        assert response.headers.get("x-content-type-options") == "nosniff", kind
        assert response.headers.get("referrer-policy") == "no-referrer", kind
        csp = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp, kind


async def test_api_answers_may_load_nothing(http: httpx.AsyncClient) -> None:
    """JSON opened in a browser tab runs nothing, whatever text it echoes."""
    response = await http.post("/graphql", json={"query": "{ <script>alert(1)</script> }"})
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert len(response.headers.get_list("content-security-policy")) == 1
