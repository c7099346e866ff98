"""Documents named by hash: Apollo's automatic persisted queries, and trusted documents.

What a client sees over HTTP: the miss that makes Apollo Client and urql send the query, the
hash checked before it is learned, short GET URLs that keep their ETag and 304, and a server
locked to a manifest. tests/test_clients.py runs the real clients against a live server.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.conftest import app_client

from soilapi.http.endpoint_params import Limits, Problem
from soilapi.http.persisted import ManifestError, PersistedDocuments, read_manifest
from soilapi.settings import Settings

GSP = 'query Trusted { organization(slug: "gsp") { name acronym } }'
GSP_DATA = {"organization": {"name": "Global Soil Partnership", "acronym": "GSP"}}
FAO = 'query Fao { organization(slug: "fao") { acronym } }'
INTROSPECTION = "{ __schema { queryType { name } } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"
NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str, version: object = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256(text)}}


def url_params(text: str) -> dict[str, str]:
    """A hash-only GET as Apollo Client sends it: extensions as URL-encoded JSON."""
    return {"extensions": json.dumps(persisted(text))}


def gsp(name: str) -> str:
    """The GSP's name and acronym in an operation of `name`: a document, and hash, of each
    test's own, so that the tests sharing an app each see their own miss."""
    return f'query {name} {{ organization(slug: "gsp") {{ name acronym }} }}'


def settings(**overrides: object) -> Settings:
    return Settings(database_url="postgresql://unused", **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=[True, False], ids=["compiler", "resolvers"])
async def http(
    engine: AsyncEngine, request: pytest.FixtureRequest
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the documented defaults, on each engine: a hash is answered alike. One
    per module (each app keeps a schema alive in the process-wide caches)."""
    async with app_client(engine, settings(query_compiler=request.param)) as client:
        yield client


def code(response: httpx.Response) -> str:
    [error] = response.json()["errors"]
    return str(error["extensions"]["code"])


# Automatic persisted queries


async def test_a_hash_is_unknown_until_sent_with_its_query(http: httpx.AsyncClient) -> None:
    document = gsp("Unknown")
    accept = {"accept": GRAPHQL_RESPONSE}
    missed = await http.post("/graphql", json={"extensions": persisted(document)}, headers=accept)
    assert missed.status_code == 404
    assert missed.json() == NOT_FOUND
    assert missed.headers["cache-control"] == "no-store"  # no cache may keep the miss

    taught = await http.post(
        "/graphql", json={"query": document, "extensions": persisted(document)}
    )
    assert taught.json() == {"data": GSP_DATA, "extensions": taught.json()["extensions"]}

    known = await http.post("/graphql", json={"extensions": persisted(document)}, headers=accept)
    assert known.status_code == 200
    assert known.json()["data"] == GSP_DATA


async def test_a_legacy_json_client_gets_the_miss_with_200(http: httpx.AsyncClient) -> None:
    """As Apollo Server answers it, and as the GraphQL-over-HTTP specification asks of a
    well-formed request under application/json."""
    document = gsp("Legacy")
    missed = await http.get("/graphql", params=url_params(document), headers={"accept": "*/*"})
    assert missed.status_code == 200
    assert missed.headers["content-type"].startswith("application/json")
    assert missed.json() == NOT_FOUND


async def test_a_hash_only_get_keeps_the_etag_and_its_304(http: httpx.AsyncClient) -> None:
    document = gsp("Revalidated")
    full = await http.get("/graphql", params={"query": document})  # a GET may teach the hash too
    registered = await http.get("/graphql", params={"query": document, **url_params(document)})
    short = await http.get("/graphql", params=url_params(document))
    assert short.status_code == 200
    assert short.json()["data"] == GSP_DATA
    # The same answer as the full text, so the same validator and caching.
    assert short.headers["etag"] == full.headers["etag"] == registered.headers["etag"]
    assert short.headers["cache-control"] == "no-cache"
    again = await http.get(
        "/graphql", params=url_params(document), headers={"if-none-match": short.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


async def test_a_document_id_names_a_learned_document(http: httpx.AsyncClient) -> None:
    await http.post("/graphql", json={"query": FAO, "extensions": persisted(FAO)})
    for document_id in (sha256(FAO), f"sha256:{sha256(FAO)}"):
        answer = await http.post(
            "/graphql", json={"documentId": document_id, "operationName": "Fao"}
        )
        assert answer.json()["data"] == {"organization": {"acronym": "FAO"}}


async def test_a_hash_that_is_not_the_querys_is_refused_and_not_learned(
    http: httpx.AsyncClient,
) -> None:
    """Else anyone could file their query under another query's hash."""
    document = gsp("Forged")
    forged = {"query": FAO, "extensions": persisted(document)}
    refused = await http.post("/graphql", json=forged)
    assert refused.status_code == 400
    assert refused.json() == {
        "errors": [
            {
                "message": f"The hash sent ({sha256(document)}) is not the SHA-256 of `query` "
                f"({sha256(FAO)}): hash the exact text sent, as UTF-8.",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }
    still = await http.post("/graphql", json={"extensions": persisted(document)})
    assert still.json() == NOT_FOUND


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"extensions": persisted(GSP, version=2)},
            "Persisted query version 2 is not supported: this server speaks version 1 of "
            "the automatic persisted queries protocol.",
        ),
        (
            {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}},
            "`extensions.persistedQuery.sha256Hash` must be the SHA-256 of the document's "
            "UTF-8 text, as 64 lower-case hex digits, not 'abc'.",
        ),
        (
            {"extensions": {"persistedQuery": {"version": 1}}},
            "`extensions.persistedQuery.sha256Hash` must be the SHA-256 of the document's "
            "UTF-8 text, as 64 lower-case hex digits, not null.",
        ),
        (
            {"extensions": {"persistedQuery": "abc"}},
            '`extensions.persistedQuery` must be an object like {"version": 1, '
            '"sha256Hash": "..."}, not a string.',
        ),
        ({"documentId": 7}, "`documentId` must be a string, not a number."),
        (
            {"documentId": sha256(FAO), "extensions": persisted(GSP)},
            "`documentId` and `extensions.persistedQuery` name different documents.",
        ),
    ],
    ids=["version", "not-hex", "no-hash", "not-an-object", "document-id", "two-hashes"],
)
async def test_malformed_hashes_are_bad_requests(
    http: httpx.AsyncClient, body: dict[str, Any], message: str
) -> None:
    refused = await http.post("/graphql", json=body)
    assert refused.status_code == 400
    assert refused.json() == {
        "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]
    }


