"""/graphql as an HTTP client sees it: the GraphQL-over-HTTP rules, limits and error shapes."""

from __future__ import annotations

import gzip
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql.language.parser import Parser
from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import app_client
from soilapi.app import create_app
from soilapi.db.session import create_engine
from soilapi.settings import Settings

GRJ = "application/graphql-response+json"
JSON = "application/json"

TYPENAME = "{ __typename }"
GSP = 'query Gsp { organization(slug: "gsp") { name } }'
GSP_DATA = {"organization": {"name": "Global Soil Partnership"}}
SYNTAX_ERROR = '{ organization(slug: "gsp") { name '
UNKNOWN_FIELD = '{ organization(slug: "gsp") { foundingMotto } }'
INT_VARIABLE = "query($first: Int) { organizations(first: $first) { totalCount } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
TWO_OPERATIONS = 'query Gsp { organization(slug: "gsp") { name } } query Kind { __typename }'
MUTATION = "mutation { __typename }"


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its default limits on the seeded database."""
    async with app_client(engine) as http:
        yield http


async def post(client: httpx.AsyncClient, body: Any, accept: str | None = GRJ) -> httpx.Response:
    """POST a JSON body; `accept=None` sends no Accept header at all."""
    request = client.build_request("POST", "/graphql", json=body)
    if accept is None:
        del request.headers["accept"]
    else:
        request.headers["accept"] = accept
    return await client.send(request)


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"]


def data(response: httpx.Response) -> Any:
    """The `data` of a response that must have no errors (`extensions` may report the cost)."""
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def refused(response: httpx.Response, status: int, code: str) -> str:
    """Assert a GraphQL-shaped refusal without `data`; return its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errors"}, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == code, error
    assert error["message"]
    message: str = error["message"]
    return message


# Content negotiation


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (GRJ, GRJ),
        (JSON, JSON),
        ("*/*", JSON),
        (None, JSON),
        ("application/*", JSON),
        (f"{GRJ}, {JSON}", GRJ),
        (f"{JSON}, {GRJ}", JSON),
        (f"{JSON};q=0.5, {GRJ}", GRJ),
        (f"*/*;q=0.1, {GRJ}", GRJ),
        (f"{GRJ}; charset=utf-8", GRJ),
        (f"{GRJ}; charset=iso-8859-1, {JSON}", JSON),
        (f"text/html, {JSON};q=0.9, */*;q=0.8", JSON),
    ],
)
async def test_response_media_type_follows_accept(
    client: httpx.AsyncClient, accept: str | None, expected: str
) -> None:
    response = await post(client, {"query": GSP}, accept)
    assert response.status_code == 200, response.text
    assert media_type(response) == f"{expected}; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    assert data(response) == GSP_DATA


@pytest.mark.parametrize("accept", ["text/csv", "application/xml", f"{JSON};q=0, text/plain"])
async def test_unacceptable_accept_is_406(client: httpx.AsyncClient, accept: str) -> None:
    response = await post(client, {"query": GSP}, accept)
    message = refused(response, 406, "NOT_ACCEPTABLE")
    assert GRJ in message
    assert JSON in message


# Status codes per media type


