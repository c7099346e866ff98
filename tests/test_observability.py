"""What an operator sees: request ids, JSON logs, /readyz, /metrics, and the documented settings."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi.app import create_app
from soilapi.db.session import StatementCounter, create_engine
from soilapi.http.logs import JsonFormatter
from soilapi.http.metrics import (
    exposition,
    limit_operation_names,
    record_operation,
    record_rejection,
)
from soilapi.http.observability import install_observability
from soilapi.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
ONE_ORG = '{ organization(slug: "gsp") { name } }'
# Answered by the resolvers (the SQL compiler leaves `relations` to them): a statement per
# level, where ONE_ORG runs one. (Compiled root fields run as one statement or side by side
# as other requests read at the time: soilapi.db.session.Reader.fetch_each.)
NESTED = (
    '{ organization(slug: "gsp") { name children { nodes { name children { totalCount } } }'
    " relations(first: 3) { nodes { predicate } } } }"
)


def observed_app(engine: AsyncEngine, **overrides: Any) -> FastAPI:
    """The API as `soilapi serve` builds it, plus observability, on the test engine."""
    settings = Settings(
        database_url="postgresql://unused", response_cache_enabled=False, **overrides
    )
    app = create_app(settings, engine=engine)
    install_observability(app, settings)
    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture(scope="module")
async def http(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = observed_app(engine)

    @app.get("/test/operation")
    async def operation() -> dict[str, str]:
        record_operation("TestOperation", "ok")
        return {"ok": "yes"}

    @app.get("/test/rejected")
    async def rejected() -> dict[str, str]:
        record_rejection("test_reason")
        return {"ok": "no"}

    @app.get("/test/crash")
    async def crash() -> dict[str, str]:
        raise RuntimeError("secret internals")

    async with client(app) as c:
        yield c


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG and above during the test, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Each line must be one JSON object."""
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def access_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [entry for entry in lines(stream) if entry["logger"] == "soilapi.access"]


async def sample(http: httpx.AsyncClient, name: str, **labels: str) -> float:
    """One value from /metrics (0 when the series does not exist yet)."""
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


async def graphql(http: httpx.AsyncClient, query: str, **headers: str) -> httpx.Response:
    response = await http.post(
        "/graphql", json={"query": query}, headers={"accept": "application/json", **headers}
    )
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text
    return response


# --------------------------------------------------------------------------- request ids


async def test_a_sane_request_id_is_kept_and_returned(http: httpx.AsyncClient) -> None:
    for given in ("abc-123", "trace.id_7", "x" * 128):
        response = await graphql(http, ONE_ORG, **{"X-Request-Id": given})
        assert response.headers["x-request-id"] == given


async def test_an_unsafe_request_id_is_replaced(http: httpx.AsyncClient) -> None:
    for given in ("x" * 129, "has space", 'quote"', "a\\nb", "ünï", ""):
        raw = given.encode("latin-1")
        response = await http.get("/healthz", headers={"X-Request-Id": raw})
        returned = response.headers["x-request-id"]
        assert returned != given
        assert re.fullmatch(r"[0-9a-f]{32}", returned), returned


async def test_every_response_gets_a_fresh_id(http: httpx.AsyncClient) -> None:
    ids = {(await http.get(path)).headers["x-request-id"] for path in ("/healthz",) * 3}
    ids.add((await http.get("/no-such-page")).headers["x-request-id"])
    ids.add((await graphql(http, ONE_ORG)).headers["x-request-id"])
    assert len(ids) == 5


# --------------------------------------------------------------------------- logs


async def test_access_log_is_one_json_line_with_the_request_id(
    http: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    await graphql(http, ONE_ORG, **{"X-Request-Id": "log-check-1"})
    [entry] = [e for e in access_lines(json_log) if e["request_id"] == "log-check-1"]
    assert entry["level"] == "INFO"
    assert entry["method"] == "POST"
    assert entry["path"] == "/graphql"
    assert entry["status"] == 200
    assert entry["sql_statements"] >= 1
    assert 0 < entry["duration_ms"] < 5000
    assert entry["message"] == "POST /graphql 200"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])


