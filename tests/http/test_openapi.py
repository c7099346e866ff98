"""No public OpenAPI document: FastAPI's would only list /healthz, and it is one more surface."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import app_client


async def test_there_is_no_public_openapi_document(engine: AsyncEngine) -> None:
    async with app_client(engine) as http:
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert (await http.get(path)).status_code == 404, path
        assert (await http.get("/healthz")).status_code == 200