@pytest.mark.parametrize(
    ("body", "words", "code"),
    [
        ({"query": SYNTAX_ERROR}, "Syntax Error", "GRAPHQL_PARSE_FAILED"),
        ({"query": UNKNOWN_FIELD}, "foundingMotto", "GRAPHQL_VALIDATION_FAILED"),
        ({"query": INT_VARIABLE, "variables": {"first": "ten"}}, "$first", "BAD_USER_INPUT"),
        ({"query": TWO_OPERATIONS}, "operationName", "OPERATION_RESOLUTION_FAILURE"),
        (
            {"query": TWO_OPERATIONS, "operationName": "Nope"},
            "Nope",
            "OPERATION_RESOLUTION_FAILURE",
        ),
        (
            {"query": "fragment F on Query { __typename }"},
            "no operation",
            "OPERATION_RESOLUTION_FAILURE",
        ),
        ({"query": "subscription { __typename }"}, "subscription", "OPERATION_NOT_SUPPORTED"),
    ],
    ids=[
        "parse",
        "validation",
        "variables",
        "two-operations",
        "unknown-operation",
        "no-operation",
        "subscription",
    ],
)
async def test_request_errors_are_400_without_data_in_graphql_response_json(
    client: httpx.AsyncClient, body: dict[str, Any], words: str, code: str
) -> None:
    """Each request error has the code Apollo's clients switch on for it."""
    strict = await post(client, body, GRJ)
    assert strict.status_code == 400, strict.text
    assert media_type(strict) == f"{GRJ}; charset=utf-8"
    assert "data" not in strict.json()
    [error] = strict.json()["errors"]
    assert words in error["message"]
    assert error["extensions"]["code"] == code

    legacy = await post(client, body, JSON)
    assert legacy.status_code == 200, legacy.text
    assert media_type(legacy) == f"{JSON}; charset=utf-8"
    assert legacy.json()["data"] is None
    assert legacy.json()["errors"] == strict.json()["errors"]


@pytest.mark.parametrize("accept", [GRJ, JSON])
async def test_field_errors_after_execution_stay_200_with_data(
    client: httpx.AsyncClient, accept: str
) -> None:
    response = await post(client, {"query": NODE, "variables": {"id": "garbage!"}}, accept)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == {"node": None}
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ID"
    assert body["errors"][0]["path"] == ["node"]


async def test_operation_name_picks_one_of_several(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": TWO_OPERATIONS, "operationName": "Gsp"})
    assert response.status_code == 200, response.text
    assert data(response) == GSP_DATA


# GET


async def test_queries_run_over_get(client: httpx.AsyncClient) -> None:
    params = {
        "query": "query Org($slug: String!) { organization(slug: $slug) { name } }",
        "variables": json.dumps({"slug": "gsp"}),
        "operationName": "Org",
        "extensions": json.dumps({"client": "test"}),
    }
    response = await client.get("/graphql", params=params, headers={"accept": GRJ})
    assert response.status_code == 200, response.text
    assert media_type(response) == f"{GRJ}; charset=utf-8"
    assert data(response) == GSP_DATA


async def test_mutations_over_get_are_405(client: httpx.AsyncClient) -> None:
    for query in (MUTATION, "subscription { __typename }"):
        response = await client.get("/graphql", params={"query": query})
        message = refused(response, 405, "METHOD_NOT_ALLOWED")
        assert response.headers["allow"] == "POST"
        assert "GET" in message


async def test_get_selects_the_named_operation_before_checking_its_type(
    client: httpx.AsyncClient,
) -> None:
    query = "query Kind { __typename } mutation Change { __typename }"
    named = await client.get("/graphql", params={"query": query, "operationName": "Change"})
    refused(named, 405, "METHOD_NOT_ALLOWED")
    # Without a name the operation cannot be chosen: a request error, not the first one run.
    anonymous = await client.get("/graphql", params={"query": query}, headers={"accept": GRJ})
    refused(anonymous, 400, "OPERATION_RESOLUTION_FAILURE")


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"query": TYPENAME, "variables": "{not json"}, "`variables`"),
        ({"query": TYPENAME, "variables": "[1]"}, "`variables` must be a JSON object"),
        ({"query": TYPENAME, "extensions": "7"}, "`extensions` must be a JSON object"),
        ({}, "no `query`"),
    ],
)
async def test_bad_get_parameters_are_400(
    client: httpx.AsyncClient, params: dict[str, str], words: str
) -> None:
    response = await client.get("/graphql", params=params, headers={"accept": JSON})
    assert words in refused(response, 400, "BAD_REQUEST")


async def test_a_repeated_get_parameter_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql?query=%7B__typename%7D&query=%7Bnode%7D")
    assert "once" in refused(response, 400, "BAD_REQUEST")


