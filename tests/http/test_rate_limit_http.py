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
        rate_limit_points_per_cpu_second=0,  # only the requested cost: 1 point each
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


async def test_the_cpu_a_document_took_is_charged_with_the_next_request(
    engine: AsyncEngine,
) -> None:
    """A 5 KB document repeating one field costs ~0.1 s of CPU to validate but fetches one
    row: its client pays for that time (500 points per CPU second) with its next request,
    and again each time a changed character defeats the caches."""
    api_key = f"test-{uuid.uuid4().hex}"
    settings = Settings(
        database_url="postgresql://unused",
        rate_limit_capacity=5000,
        rate_limit_refill_per_minute=1,  # no refill to speak of during the test
        rate_limit_api_keys=api_key,
        response_cache_enabled=False,
    )
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    headers = {"x-api-key": api_key}

    def heavy(i: int) -> str:
        return f"{{ organizations(first: 1) {{ nodes {{ n{i}: name {'name ' * 1000} }} }} }}"

    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:

        async def remaining(query: str) -> int:
            answer = await http.post("/graphql", json={"query": query}, headers=headers)
            assert answer.status_code == 200
            return int(answer.headers["ratelimit-remaining"])

        light = '{ organization(slug: "gsp") { name } }'
        before = await remaining(light)
        after_light = await remaining(light)
        assert before - after_light <= 2  # its own point, and a millisecond or two of CPU
        charged = [await remaining(heavy(i)) for i in range(3)]
        after = await remaining(light)
    await app.state.version_probe.close()
    # Each heavy document asks for 11 points (10 for its 1,002 selections) before it runs;
    # the next request pays for the CPU it took, at least 0.05 s each here (25 points).
    assert after_light - charged[0] >= 11
    assert charged[0] - charged[1] >= 11 + 25
    assert charged[1] - charged[2] >= 11 + 25
    assert charged[2] - after >= 1 + 25
