"""Rate limiting as a client sees it: RateLimit headers on every answer, then a 429."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.app import create_app
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