async def test_a_mutation_named_by_hash_does_not_run_over_get(http: httpx.AsyncClient) -> None:
    mutation = "mutation { __typename }"
    await http.post("/graphql", json={"query": mutation, "extensions": persisted(mutation)})
    by_text = await http.get("/graphql", params={"query": mutation})
    by_hash = await http.get("/graphql", params=url_params(mutation))
    assert by_hash.status_code == by_text.status_code == 405
    assert by_hash.headers["allow"] == "POST"
    assert by_hash.json() == by_text.json()


async def test_a_browser_asking_by_hash_gets_json_not_the_explorer(
    http: httpx.AsyncClient,
) -> None:
    document = gsp("Browser")
    page = {"accept": "text/html,application/json;q=0.9"}
    answer = await http.get("/graphql", params=url_params(document), headers=page)
    assert answer.json() == NOT_FOUND


def test_only_documents_within_the_limits_are_learned() -> None:
    documents = PersistedDocuments()
    limits = Limits(max_query_chars=len(GSP) - 1)
    with pytest.raises(Problem) as refused:
        documents.read({"query": GSP, "extensions": persisted(GSP)}, limits)
    assert refused.value.code == "QUERY_TOO_LARGE"
    assert len(documents.learned) == 0


def test_the_learned_documents_are_bounded_in_bytes() -> None:
    """The oldest are forgotten: their clients get a miss and teach the hash again."""
    documents = PersistedDocuments(max_bytes=20_000)
    texts = [f'{{ organization(slug: "o{i}") {{ name }} }}' + " " * 900 for i in range(40)]
    for text in texts:
        documents.read({"query": text, "extensions": persisted(text)}, Limits())
    assert documents.learned.bytes <= 20_000
    assert 10 < len(documents.learned) < 20
    with pytest.raises(Problem) as missed:
        documents.read({"extensions": persisted(texts[0])}, Limits())
    assert missed.value.code == "PERSISTED_QUERY_NOT_FOUND"
    newest = documents.read({"extensions": persisted(texts[-1])}, Limits())
    assert newest.query == texts[-1]


