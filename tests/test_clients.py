"""Real GraphQL clients, and the examples/ of the README's "Clients", against a live server.

Apollo Client (PersistedQueryLink, hashes sent over GET) and urql (persistedExchange) speak
automatic persisted queries: the first request sends the hash alone and misses, the client
sends the query, and the next request is a short hash-only GET that is answered, and that
revalidates with 304. The examples run as their README says: the curl script, the Python
client, and the TypeScript client after graphql-codegen and `tsc --strict`. Then a server
locked to trusted documents (the codegen manifest of the TypeScript example, plus the
document Apollo Client sent) answers those by hash at once and refuses any other. The
JavaScript is in tests/clients/ and examples/; pinned packages are installed into a cache
folder outside the repository (tests/node.py).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from tests.node import node, npm_packages, pins_of, workspace
from tests.serving import serving

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = ROOT / "tests" / "clients"
EXAMPLES = ROOT / "examples"
SCHEMA = ROOT / "schema.graphql"
# Apollo Client's cache asks for `__typename` everywhere; urql without one does not.
GSP_TYPED = {"__typename": "Organization", "name": "Global Soil Partnership", "acronym": "GSP"}
GSP = {"organization": GSP_TYPED}
ESP = {"organization": {"name": "European Soil Partnership", "acronym": "ESP"}}
GSP_FOUNDED = {"iso": "2012", "precision": "YEAR"}
ESP_FOUNDED = {"iso": "2013", "precision": "YEAR"}
ASPIR = {
    "organization": {
        "name": "Pyrenean Subregional Soil Partnership",
        "start": {"iso": "2021-05-27"},
    }
}
PYTHON_OUTPUT = [
    "2022-10-14  Existing Partnership 15: FARM Foundation: MEMORANDUM_OF_UNDERSTANDING",
    "2022-09-08  Existing Partnership 18: IEVA-Elenature: FUNDING_AGREEMENT",
    "2022-04-08  Existing Partnership 14: SaveSoil Isha Foundation: MEMORANDUM_OF_UNDERSTANDING",
    "refused: `countries` takes ISO 3166-1 alpha-2 codes (two upper-case letters, e.g. DE), "
    "not 'France' (BAD_USER_INPUT)",
]
TYPESCRIPT_OUTPUT = [
    "European Soil Partnership",
    "  Alpine Subregional Soil Partnership (AlpSP), 2017",
    "  Eurasian Subregional Soil Partnership (EASP), 2013-11",
    "  Pyrenean Subregional Soil Partnership (ASPir), 2021-05-27",
    "  Western Balkan Subregional Soil Partnership (WBSP), 2022-11",
]


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The client scripts, beside the pinned packages' node_modules."""
    packages = npm_packages("clients", pins_of(CLIENTS / "package.json"))
    return workspace(tmp_path_factory.mktemp("clients"), packages, CLIENTS)


def run(scripts: Path, script: str, *args: str) -> dict[str, Any]:
    done = node().run([str(scripts / script), *args])
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def url_params(request: dict[str, Any]) -> dict[str, Any]:
    """A GET's parameters, the JSON ones decoded."""
    found = {name: values[0] for name, values in parse_qs(urlsplit(request["url"]).query).items()}
    for name in ("variables", "extensions"):
        if name in found:
            found[name] = json.loads(found[name])
    return found


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def apollo(scripts: Path, live_server: str) -> dict[str, Any]:
    return run(scripts, "apollo.mjs", live_server)


def test_apollo_client_misses_once_then_sends_the_hash_over_get(apollo: dict[str, Any]) -> None:
    assert apollo["first"] == apollo["second"] == GSP
    miss, registration, hashed = apollo["requests"]
    assert (miss["method"], miss["status"]) == ("GET", 404)
    sent = url_params(miss)
    assert "query" not in sent
    assert sent["variables"] == {"slug": "gsp"}
    digest = sent["extensions"]["persistedQuery"]["sha256Hash"]

    # The retry: the full query with its hash, over POST as Apollo Client sends it.
    assert (registration["method"], registration["status"]) == ("POST", 200)
    assert sha256(registration["body"]["query"]) == digest
    assert registration["body"]["extensions"]["persistedQuery"] == {
        "version": 1,
        "sha256Hash": digest,
    }

    assert (hashed["method"], hashed["status"]) == ("GET", 200)
    assert "query" not in url_params(hashed)
    assert hashed["etag"] is not None
    assert hashed["url"] == miss["url"]  # the point: one short URL, which caches can key on
    assert apollo["revalidated"] == 304


