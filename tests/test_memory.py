"""Memory stays bounded however many large, unique documents clients send.

Every cache is bounded in bytes, which holds only if each one weighs what it really keeps
alive: a plan or a template pins the whole syntax tree of its document, about 80 bytes per
character of query text. Weighed at a few hundred bytes, 512 plan templates of 10 KB documents
once kept about 500 MB (the process went from 190 MB to 867 MB and stayed there).
"""

from __future__ import annotations

import gc
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.app import create_app
from soilapi.lru import caches
from soilapi.settings import Settings

STATM = Path("/proc/self/statm")
# What 120 documents of 10 KB may add to the process once its caches are full (each cache
# holds 32-64 MiB by its weights, which count a shared tree in every cache that keeps it):
# they added ~125 MB, and 1 MB more per document, when plan templates pinned documents
# unweighed.
DOCUMENTS = 120
CEILING_MB = 100
FIELDS = "name acronym slug start { iso precision } end { iso } country parent { slug name }"


def rss_mb() -> float:
    gc.collect()
    return int(STATM.read_text().split()[1]) * 4096 / 1e6


def document(i: int) -> str:
    """A valid 10 KB query the SQL compiler plans, unique to `i` (so no cache can share it)."""
    lists = [
        f'a{a}: organizations(first: 2, nameContains: "{i:06d}{a:02d}{"x" * 80}") '
        f"{{ nodes {{ {FIELDS} children(first: 2) {{ nodes {{ {FIELDS} }} }} }} }}"
        for a in range(30)
    ]
    return "{ " + " ".join(lists) + " }"


@pytest.mark.skipif(not STATM.exists(), reason="reads the resident set size from /proc")
async def test_large_unique_documents_leave_memory_bounded(engine: AsyncEngine) -> None:
    settings = Settings(database_url="postgresql://unused", rate_limit_enabled=False)
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:

        async def send(i: int) -> None:
            answer = await http.post("/graphql", json={"query": document(i)})
            assert answer.status_code == 200
            assert "errors" not in answer.json()

        for i in range(10):  # warm up: code paths, pools, the first entries
            await send(10**6 + i)
        before = rss_mb()
        for i in range(DOCUMENTS):
            await send(i)
        grown = rss_mb() - before
    await app.state.version_probe.close()
    assert len(document(0)) > 10_000
    assert grown < CEILING_MB, f"{DOCUMENTS} documents of 10 KB added {grown:.0f} MB"
    for figures in caches():
        assert figures.bytes <= figures.max_bytes, figures
