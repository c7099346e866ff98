"""OpenTelemetry: off unless configured; when on, a request gives HTTP, GraphQL and SQL spans."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine

from soilapi import tracing
from soilapi.app import create_app
from soilapi.settings import Settings

QUERY = '{ organization(slug: "gsp") { name children(first: 3) { nodes { acronym } } } }'


@pytest.mark.parametrize("compiler", [True, False], ids=["compiled", "resolvers"])
async def test_a_request_gives_http_graphql_and_sql_spans(
    engine: AsyncEngine, compiler: bool
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = Settings(
        database_url="postgresql://unused", response_cache_enabled=False, query_compiler=compiler
    )
    app = create_app(settings, engine=engine, tracer_provider=provider)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as http:
            answer = (await http.post("/graphql", json={"query": QUERY})).json()
        await app.state.version_probe.close()
    finally:
        tracing.untrace_sql()
    assert answer["data"]["organization"]["name"] == "Global Soil Partnership"

    spans = exporter.get_finished_spans()
    [http_span] = [s for s in spans if s.kind == SpanKind.SERVER and s.name.startswith("POST")]
    assert http_span.attributes is not None
    graphql = [s for s in spans if s.name.startswith("GraphQL")]
    assert {"GraphQL Query", "GraphQL Parsing", "GraphQL Validation"} <= {s.name for s in graphql}
    sql = [s for s in spans if (s.attributes or {}).get("db.system") == "postgresql"]
    statements = [str((s.attributes or {}).get("db.statement", "")) for s in sql]
    assert any("entities" in text for text in statements), statements
    # One trace: the HTTP span is the root, the others hang under it.
    assert {s.context.trace_id for s in spans} == {http_span.context.trace_id}
    assert all(_parent(s) is not None for s in spans if s is not http_span)
    # No span per resolved field: that would send every field through middleware.
    assert not [s for s in spans if s.name.startswith("GraphQL Resolving")]


def _parent(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def test_tracing_is_off_unless_the_environment_configures_it(engine: AsyncEngine) -> None:
    assert not tracing.configured({})
    assert tracing.configured({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert tracing.configured({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318"})
    assert tracing.configured({"OTEL_TRACES_EXPORTER": "otlp"})
    assert not tracing.configured({"OTEL_TRACES_EXPORTER": "none"})
    assert not tracing.configured(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}
    )
    assert tracing.from_environment({}) is None
    app = create_app(Settings(database_url="postgresql://unused"), engine=engine)
    assert OpenTelemetryMiddleware not in [m.cls for m in app.user_middleware]
