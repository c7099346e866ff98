"""What a client's mistakes cost the server log: one short line each, never ERROR or a traceback.

ERROR is what operators page on, so it is kept for server faults, each logged once with the
`errorId` the client was given.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import app_client
from soilapi.graphql import resolve
from soilapi.http.logs import JsonFormatter

# One request of each kind of mistake a client makes, with the code it must get back
# (None: the answer is a plain null, no error).
MISTAKES: list[tuple[str, dict[str, Any] | None, str | None]] = [
    ('{ organization(slug: "gsp") { name ', None, "GRAPHQL_PARSE_FAILED"),
    ('{ organization(slug: "gsp") { foundingMotto } }', None, "GRAPHQL_VALIDATION_FAILED"),
    (
        "query($first: Int) { organizations(first: $first) { totalCount } }",
        {"first": "ten"},
        "BAD_USER_INPUT",
    ),
    ("{ organizations(first: 500) { totalCount } }", None, "PAGE_SIZE_EXCEEDED"),
    ("{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }", None, "TOO_MANY_ALIASES"),
    ('{ organizations(after: "garbage") { totalCount } }', None, "INVALID_CURSOR"),
    ('{ partnerAgreements(countries: ["de"]) { totalCount } }', None, "BAD_USER_INPUT"),
    ('{ node(id: "garbage!") { id } }', None, "INVALID_ID"),
    ('{ organization(slug: "no-such-organization") { name } }', None, None),
]

# A 7 KB document of 300 misspelt fields: a validation error for each (up to graphql-core's
# cap of 100 and a last one saying it stopped there).
MISSPELT = (
    '{ organization(slug: "gsp") { '
    + " ".join(f"foundingMottoNumber{i}" for i in range(300))
    + " } }"
)


@pytest.fixture(scope="module")
async def http(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(engine) as client:
        yield client


async def ask(http: httpx.AsyncClient, query: str, variables: Any = None) -> dict[str, Any]:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def written(records: list[logging.LogRecord]) -> int:
    """Bytes these records take in the production log (JSON lines)."""
    formatter = JsonFormatter()
    return sum(len(formatter.format(record)) + 1 for record in records)


async def test_client_mistakes_log_no_error_and_no_traceback(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for query, variables, code in MISTAKES:
        body = await ask(http, query, variables)
        codes = [error["extensions"]["code"] for error in body.get("errors", [])]
        assert codes == ([code] if code else []), (query, body)
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert loud == [], [(r.name, r.levelname, r.getMessage()[:200]) for r in loud]


async def test_a_request_of_many_mistakes_writes_one_short_line(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A hundred errors in a 7 KB request: the log says how many and of what, not each in full."""
    assert 6_000 < len(MISSPELT) < 8_000
    caplog.set_level(logging.INFO)
    body = await ask(http, MISSPELT)
    assert len(body["errors"]) > 100
    reported = [r for r in caplog.records if r.name not in {"soilapi.access", "httpx"}]
    assert len(reported) == 1, [r.getMessage()[:100] for r in reported]
    [line] = reported
    assert line.levelno == logging.INFO
    assert str(len(body["errors"])) in line.getMessage()
    assert "GRAPHQL_VALIDATION_FAILED" in line.getMessage()
    assert written(caplog.records) < 2_000


async def test_a_server_fault_logs_one_error_with_the_id_the_client_got(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(resolve, "entity", broken)  # `entity` runs through the resolvers
    caplog.set_level(logging.INFO)
    body = await ask(http, '{ entity(slug: "gsp") { slug } }')
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret" not in error["message"]
    error_id = error["extensions"]["errorId"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [(r.name, r.getMessage()[:200]) for r in errors]
    [logged] = errors
    assert error_id in logged.getMessage()
    assert logged.exc_info is not None  # the traceback behind the masked message
    assert "RuntimeError: secret internals" in JsonFormatter().format(logged)