async def test_a_crash_is_masked_and_logged_with_ids(
    http: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    response = await http.get("/test/crash", headers={"X-Request-Id": "crash-1"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "crash-1"
    assert "secret" not in response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    error_id = error["extensions"]["errorId"]
    logged = [e for e in lines(json_log) if error_id in e["message"]]
    assert len(logged) == 1
    assert logged[0]["level"] == "ERROR"
    assert logged[0]["request_id"] == "crash-1"
    assert "RuntimeError: secret internals" in logged[0]["exception"]
    [access] = [e for e in access_lines(json_log) if e["request_id"] == "crash-1"]
    assert access["status"] == 500


async def test_probes_are_logged_at_debug_only(
    http: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    await http.get("/healthz", headers={"X-Request-Id": "probe-1"})
    [entry] = [e for e in access_lines(json_log) if e["request_id"] == "probe-1"]
    assert entry["level"] == "DEBUG"


def test_log_lines_outside_requests_have_no_request_id() -> None:
    record = logging.LogRecord("soilapi.x", logging.WARNING, __file__, 1, "a\nb %s", ("c",), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "a\nb c"
    assert entry["request_id"] is None
    assert entry["logger"] == "soilapi.x"


# --------------------------------------------------------------------------- /readyz


async def test_ready_when_the_database_answers_and_is_migrated(http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok"},
    }


async def test_not_ready_when_the_code_has_a_newer_migration(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    shutil.copy(ROOT / "alembic.ini", tmp_path / "alembic.ini")
    shutil.copytree(ROOT / "migrations", tmp_path / "migrations")
    head = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini"))).get_current_head()
    (tmp_path / "migrations/versions/next.py").write_text(
        f'revision = "feedbeef0001"\ndown_revision = "{head}"\n'
        "def upgrade() -> None: ...\ndef downgrade() -> None: ...\n"
    )
    app = observed_app(engine, alembic_config=str(tmp_path / "alembic.ini"))
    async with client(app) as http:
        response = await http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert "feedbeef0001" in body["checks"]["migrations"]
    assert "soilapi migrate" in body["checks"]["migrations"]


async def test_not_ready_without_the_migrations(engine: AsyncEngine, tmp_path: Path) -> None:
    app = observed_app(engine, alembic_config=str(tmp_path / "missing.ini"))
    async with client(app) as http:
        response = await http.get("/readyz")
    assert response.status_code == 503
    assert "alembic.ini not found" in response.json()["checks"]["migrations"]


async def test_not_ready_when_the_database_does_not_answer(silent_url: str) -> None:
    """A server that accepts connections and never answers: readiness gives up on time."""
    settings = Settings(
        database_url=silent_url,
        readiness_timeout_seconds=0.5,
    )
    dead = create_engine(settings)
    app = create_app(settings, engine=dead)
    install_observability(app, settings)
    try:
        async with client(app) as http:
            started = asyncio.get_running_loop().time()
            response = await http.get("/readyz")
            elapsed = asyncio.get_running_loop().time() - started
    finally:
        await dead.dispose()
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "no answer within 0.5 s",
        "migrations": "not checked",
    }
    assert elapsed < 2


# --------------------------------------------------------------------------- /metrics


async def test_requests_are_counted_by_route_and_status(http: httpx.AsyncClient) -> None:
    ok = {"route": "/graphql", "status": "200"}
    before = await sample(http, "soilapi_http_requests_total", **ok)
    missing = await sample(http, "soilapi_http_requests_total", route="unmatched", status="404")
    await graphql(http, ONE_ORG)
    await http.get("/no/such/path")
    assert await sample(http, "soilapi_http_requests_total", **ok) == before + 1
    after = await sample(http, "soilapi_http_requests_total", route="unmatched", status="404")
    assert after == missing + 1
    count = await sample(http, "soilapi_http_request_duration_seconds_count", route="/graphql")
    assert count >= 1


async def test_sql_statements_are_attributed_to_their_own_request(
    http: httpx.AsyncClient, engine: AsyncEngine, json_log: io.StringIO
) -> None:
    """Two requests at once: each access line counts only its own statements."""
    counter = StatementCounter(engine)
    alone: dict[str, int] = {}
    for query in (ONE_ORG, NESTED):
        before = counter.count
        await graphql(http, query)
        alone[query] = counter.count - before
    assert alone[ONE_ORG] < alone[NESTED]

    sum_before = await sample(http, "soilapi_sql_statements_per_request_sum")
    count_before = await sample(http, "soilapi_sql_statements_per_request_count")
    headers = {"a": {"X-Request-Id": "sql-a"}, "b": {"X-Request-Id": "sql-b"}}
    await asyncio.gather(
        graphql(http, ONE_ORG, **headers["a"]), graphql(http, NESTED, **headers["b"])
    )
    by_id = {e["request_id"]: e["sql_statements"] for e in access_lines(json_log)}
    assert by_id["sql-a"] == alone[ONE_ORG]
    assert by_id["sql-b"] == alone[NESTED]
    assert await sample(http, "soilapi_sql_statements_per_request_count") == count_before + 2
    total = await sample(http, "soilapi_sql_statements_per_request_sum")
    assert total == sum_before + alone[ONE_ORG] + alone[NESTED]


async def test_operations_and_rejections_reported_by_the_endpoint_are_counted(
    http: httpx.AsyncClient,
) -> None:
    labels = {"operation": "TestOperation", "outcome": "ok"}
    before = await sample(http, "soilapi_graphql_requests_total", **labels)
    latency = await sample(
        http, "soilapi_graphql_request_duration_seconds_count", operation="TestOperation"
    )
    rejected = await sample(http, "soilapi_rejected_queries_total", reason="test_reason")
    anonymous = {"operation": "anonymous", "outcome": "rejected"}
    anonymous_before = await sample(http, "soilapi_graphql_requests_total", **anonymous)

    await http.get("/test/operation")
    await http.get("/test/rejected")

    assert await sample(http, "soilapi_graphql_requests_total", **labels) == before + 1
    assert (
        await sample(
            http, "soilapi_graphql_request_duration_seconds_count", operation="TestOperation"
        )
        == latency + 1
    )
    assert (
        await sample(http, "soilapi_rejected_queries_total", reason="test_reason") == rejected + 1
    )
    assert await sample(http, "soilapi_graphql_requests_total", **anonymous) == anonymous_before + 1


async def test_client_chosen_operation_names_cannot_grow_the_metrics(
    http: httpx.AsyncClient,
) -> None:
    limit_operation_names(0)  # every name not seen before now counts as "other"
    try:
        other = await sample(
            http, "soilapi_graphql_requests_total", operation="other", outcome="ok"
        )
        for i in range(5):
            record_operation(f"Flood{i}", "ok")
        record_operation("not a GraphQL name!", "ok")
        page = (await http.get("/metrics")).text
    finally:
        limit_operation_names(Settings().metrics_max_operations)
    assert "Flood" not in page
    now = await sample(http, "soilapi_graphql_requests_total", operation="other", outcome="ok")
    assert now == other + 6


def operation_labels(page: str) -> set[str]:
    """The operation names that have a label of their own on a metrics page."""
    return {
        s.labels["operation"]
        for family in text_string_to_metric_families(page)
        for s in family.samples
        if s.name == "soilapi_graphql_requests_total"
    } - {"anonymous", "other"}


async def test_junk_operation_names_cannot_take_the_labels_of_real_ones(
    engine: AsyncEngine,
) -> None:
    """Names of requests refused before execution get no label: 300 of them leave the one
    free label to the next operation that runs."""
    async with client(observed_app(engine)) as http:
        taken = operation_labels((await http.get("/metrics")).text)
    app = observed_app(engine, metrics_max_operations=len(taken) + 1)  # one label left
    try:
        async with client(app) as http:
            other = {"operation": "other", "outcome": "rejected"}
            before = await sample(http, "soilapi_graphql_requests_total", **other)
            for i in range(300):
                name = f"Junk{i}"
                response = await http.post(
                    "/graphql", json={"query": f"query {name} {{ nope }}", "operationName": name}
                )
                assert response.json()["errors"][0]["extensions"]["code"] == (
                    "GRAPHQL_VALIDATION_FAILED"
                )
            real = 'query HygieneRealQuery { organization(slug: "gsp") { name } }'
            response = await http.post(
                "/graphql", json={"query": real, "operationName": "HygieneRealQuery"}
            )
            assert response.json()["data"]["organization"]["name"]
            page = (await http.get("/metrics")).text
            assert await sample(http, "soilapi_graphql_requests_total", **other) == before + 300
    finally:
        limit_operation_names(Settings().metrics_max_operations)
    assert "Junk" not in page
    real_labels = {"operation": "HygieneRealQuery", "outcome": "ok"}
    async with client(app) as http:
        assert await sample(http, "soilapi_graphql_requests_total", **real_labels) == 1


CACHES = {
    "responses",
    "schema_answers",
    "compiled_requests",
    "plan_templates",
    "plans",
    "statements",
    "page_statements",
    "documents",
    "validations",
    "costs",
    "persisted_queries",
}


def samples(page: str, name: str) -> dict[str, float]:
    """The values of one metric by their `cache` label."""
    return {
        s.labels["cache"]: s.value
        for family in text_string_to_metric_families(page)
        for s in family.samples
        if s.name == name
    }


async def test_every_cache_is_on_the_metrics_page_by_name(engine: AsyncEngine) -> None:
    settings = Settings(database_url="postgresql://unused", rate_limit_enabled=False)
    app = create_app(settings, engine=engine)  # with the response cache
    install_observability(app, settings)
    try:
        async with client(app) as http:
            before = (await http.get("/metrics")).text
            for _ in range(3):
                assert (await graphql(http, ONE_ORG)).status_code == 200
            page = (await http.get("/metrics")).text
    finally:
        await app.state.version_probe.close()
    assert "# TYPE soilapi_cache_hits_total counter" in page
    assert "# TYPE soilapi_cache_bytes gauge" in page
    for metric in ("hits_total", "misses_total", "evictions_total", "entries", "bytes"):
        assert set(samples(page, f"soilapi_cache_{metric}")) >= CACHES, metric
    hits, misses = (
        samples(page, "soilapi_cache_hits_total"),
        samples(page, "soilapi_cache_misses_total"),
    )
    hits_before = samples(before, "soilapi_cache_hits_total")
    misses_before = samples(before, "soilapi_cache_misses_total")
    assert hits["responses"] >= hits_before["responses"] + 2  # the second and third asks
    assert misses["responses"] >= misses_before["responses"] + 1  # the first
    assert samples(page, "soilapi_cache_entries")["responses"] >= 1
    assert samples(page, "soilapi_cache_bytes")["responses"] > 0


async def test_installing_twice_observes_once(engine: AsyncEngine) -> None:
    settings = Settings(database_url="postgresql://unused")
    app = observed_app(engine)
    install_observability(app, settings)
    async with client(app) as http:
        labels = {"route": "/healthz", "status": "200"}
        before = await sample(http, "soilapi_http_requests_total", **labels)
        await http.get("/healthz")
        assert await sample(http, "soilapi_http_requests_total", **labels) == before + 1


def test_several_worker_processes_share_one_metrics_page(tmp_path: Path) -> None:
    """With PROMETHEUS_MULTIPROC_DIR every worker writes its samples there; /metrics adds them."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    code = "from soilapi.http.metrics import record_rejection; record_rejection('two_workers')"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)  # noqa: S603
    page, media_type = exposition(str(tmp_path))
    assert media_type.startswith("text/plain")
    values = [
        s.value
        for family in text_string_to_metric_families(page.decode())
        for s in family.samples
        if s.name == "soilapi_rejected_queries_total" and s.labels == {"reason": "two_workers"}
    ]
    assert values == [2.0]


def test_several_worker_processes_share_their_cache_figures(tmp_path: Path) -> None:
    """Each worker copies its caches' counts into the shared folder; /metrics adds them."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    code = (
        "from soilapi.http.metrics import share_caches\n"
        "from soilapi.lru import Lru\n"
        "cache = Lru('two_workers', max_entries=1, max_bytes=10, weigh=lambda key, value: 1)\n"
        "cache.put('a', 'x'); cache.get('a'); cache.get('b'); cache.put('b', 'y')\n"
        "share_caches(force=True)\n"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)  # noqa: S603
    page, _ = exposition(str(tmp_path))
    text = page.decode()
    assert samples(text, "soilapi_cache_hits_total")["two_workers"] == 2.0
    assert samples(text, "soilapi_cache_misses_total")["two_workers"] == 2.0
    assert samples(text, "soilapi_cache_evictions_total")["two_workers"] == 2.0


async def test_metrics_can_be_switched_off(engine: AsyncEngine) -> None:
    async with client(observed_app(engine, metrics_enabled=False)) as http:
        assert (await http.get("/metrics")).status_code == 404
        assert (await http.get("/readyz")).status_code == 200


# --------------------------------------------------------------------------- documentation


def _default_text(value: Any) -> str:
    if value is None:
        return "unset"
    if value == "":
        return "empty"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def test_every_setting_is_documented_with_its_default() -> None:
    """The README's settings table is what operators read: it must match the code."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([A-Z0-9_]+)` \| `?([^|`]*?)`? \|", readme, re.M))
    for name, field in Settings.model_fields.items():
        variable = name.upper()
        assert variable in rows, f"README's settings table lacks {variable}"
        assert rows[variable] == _default_text(field.default), (variable, rows[variable])
