"""No public OpenAPI document: FastAPI's would only list /healthz, and it is one more surface."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.app import create_app
from soilapi.settings import Settings


async def test_there_is_no_public_openapi_document(engine: AsyncEngine) -> None:
    app = create_app(Settings(database_url="postgresql://unused"), engine=engine)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            for path in ("/openapi.json", "/docs", "/redoc"):
                assert (await http.get(path)).status_code == 404, path
            assert (await http.get("/healthz")).status_code == 200
    finally:
        await app.state.version_probe.close()
