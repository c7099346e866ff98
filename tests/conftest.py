"""Shared fixtures: a real PostgreSQL for the whole run, migrated and seeded once.

Without TEST_DATABASE_URL the run starts its own private server (soilapi.devdb) in a temporary
folder on a free port and removes it at the end, so tests never touch a developer's data.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from bench import generate
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.serving import serving

from soilapi import devdb
from soilapi.app import create_app
from soilapi.cli import migrate
from soilapi.db.session import (
    StatementCounter,
    create_engine,
    read_only,
    reading,
    statements_sent,
)
from soilapi.graphql import execution
from soilapi.graphql.context import Context
from soilapi.graphql.schema import build_schema
from soilapi.seed.dataset import load_dataset
from soilapi.seed.loader import load
from soilapi.settings import Settings, normalise_url
from soilapi.vocab import EntityKind


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_url() -> Iterator[str]:
    """URL of a host that accepts connections and never answers (a hung server, a black hole)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        yield f"postgresql://nobody@127.0.0.1:{silent.getsockname()[1]}/none"


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the test database's server (database name `soilapi`)."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield normalise_url(given)
        return
    data_dir: Path = tmp_path_factory.mktemp("pg") / "data"
    url = devdb.start(data_dir, _free_port(), database="soilapi")
    try:
        yield url
    finally:
        devdb.destroy(data_dir)


