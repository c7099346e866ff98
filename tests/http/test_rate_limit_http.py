"""Rate limiting as a client sees it: RateLimit headers on every answer, then a 429."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.app import create_app
from soilapi.lru import caches
from soilapi.settings import Settings

QUERY = '{ organization(slug: "gsp") { name } }'


async def test_requests_past_the_bucket_get_429_with_retry_after(engine: AsyncEngine) -> None:
    api_key = f"test-{uuid.uuid4().hex}"  # a bucket of its own, whatever ran before
    settings = Settings(
        database_url="postgresql://unused",
        rate_limit_capacity=3,
        rate_limit_refill_per_minute=1,
        rate_limit_api_keys=api_key,
    )
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    headers = {"x-api-key": api_key, "accept": "application/graphql-response+json"}
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answers = [
            await http.post("/graphql", json={"query": QUERY}, headers=headers) for _ in range(4)
        ]
    await app.state.version_probe.close()
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert all(a.headers["ratelimit-limit"] == "3" for a in answers)
    refused = answers[3]
    assert int(refused.headers["retry-after"]) >= 1
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert "Rate limit exceeded" in error["message"]
    assert "data" not in refused.json()


async def test_rate_limiting_can_be_turned_off(engine: AsyncEngine) -> None:
    settings = Settings(database_url="postgresql://unused", rate_limit_enabled=False)
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.post("/graphql", json={"query": QUERY})
    await app.state.version_probe.close()
    assert answer.status_code == 200
    assert "ratelimit-limit" not in answer.headers


async def test_a_client_whose_documents_took_its_cpu_budget_waits(engine: AsyncEngine) -> None:
    """A 5 KB document repeating one field takes ~0.1 s of CPU to validate but fetches one
    row. Its client's CPU budget pays for that time; once the budget is spent the client is
    refused with 429 before its next document is parsed, and other clients are not."""
    attacker, neighbour = f"test-{uuid.uuid4().hex}", f"test-{uuid.uuid4().hex}"
    settings = Settings(
        database_url="postgresql://unused",
        rate_limit_api_keys=f"{attacker},{neighbour}",
        rate_limit_cpu_seconds_per_minute=0.6,  # 10 ms a second
        rate_limit_cpu_burst_seconds=0.02,
        response_cache_enabled=False,
    )
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    heavy = "{ organizations(first: 1) { nodes { " + "name " * 1000 + "} } }"
    light = '{ organization(slug: "gsp") { name } }'
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:

        async def ask(query: str, key: str) -> httpx.Response:
            return await http.post("/graphql", json={"query": query}, headers={"x-api-key": key})

        assert (await ask(light, attacker)).status_code == 200
        assert (await ask(heavy, attacker)).status_code == 200  # within the burst, then spent
        refused = await ask(light, attacker)
        assert (await ask(light, neighbour)).status_code == 200
        parsed_before = _documents_parsed()
        again = await ask(heavy + " ", attacker)  # a changed character: no cache can help
        assert _documents_parsed() == parsed_before  # refused before it was parsed
    await app.state.version_probe.close()
    assert refused.status_code == 429
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert "CPU time" in error["message"]
    # At least 0.05 s over a budget that refills 10 ms a second.
    assert int(refused.headers["retry-after"]) >= 5
    assert again.status_code == 429


def _documents_parsed() -> int:
    (figures,) = [f for f in caches() if f.name == "documents"]
    return figures.misses
