"""The GraphiQL explorer must work offline: every asset it names is served by the app itself."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import app_client
from soilapi.graphql.examples import EXAMPLES, Example
from soilapi.graphql.explorer import STATIC_DIR, explorer_html
from soilapi.settings import Settings


class _AssetCollector(HTMLParser):
    """Collect the URLs of every <script src> and <link href> in a page, its inline scripts
    (type and text), and whether it has inline styles."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.links: list[str] = []
        self.inline: list[tuple[str, str]] = []
        self.styled = False
        self._open: str | None = None  # the type of an inline <script> being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.styled = self.styled or tag == "style" or "style" in values
        if tag == "script" and values.get("src"):
            self.scripts.append(values["src"] or "")
        elif tag == "script":
            self._open = (values.get("type") or "text/javascript").lower()
            self.inline.append((self._open, ""))
        elif tag == "link" and values.get("href"):
            self.links.append(values["href"] or "")

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            kind, text = self.inline[-1]
            self.inline[-1] = (kind, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None


# Script types a browser runs; any other (application/json) is a data block it never runs.
_EXECUTABLE = {"text/javascript", "application/javascript", "module"}


def _policy(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy's directives and their sources."""
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """soilapi's own app: the page, its assets and the API share /graphql."""
    async with app_client(engine, base_url="http://testserver") as c:
        yield c


async def _get_page(client: httpx.AsyncClient) -> str:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def test_page_assets_are_local_and_served(client: httpx.AsyncClient) -> None:
    page = await _get_page(client)
    parser = _AssetCollector()
    parser.feed(page)

    assert len(parser.scripts) >= 3, parser.scripts  # react, react-dom, graphiql at least
    assert len(parser.links) >= 1, parser.links
    expected_type = {"script": "javascript", "link": "text/css"}
    for kind, urls in (("script", parser.scripts), ("link", parser.links)):
        for url in urls:
            assert not url.lower().startswith(("http:", "https:", "//")), url
            assert url.startswith("/graphql/static/graphiql/"), url
            response = await client.get(url)
            assert response.status_code == 200, url
            assert response.content, url
            assert expected_type[kind] in response.headers["content-type"], (
                url,
                response.headers["content-type"],
            )


async def test_page_has_default_query_and_no_remote_references(
    client: httpx.AsyncClient,
) -> None:
    page = await _get_page(client)
    lowered = page.lower()
    for host in ("unpkg", "jsdelivr", "cdn"):
        assert host not in lowered, host
    # No absolute URL of any kind: the endpoint is relative and resolved by the browser.
    assert re.findall(r"(?:https?:)?//[a-z0-9.-]+", lowered) == []
    parser = _AssetCollector()
    parser.feed(page)
    [(_, settings)] = [(k, text) for k, text in parser.inline if k == "application/json"]
    tabs = [e.tab() for e in EXAMPLES]
    assert json.loads(settings) == {"endpoint": "/graphql", "tabs": tabs, "explain": False}


async def test_page_policy_allows_its_own_assets_alone(client: httpx.AsyncClient) -> None:
    """The CSP lets the page run scripts from this server only; every asset it names is
    same-origin, and an inline script (none today) would need its hash in the policy."""
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    policy = _policy(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no host
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert set(policy["img-src"]) == {"'self'", "data:"}
    for name, sources in policy.items():
        for source in sources:
            assert source.startswith("'") or source == "data:", (name, source)
    parser = _AssetCollector()
    parser.feed(response.text)
    for url in parser.scripts + parser.links:
        assert url.startswith("/"), url  # a path on this server ...
        assert not url.startswith("//"), url  # ... not a protocol-relative host
    allowed = set(policy["script-src"])
    for kind, text in parser.inline:
        if kind in _EXECUTABLE:
            digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in allowed, f"inline script not allowed by the CSP: {text}"
        else:
            assert kind == "application/json", kind
            assert json.loads(text)["endpoint"] == "/graphql"  # the page's settings, as data
    if parser.styled:
        assert "'unsafe-inline'" in policy["style-src"]


async def test_page_scripts_are_files_of_this_server(client: httpx.AsyncClient) -> None:
    """What GraphiQL needs to start is served as files, so the policy needs no inline code."""
    page = await _get_page(client)
    parser = _AssetCollector()
    parser.feed(page)
    assert [kind for kind, _ in parser.inline if kind in _EXECUTABLE] == []
    bootstrap = await client.get(parser.scripts[-1])
    assert bootstrap.status_code == 200
    assert "ReactDOM.createRoot" in bootstrap.text
    assert "graphiql-config" in bootstrap.text


async def test_the_page_url_still_answers_queries(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


def test_default_query_cannot_close_the_script() -> None:
    hostile = "</script><script>alert(1)</script><!-- \u2028"
    tabs = [{"query": hostile, "variables": "{}"}]
    page = explorer_html(endpoint="/graphql", static_prefix="/s", tabs=tabs)
    assert "</script><script>alert" not in page
    assert "<!--" not in page
    assert "\\u003c/script\\u003e" in page
    assert page.count("</script>") == page.count("<script")


@pytest.mark.parametrize("example", EXAMPLES, ids=["welcome", "search", "neighbourhood"])
async def test_every_example_tab_answers_without_errors(api: Any, example: Example) -> None:
    """A newcomer's first queries work as shown: a search, a neighbourhood, the welcome."""
    body = await api.post(example.query, example.variables)
    assert "errors" not in body, body
    for root, answer in body["data"].items():
        assert answer, root  # no null, no empty list
        if isinstance(answer, dict) and "nodes" in answer:
            assert answer["nodes"], root


def test_the_tabs_include_a_search_and_a_neighbourhood() -> None:
    wanted = ("search", "neighbourhood")
    asked = {root for e in EXAMPLES for root in wanted if f"{root}(" in e.query}
    assert asked == set(wanted)


def test_vendored_files_ship_with_their_licences() -> None:
    folder = STATIC_DIR / "graphiql"
    names = {p.name for p in folder.iterdir()}
    for required in (
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "VERSIONS.txt",
        "LICENSE.graphiql",
        "LICENSE.react",
        "LICENSE.react-dom",
    ):
        assert required in names, required


async def test_the_explain_panel_comes_with_explain_queries_alone(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """With EXPLAIN_QUERIES on, the page loads the Explain panel's script (a file, before the
    bootstrap that adds it) and says so in its data block; by default it does neither."""
    default = _AssetCollector()
    default.feed(await _get_page(client))
    assert not any("soilapi-explain.js" in url for url in default.scripts)
    settings = Settings(database_url="postgresql://unused", explain_queries=True)
    async with app_client(engine, settings, base_url="http://testserver") as explaining:
        page = await explaining.get("/graphql", headers={"Accept": "text/html"})
    parser = _AssetCollector()
    parser.feed(page.text)
    names = [url.split("/")[-1].split("?")[0] for url in parser.scripts]
    assert names[-2:] == ["soilapi-explain.js", "soilapi-explorer.js"]
    [(_, data)] = [(k, text) for k, text in parser.inline if k == "application/json"]
    assert json.loads(data)["explain"] is True
    assert [kind for kind, _ in parser.inline if kind in _EXECUTABLE] == []
    panel = await client.get(parser.scripts[-2])
    assert panel.status_code == 200
    assert "window.SoilapiExplain" in panel.text
