"""soilapi in a real headless browser (tests/browser.py: Chromium from the npm registry).

CORS: a page served from another loopback port calls the API with `fetch`, a POST of JSON
with an `X-API-Key` header (so the browser sends a preflight first). From an origin in
CORS_ALLOW_ORIGINS the data arrives and the page may read the headers the API exposes; from
any other origin the browser refuses the answer and never sends the query: the browser
enforces what the server says.

GraphiQL: with EXPLAIN_QUERIES on, its Explain panel shows the SQL and plans of the query
just run, under the page's Content-Security-Policy.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.browser import HERE, Browser, chromium
from tests.serving import serving

from soilapi.graphql.examples import WELCOME

ESP = {"organization": {"name": "European Soil Partnership", "acronym": "ESP"}}


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """The page server's requests are not the test's output."""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Browser:
    return chromium(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def page_origins() -> Iterator[list[str]]:
    """Two origins serving tests/browser/ (the page and its script): loopback, other ports."""
    handler = functools.partial(_Quiet, directory=str(HERE))
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), handler) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield [f"http://127.0.0.1:{server.server_address[1]}" for server in servers]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@dataclass(frozen=True)
class Api:
    """The server under test: its URL without a path, and its log."""

    base: str
    log: Path

    def posts(self) -> list[tuple[str, int]]:
        """Path and status of every POST in the access log so far."""
        lines = self.log.read_text(encoding="utf-8").splitlines()
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        access = [e for e in entries if e.get("logger") == "soilapi.access"]
        return [(e["path"], e["status"]) for e in access if e["method"] == "POST"]


@pytest.fixture(scope="module")
def api(
    page_origins: list[str],
    database_url: str,
    engine: AsyncEngine,  # loads the seed
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Api]:
    """`soilapi serve` allowing the first page origin alone, with EXPLAIN_QUERIES on."""
    log = tmp_path_factory.mktemp("browser-api") / "server.log"
    settings = {"CORS_ALLOW_ORIGINS": page_origins[0], "EXPLAIN_QUERIES": "true"}
    with serving(database_url, log, LOG_LEVEL="INFO", **settings) as server:
        yield Api(server.base, log)


def test_the_browser_lets_an_allowed_origin_read_the_answer_and_no_other(
    browser: Browser, page_origins: list[str], api: Api
) -> None:
    allowed, other = page_origins
    posted = len(api.posts())
    pages = [f"{origin}/cors.html?api={api.base}/graphql" for origin in (allowed, other)]
    from_allowed, from_other = browser.drive("cors.mjs", *pages)

    shown = from_allowed["shown"]
    assert shown["status"] == 200
    assert shown["body"]["data"] == ESP
    assert list(shown["body"]) == ["data", "extensions"]  # no errors; the cost, as always
    # An exposed header: the page can quote the request id in a bug report.
    assert len(shown["requestId"]) >= 16

    assert from_other["shown"] == {"error": "TypeError: Failed to fetch"}
    errors = [m["text"] for m in from_other["logged"] if m["type"] == "error"]
    [refusal] = [text for text in errors if "CORS policy" in text]
    assert refusal.startswith(
        f"Access to fetch at '{api.base}/graphql' from origin '{other}' has been blocked by "
        "CORS policy: Response to preflight request doesn't pass access control check"
    ), refusal

    # The server saw one query: the allowed page's. The other page's preflight was refused
    # (by the CORS middleware, which answers before the access log), so the browser never
    # sent its POST.
    assert api.posts()[posted:] == [("/graphql", 200)]


def test_graphiql_shows_the_sql_and_plans_of_the_query_it_ran(browser: Browser, api: Api) -> None:
    seen = browser.drive("graphiql.mjs", f"{api.base}/graphql")
    assert seen["before"].splitlines()[:2] == ["Explain", " Show the SQL and plans of each query"]
    # GraphiQL asked for explain with the query it ran (not with its schema introspection),
    # and the panel shows that answer's statements, in order, as the server sent them.
    [sent] = seen["reports"]
    shown = [(s["sql"], s["plan"]) for s in seen["statements"]]
    assert shown == [(s["sql"], s["planText"]) for s in sent["statements"]]
    # The welcome tab walks `descendants`, which the compiler leaves to the resolvers.
    count = len(sent["statements"])
    assert seen["summary"] == f"{count} statements, answered by the resolvers."
    values = [s["values"] for s in seen["statements"]]
    assert '$1 = ["gsp"]' in values  # the slug's lookup
    assert '$1 = "DE"\n$2 = 21' in values  # the German partners' first page, and one more
    # The API's own explain of the tab's query: the same statements (in any order: sibling
    # fields' loaders may take turns otherwise from one run to the next).
    explained = httpx.post(
        f"{api.base}/graphql",
        json={"query": WELCOME.query, "extensions": {"explain": True}},
        timeout=30,
    ).json()["extensions"]["explain"]
    assert explained["engine"] == sent["engine"] == "resolvers"
    assert sorted(s["sql"] for s in explained["statements"]) == sorted(sql for sql, _ in shown)
    # GraphiQL and the panel ran under the page's CSP, which reports any violation as an error.
    assert [m for m in seen["logged"] if m["type"] in {"error", "pageerror"}] == []
