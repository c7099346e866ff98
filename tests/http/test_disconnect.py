"""A client that hangs up mid-request: status 499 in the access log and the metrics, no ERROR.

Alerts watch the 5xx rate and ERROR lines; a client leaving is neither the server's fault nor
something an operator can act on. The app is driven through ASGI directly, as a server drives
it, since an HTTP client cannot hang up halfway through its own request. (A request whose task
is cancelled, another way a server says the client left, was already counted as 499.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import Message

from soilapi.app import create_app
from soilapi.http import endpoint
from soilapi.settings import Settings

BODY = json.dumps({"query": '{ entity(slug: "gsp") { slug } }'}).encode()


@pytest.fixture(scope="module")
async def app(engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    settings = Settings(database_url="postgresql://unused", response_cache_enabled=False)
    app = create_app(settings, engine=engine)
    yield app
    await app.state.version_probe.close()


def scope(request_id: str) -> dict[str, Any]:
    """An HTTP POST to /graphql as uvicorn describes it."""
    headers = [
        (b"host", b"test"),
        (b"content-type", b"application/json"),
        (b"accept", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
    }


async def drive(app: FastAPI, request_id: str, incoming: list[Message]) -> list[Message]:
    """Run one request as a server would: `receive` hands out `incoming`, then says the
    client is gone; returns what the app sent."""
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope(request_id), receive, send)
    return sent


def graphql_requests(status: int) -> float:
    labels = {"route": "/graphql", "status": str(status)}
    return REGISTRY.get_sample_value("soilapi_http_requests_total", labels) or 0.0


def assert_client_closed(caplog: pytest.LogCaptureFixture, before: dict[int, float]) -> None:
    """One access line with 499, counted as 499 and not 500, nothing at ERROR, no traceback."""
    access = [r for r in caplog.records if r.name == "soilapi.access"]
    assert [(getattr(r, "status", None), r.levelno) for r in access] == [(499, logging.INFO)]
    shown = [r for r in caplog.records if r.levelno >= logging.INFO]  # the default LOG_LEVEL
    loud = [r for r in shown if r.levelno >= logging.ERROR or r.exc_info]
    assert loud == [], [(r.name, r.levelname, r.getMessage()[:200]) for r in loud]
    assert graphql_requests(499) == before[499] + 1
    assert graphql_requests(500) == before[500]


async def test_hanging_up_while_sending_the_body_is_a_499(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    before = {status: graphql_requests(status) for status in (499, 500)}
    incoming: list[Message] = [
        {"type": "http.request", "body": BODY[:10], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent = await drive(app, "gone-1", incoming)
    assert [m for m in sent if m["type"] == "http.response.start"] == []  # nobody to answer
    assert_client_closed(caplog, before)


async def test_hanging_up_while_the_query_runs_is_a_499(
    app: FastAPI, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole body arrived, then the client left before the answer: uvicorn's `receive`
    then says `http.disconnect`, and nothing is sent (it was a 200 in the log before).
    Only answers slow enough to leave during are checked: this query counts as one."""
    monkeypatch.setattr(endpoint, "LEAVING_TIME", 0.0)
    caplog.set_level(logging.DEBUG)
    before = {status: graphql_requests(status) for status in (499, 500)}
    incoming: list[Message] = [{"type": "http.request", "body": BODY, "more_body": False}]
    sent = await drive(app, "gone-2", incoming)
    assert [m for m in sent if m["type"] == "http.response.start"] == []
    assert_client_closed(caplog, before)