async def test_browsers_get_the_offline_graphiql_page(client: httpx.AsyncClient) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = await client.get("/graphql", headers={"accept": browser})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '"endpoint": "/graphql"' in page.text
    assert "query UnderTheGSP" in page.text
    script = await client.get("/graphql/static/graphiql/graphiql.min.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    # With a query the same browser gets the result, as JSON.
    result = await client.get("/graphql", params={"query": GSP}, headers={"accept": browser})
    assert result.status_code == 200
    assert media_type(result) == f"{JSON}; charset=utf-8"
    assert data(result) == GSP_DATA


# Methods and request bodies


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
async def test_other_methods_are_405(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/graphql", json={"query": TYPENAME})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    if method != "HEAD":
        assert method in refused(response, 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize(
    ("content_type", "body", "words"),
    [
        ("application/x-www-form-urlencoded", b"query=%7B__typename%7D", "CSRF"),
        ("multipart/form-data; boundary=x", b"--x\r\n\r\n{__typename}\r\n--x--", "CSRF"),
        ("text/plain", b'{"query": "{ __typename }"}', "CSRF"),
        ("application/graphql", b"{ __typename }", "application/json"),
        ("application/json; charset=latin-1", b'{"query": "{ __typename }"}', "UTF-8"),
        (None, b'{"query": "{ __typename }"}', "Content-Type"),
    ],
)
async def test_bodies_that_are_not_json_are_415(
    client: httpx.AsyncClient, content_type: str | None, body: bytes, words: str
) -> None:
    headers = {"accept": GRJ} if content_type is None else {"content-type": content_type}
    response = await client.post("/graphql", content=body, headers=headers)
    assert words in refused(response, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_compressed_bodies_are_415(client: httpx.AsyncClient) -> None:
    body = gzip.compress(b'{"query": "{ __typename }"}')
    headers = {"content-type": JSON, "content-encoding": "gzip"}
    response = await client.post("/graphql", content=body, headers=headers)
    assert "gzip" in refused(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{ "not a JSON', "not valid JSON"),
        (b"", "empty"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
        (b'"just a string"', "JSON object"),
    ],
    ids=["malformed", "empty", "not-utf8", "deep", "scalar"],
)
@pytest.mark.parametrize("accept", [GRJ, JSON])
async def test_unreadable_bodies_are_400(
    client: httpx.AsyncClient, body: bytes, words: str, accept: str
) -> None:
    headers = {"content-type": JSON, "accept": accept}
    response = await client.post("/graphql", content=body, headers=headers)
    assert words in refused(response, 400, "BAD_REQUEST")
    assert media_type(response) == f"{accept}; charset=utf-8"


async def test_batches_are_refused(client: httpx.AsyncClient) -> None:
    response = await post(client, [{"query": TYPENAME}, {"query": TYPENAME}])
    message = refused(response, 400, "BATCHING_NOT_SUPPORTED")
    assert "one operation per request" in message


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"qeury": TYPENAME}, "no `query`"),
        ({"query": ""}, "no `query`"),
        ({"query": {"obj": "ect"}}, "not an object"),
        ({"query": 0}, "not a number"),
        ({"query": False}, "not a boolean"),
        ({"query": ["array"]}, "not an array"),
        ({"query": TYPENAME, "variables": "string"}, "`variables` must be a JSON object"),
        ({"query": TYPENAME, "variables": [7]}, "not an array"),
        ({"query": TYPENAME, "operationName": 0}, "`operationName` must be a string"),
        ({"query": TYPENAME, "extensions": False}, "`extensions` must be a JSON object"),
    ],
)
async def test_malformed_parameters_are_400(
    client: httpx.AsyncClient, body: dict[str, Any], words: str
) -> None:
    for accept in (GRJ, JSON):
        assert words in refused(await post(client, body, accept), 400, "BAD_REQUEST")


async def test_null_parameters_are_allowed(client: httpx.AsyncClient) -> None:
    body = {"query": TYPENAME, "variables": None, "operationName": None, "extensions": None}
    response = await post(client, body)
    assert response.status_code == 200
    assert data(response) == {"__typename": "Query"}


# Limits


async def test_body_larger_than_the_cap_is_413(client: httpx.AsyncClient) -> None:
    padding = "x" * 100_000
    response = await post(client, {"query": TYPENAME, "extensions": {"pad": padding}})
    assert "100,000 bytes" in refused(response, 413, "PAYLOAD_TOO_LARGE")


async def test_body_without_content_length_is_cut_at_the_cap(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }", "extensions": {"pad": "'
        for _ in range(20):
            yield b"x" * 10_000
        yield b'"}}'

    headers = {"content-type": JSON, "accept": GRJ}
    response = await client.post("/graphql", content=chunks(), headers=headers)
    refused(response, 413, "PAYLOAD_TOO_LARGE")


async def test_query_text_is_capped_at_20000_characters(client: httpx.AsyncClient) -> None:
    def document(length: int) -> str:
        head = "{ __typename }\n#"
        return head + "x" * (length - len(head))

    at_limit = await post(client, {"query": document(20_000)})
    assert at_limit.status_code == 200, at_limit.text
    over = await post(client, {"query": document(20_001)})
    message = refused(over, 400, "QUERY_TOO_LARGE")
    assert "20,001" in message
    assert "20,000" in message
    over_get = await client.get("/graphql", params={"query": document(20_001)})
    refused(over_get, 400, "QUERY_TOO_LARGE")


async def test_limits_come_from_the_settings(engine: AsyncEngine) -> None:
    settings = Settings(database_url="postgresql://unused", max_body_bytes=200, max_query_chars=20)
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as small:
        assert (await post(small, {"query": TYPENAME})).status_code == 200
        long_query = {"query": "{ __typename __typename }"}
        assert "at most 20" in refused(await post(small, long_query), 400, "QUERY_TOO_LARGE")
        padded = {"query": TYPENAME, "extensions": {"pad": "x" * 200}}
        assert "200 bytes" in refused(await post(small, padded), 413, "PAYLOAD_TOO_LARGE")
    await app.state.version_probe.close()


# The database being away


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def unreachable_engine() -> AsyncIterator[AsyncEngine]:
    """An engine whose PostgreSQL does not exist: every connection is refused."""
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{_closed_port()}/nothing"
    engine = create_engine(Settings(database_url=url), url)
    yield engine
    await engine.dispose()


@pytest.mark.parametrize("accept", [GRJ, JSON])
async def test_database_unavailable_is_503_with_retry_after(
    unreachable_engine: AsyncEngine, accept: str
) -> None:
    app = create_app(Settings(database_url="postgresql://unused"), engine=unreachable_engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await post(http, {"query": GSP}, accept)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5"
        assert media_type(response) == f"{accept}; charset=utf-8"
        body = response.json()
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE"
        assert "Database unavailable" in body["errors"][0]["message"]
        # A query that needs no database still answers.
        assert (await post(http, {"query": TYPENAME}, accept)).status_code == 200
    await app.state.version_probe.close()


async def test_a_document_that_spells_a_keyword_twice_is_parsed_once(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`search(query: ...)` spells an operation keyword a second time, so the endpoint looks
    for a second operation: in the document execution reads too, parsed once for both, and
    not again when the same text comes back with other variables."""
    parses: list[str] = []
    parse_document = Parser.parse_document

    def counted(parser: Parser) -> Any:
        parses.append(parser._lexer.source.body)
        return parse_document(parser)

    monkeypatch.setattr(Parser, "parse_document", counted)
    query = "query Find($q: String!) { search(query: $q, first: 1) { totalCount } } # once"
    for word in ("soil", "erosion", "carbon"):
        response = await api.http.post("/graphql", json={"query": query, "variables": {"q": word}})
        assert response.status_code == 200, response.text
        assert response.json()["data"]["search"]["totalCount"] > 0
    assert parses == [query]