# Trusted documents


@pytest.fixture(scope="module")
async def trusted(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """The app locked to a manifest of two documents."""
    manifest = tmp_path_factory.mktemp("trusted") / "persisted-documents.json"
    manifest.write_text(json.dumps({sha256(GSP): GSP, sha256(FAO): FAO}), encoding="utf-8")
    async with app_client(engine, settings(trusted_documents=str(manifest))) as client:
        yield client


async def test_a_trusted_document_answers_by_hash_or_in_full(trusted: httpx.AsyncClient) -> None:
    by_hash = await trusted.get("/graphql", params=url_params(GSP))
    by_id = await trusted.post("/graphql", json={"documentId": f"sha256:{sha256(GSP)}"})
    in_full = await trusted.post("/graphql", json={"query": GSP})
    for answer in (by_hash, by_id, in_full):
        assert answer.status_code == 200
        assert answer.json()["data"] == GSP_DATA
    assert "etag" in by_hash.headers


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"query": '{ organization(slug: "gsp") { name } }'},
            "This document is not among this server's trusted documents: it runs only the "
            "operations its clients were built with.",
        ),
        (
            {"documentId": sha256(INTROSPECTION)},
            f"The document {sha256(INTROSPECTION)} is not among this server's trusted "
            "documents: it runs only the operations its clients were built with.",
        ),
        (
            # An automatic persisted query's registration: nothing is learned.
            {"query": INTROSPECTION, "extensions": persisted(INTROSPECTION)},
            "This document is not among this server's trusted documents: it runs only the "
            "operations its clients were built with.",
        ),
    ],
    ids=["text", "hash", "registration"],
)
async def test_any_other_document_is_refused(
    trusted: httpx.AsyncClient, body: dict[str, Any], message: str
) -> None:
    refusal = {
        "errors": [{"message": message, "extensions": {"code": "PERSISTED_QUERY_NOT_ALLOWED"}}]
    }
    strict = await trusted.post("/graphql", json=body, headers={"accept": GRAPHQL_RESPONSE})
    assert strict.status_code == 400
    assert strict.json() == refusal
    legacy = await trusted.post("/graphql", json=body)
    assert legacy.status_code == 200
    assert legacy.json() == refusal


async def test_introspection_is_refused_with_trusted_documents(
    trusted: httpx.AsyncClient,
) -> None:
    """The SDL at /graphql/schema.graphql serves code generators and editors instead."""
    answer = await trusted.post("/graphql", json={"query": INTROSPECTION})
    assert code(answer) == "PERSISTED_QUERY_NOT_ALLOWED"
    assert (await trusted.get("/graphql/schema.graphql")).status_code == 200


def test_a_manifest_of_apollos_format_is_read(tmp_path: Path) -> None:
    path = tmp_path / "persisted-query-manifest.json"
    operations = [{"id": sha256(GSP), "body": GSP, "name": None, "type": "query"}]
    body = {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
    path.write_text(json.dumps(body), encoding="utf-8")
    assert read_manifest(path) == {sha256(GSP): GSP}


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (json.dumps({hashlib.sha1(GSP.encode()).hexdigest(): GSP}), "is not the SHA-256"),  # noqa: S324
        ("{not json", "is not valid JSON"),
        ("[]", "must be a JSON object of SHA-256 hashes to documents"),
    ],
    ids=["sha1", "json", "shape"],
)
def test_a_manifest_that_cannot_be_trusted_stops_the_start(
    tmp_path: Path, content: str, says: str
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError, match=says):
        read_manifest(path)