@pytest.fixture(scope="session")
def database_url(server_url: str) -> str:
    """The migrated, seeded database every API test reads."""
    migrate(server_url)
    return server_url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """One engine for the run, with the seed data loaded."""
    engine = create_engine(Settings(database_url=database_url), database_url)
    async with engine.begin() as conn:
        await load(conn, load_dataset())
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def live_server(
    database_url: str, engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`soilapi serve` with the documented defaults on the seeded database, on a free
    loopback port; yields its /graphql URL. One for the run: the tests that drive it from
    other programs (the HTTP audit, Node clients, the examples) share its start-up."""
    log = tmp_path_factory.mktemp("live") / "server.log"
    with serving(database_url, log, LOG_LEVEL="WARNING") as server:
        yield f"{server.base}/graphql"


# The resolvers alone (the SQL compiler off): every answer of the `api` client is compared
# with theirs.
REFERENCE = build_schema(compiler=False)


def error_keys(errors: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What must match between executors: path, code, and the message unless masked."""
    keys = []
    for error in errors:
        code = (error.get("extensions") or {}).get("code")
        code = None if code is None else str(code)  # an ErrorCode before it is JSON
        message = None if code == "INTERNAL_SERVER_ERROR" else error["message"]
        keys.append((tuple(error.get("path") or ()), code, message))
    return sorted(keys, key=repr)


def first_difference(found: Any, expected: Any, path: str = "data") -> str | None:
    """Where two answers first differ, keys' order included (a response keeps the query's
    field order); None when they are the same."""
    pairs: list[tuple[str, Any, Any]] = []
    if isinstance(found, dict) and isinstance(expected, dict):
        if list(found) != list(expected):
            return f"{path}: keys {list(found)} != {list(expected)}"
        pairs = [(f"{path}.{key}", found[key], expected[key]) for key in found]
    elif isinstance(found, list) and isinstance(expected, list):
        if len(found) != len(expected):
            return f"{path}: {len(found)} items != {len(expected)}"
        pairs = [
            (f"{path}[{i}]", a, b) for i, (a, b) in enumerate(zip(found, expected, strict=True))
        ]
    elif found != expected:
        return f"{path}: {found!r} != {expected!r}"
    for inner_path, a, b in pairs:
        inner = first_difference(a, b, inner_path)
        if inner is not None:
            return inner
    return None


@dataclass
class Api:
    """A client that posts GraphQL and counts the SQL statements each request runs.

    Each answer of the compiled client is checked against the resolvers' on the same data (the
    SQL compiler off), so every query of the suite also tests that the compiler answers the
    same; the resolvers' own client (`resolvers_api`) is that reference.
    """

    http: httpx.AsyncClient
    counter: StatementCounter
    engine: AsyncEngine
    # Which engine answers: "compiled" (the SQL compiler first, the resolvers when it cannot
    # plan) or "resolvers" (QUERY_COMPILER off; its answers are the reference, not compared).
    name: str = "compiled"
    last_statements: int = 0
    # Which executor answered the last request: {"compiled": 1}, {"resolvers": 1} (the
    # compiler could not plan it) or {"compiler_off": 1} (soilapi.graphql.execution.runs).
    last_runs: dict[str, int] = field(default_factory=dict)

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a query; return the JSON body (data and errors)."""
        before, runs = self.counter.count, execution.runs.copy()
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        self.last_statements = self.counter.count - before
        self.last_runs = dict(execution.runs - runs)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if self.name == "compiled":
            await self._compare(query, variables, body)
        return body

    async def statements(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> list[tuple[str, Any]]:
        """The statements (SQL and values) `query` sends, in order: the compiled client's
        include those of the resolvers' reference answer."""
        with statements_sent(self.engine) as sent:
            await self.data(query, variables)
        return sent

    async def post_raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send any text, lone surrogates included (escaped in JSON as a client would), and
        return the JSON body without comparing engines: for requests refused before either
        engine runs."""
        content = json.dumps({"query": query, "variables": variables}).encode()
        headers = {"content-type": "application/json"}
        response = await self.http.post("/graphql", content=content, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def _compare(
        self, query: str, variables: dict[str, Any] | None, body: dict[str, Any]
    ) -> None:
        async with reading(read_only(self.engine)) as reader:
            expected = await REFERENCE.execute(
                query, variable_values=variables, context_value=Context(reader)
            )
        difference = first_difference(body.get("data"), expected.data)
        assert difference is None, (
            f"the compiler answered otherwise than the resolvers at {difference}"
        )
        reference_errors = [e.formatted for e in expected.errors or ()]
        assert error_keys(body.get("errors") or []) == error_keys(reference_errors)

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a query that must succeed; return its data."""
        body = await self.post(query, variables)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result


@asynccontextmanager
async def app_client(
    engine: AsyncEngine, settings: Settings | None = None, base_url: str = "http://test"
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of an app on the seeded database, with `settings` (default: the
    documented defaults), closed with the app's version probe."""
    app = create_app(settings or Settings(database_url="postgresql://unused"), engine=engine)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            yield http
    finally:
        await app.state.version_probe.close()


# Every root list by its kind: the root fields' names.
ROOT_LISTS = {
    EntityKind.ORGANIZATION: "organizations",
    EntityKind.PROGRAMME: "programmes",
    EntityKind.INITIATIVE: "initiatives",
    EntityKind.FACILITY: "facilities",
    EntityKind.STRATEGIC_OBJECTIVE: "strategicObjectives",
    EntityKind.PARTNER_AGREEMENT: "partnerAgreements",
    EntityKind.OUTPUT: "outputs",
    EntityKind.EVENT: "events",
    EntityKind.DOCUMENT: "documents",
    EntityKind.PERSON: "people",
    EntityKind.PLACE: "places",
}


@asynccontextmanager
async def _client(engine: AsyncEngine, *, query_compiler: bool) -> AsyncIterator[Api]:
    # Behaviour tests execute every request (statement counts, errors); the response cache
    # has tests of its own in tests/http/test_response_cache.py.
    # One app serves the whole session as one client: its CPU budget (6 s a minute of parsing
    # and validation) would run out on a busy machine, so it is one no test here reaches;
    # tests/http/test_rate_limit_http.py tests the budget on apps of its own.
    settings = Settings(
        database_url="postgresql://unused",
        response_cache_enabled=False,
        query_compiler=query_compiler,
        rate_limit_cpu_seconds_per_minute=600,
        rate_limit_cpu_burst_seconds=600,
    )
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    name = "compiled" if query_compiler else "resolvers"
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield Api(http, StatementCounter(engine), engine, name)


@pytest.fixture(scope="session")
async def api(engine: AsyncEngine) -> AsyncIterator[Api]:
    """GraphQL over HTTP against the seeded database, like a real client."""
    async with _client(engine, query_compiler=True) as client:
        yield client


@pytest.fixture(scope="session")
async def resolvers_api(engine: AsyncEngine) -> AsyncIterator[Api]:
    """The same client for an app with QUERY_COMPILER off: graphql-core's resolvers and
    DataLoaders answer everything (the path of relations, trees, `entity` and every error)."""
    async with _client(engine, query_compiler=False) as client:
        yield client


@pytest.fixture(params=["compiled", "resolvers"])
def engine_api(request: pytest.FixtureRequest) -> Api:
    """`api`, then `resolvers_api`: a test taking it runs once on each engine; `.name` says
    which, for bounds that differ between them."""
    client: Api = request.getfixturevalue("api" if request.param == "compiled" else "resolvers_api")
    return client


def plan_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    """A node of EXPLAIN's JSON plan and every node under it (subplans and init plans too)."""
    return [node, *(n for child in node.get("Plans", ()) for n in plan_nodes(child))]


def run_sync(func: Any, *args: Any) -> Any:
    """Run blocking code (alembic's own event loop) outside the test's loop."""
    return asyncio.to_thread(func, *args)


@asynccontextmanager
async def writable_database(server_url: str) -> AsyncIterator[AsyncEngine]:
    """A database of its own, migrated and seeded, for tests that write: the session's
    seeded database stays exactly the seed for every other test. Dropped afterwards."""
    import uuid  # noqa: PLC0415

    name = f"writes_{uuid.uuid4().hex[:12]}"
    admin = create_engine(Settings(database_url=server_url), server_url)
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = server_url.rsplit("/", 1)[0] + f"/{name}"
        await asyncio.to_thread(migrate, url)
        engine = create_engine(Settings(database_url=url), url)
        try:
            async with engine.begin() as conn:
                await load(conn, load_dataset())
            yield engine
        finally:
            await engine.dispose()
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@asynccontextmanager
async def synthetic_database(
    server_url: str, name: str, scale: int, seed: int
) -> AsyncIterator[str]:
    """A database of its own with the seed data and the benchmark's synthetic rows at
    `scale` (bench.generate), as asyncpg's URL (the form COPY needs). Dropped afterwards."""
    admin = create_engine(Settings(database_url=server_url), server_url)

    async def run(statement: str) -> None:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text(statement))

    try:
        await run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await run(f'CREATE DATABASE "{name}"')
        target = make_url(server_url).set(database=name, drivername="postgresql")
        url = target.render_as_string(hide_password=False)
        try:
            await run_sync(generate.migrate_and_fill, url, scale, seed)
            yield url
        finally:
            await run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()