def test_urql_misses_once_then_sends_the_hash_over_get(scripts: Path, live_server: str) -> None:
    urql = run(scripts, "urql.mjs", live_server)
    assert urql["first"] == urql["second"] == ESP
    miss, registration, hashed = urql["requests"]
    assert (miss["method"], miss["status"]) == ("GET", 404)
    assert "query" not in url_params(miss)
    # urql sends the query over GET too while the URL stays short: a GET may teach a hash.
    assert (registration["method"], registration["status"]) == ("GET", 200)
    taught = url_params(registration)
    assert sha256(taught["query"]) == taught["extensions"]["persistedQuery"]["sha256Hash"]
    assert (hashed["method"], hashed["status"]) == ("GET", 200)
    assert "query" not in url_params(hashed)
    assert urql["revalidated"] == 304


# The examples


def test_the_curl_example(live_server: str) -> None:
    done = subprocess.run(  # noqa: S603 - the example, as its README runs it
        ["sh", str(EXAMPLES / "curl" / "query.sh"), live_server],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [answer.get("data") for answer in answers] == [
        {"organization": {"name": "Global Soil Partnership", "start": GSP_FOUNDED}},
        {"organization": {"name": "European Soil Partnership", "start": ESP_FOUNDED}},
        None,
        ASPIR,
        ASPIR,
    ]
    assert answers[2]["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def test_the_python_example(live_server: str) -> None:
    done = subprocess.run(  # noqa: S603 - our interpreter, the example
        [sys.executable, str(EXAMPLES / "python" / "client.py"), live_server],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == PYTHON_OUTPUT


@pytest.fixture(scope="module")
def typescript(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The TypeScript example, its types generated from schema.graphql and compiled."""
    folder = EXAMPLES / "typescript"
    packages = npm_packages("typescript-example", pins_of(folder / "package.json"))
    built = workspace(tmp_path_factory.mktemp("typescript"), packages, folder, SCHEMA)
    codegen = node().run(
        ["node_modules/.bin/graphql-codegen"], cwd=built, env={"SOILAPI_SCHEMA": SCHEMA.name}
    )
    assert codegen.returncode == 0, codegen.stdout + codegen.stderr
    tsc = node().run(["node_modules/.bin/tsc"], cwd=built)
    assert tsc.returncode == 0, tsc.stdout + tsc.stderr
    return built


def test_the_typescript_example_is_typed_by_the_schema(typescript: Path) -> None:
    """`tsc --strict` refuses the example without its null check: the types are real."""
    main = typescript / "src" / "main.ts"
    source = main.read_text(encoding="utf-8")
    unchecked = source.replace("if (organization === null) {", "if (false) {")
    assert unchecked != source
    main.write_text(unchecked, encoding="utf-8")
    try:
        tsc = node().run(["node_modules/.bin/tsc", "--noEmit"], cwd=typescript)
    finally:
        main.write_text(source, encoding="utf-8")
    assert tsc.returncode != 0
    assert "'organization' is possibly 'null'" in tsc.stdout


def test_the_typescript_example(typescript: Path, live_server: str) -> None:
    done = node().run(["dist/main.js", live_server], cwd=typescript)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == TYPESCRIPT_OUTPUT


# Trusted documents


@pytest.fixture(scope="module")
def trusted_server(
    typescript: Path,
    apollo: dict[str, Any],
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A server locked to the TypeScript example's codegen manifest and to the document
    Apollo Client sent (as Apollo's manifest generator would list it)."""
    generated = typescript / "src" / "gql" / "persisted-documents.json"
    documents = json.loads(generated.read_text(encoding="utf-8"))
    sent = apollo["requests"][1]["body"]["query"]
    documents[sha256(sent)] = sent
    folder = tmp_path_factory.mktemp("trusted")
    manifest = folder / "manifest.json"
    manifest.write_text(json.dumps(documents), encoding="utf-8")
    log = folder / "server.log"
    with serving(database_url, log, LOG_LEVEL="WARNING", TRUSTED_DOCUMENTS=str(manifest)) as live:
        yield f"{live.base}/graphql"


def test_the_typescript_example_with_trusted_documents(
    typescript: Path, trusted_server: str
) -> None:
    """The codegen manifest is the server's: the example's documents answer by id alone."""
    done = node().run(["dist/main.js", trusted_server], cwd=typescript)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == TYPESCRIPT_OUTPUT


def test_apollo_client_with_trusted_documents(scripts: Path, trusted_server: str) -> None:
    locked = run(scripts, "apollo.mjs", trusted_server, "unlisted")
    assert locked["first"] == locked["second"] == GSP
    statuses = [(r["method"], r["status"]) for r in locked["requests"]]
    assert statuses == [("GET", 200), ("GET", 200), ("GET", 400)]  # no miss, no retry
    assert locked["revalidated"] == 304
    unlisted = url_params(locked["requests"][2])["extensions"]["persistedQuery"]["sha256Hash"]
    message = (
        f"The document {unlisted} is not among this server's trusted documents: it runs "
        "only the operations its clients were built with."
    )
    # Apollo Client reads the 400's body: the error reaches the app with its code.
    assert locked["refused"] == {
        "name": "CombinedGraphQLErrors",
        "errors": [{"message": message, "extensions": {"code": "PERSISTED_QUERY_NOT_ALLOWED"}}],
    }
