"""OpenTelemetry tracing: off unless the standard OTEL_* variables configure an exporter.

When on, each request gives a span for HTTP (the ASGI instrumentation, outermost), one for the
GraphQL operation with its parsing and validation (strawberry's extension, in
soilapi.graphql.schema), and one per SQL statement (the asyncpg instrumentation, which sees
the statements of both engines: SQLAlchemy's and the compiled plans' run on asyncpg). They
go to the OTLP/HTTP exporter, which reads its endpoint, headers and service name from the
same variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, ...). Off, nothing is
installed and a request pays nothing for it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

SERVICE = "soilapi"  # the service name unless OTEL_SERVICE_NAME gives another


def configured(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for traces: an OTLP endpoint, or OTEL_TRACES_EXPORTER
    naming an exporter, and the SDK not disabled (OTEL_SDK_DISABLED=true)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER")
    if exporter is not None:
        return exporter.strip().lower() not in {"", "none"}
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def from_environment(environ: Mapping[str, str] = os.environ) -> TracerProvider | None:
    """The provider exporting to the configured OTLP endpoint, or None when tracing is off."""
    if not configured(environ):
        return None
    # Imported here: the SDK and the exporter (protobuf, requests) weigh ~20 MB and a second
    # of start-up, for nothing when tracing is off.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,
    )
    from opentelemetry.sdk.resources import Resource  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

    service = environ.get("OTEL_SERVICE_NAME") or SERVICE
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def trace_sql(provider: TracerProvider) -> None:
    """A span per SQL statement. asyncpg is patched for the whole process, once: the first
    app's provider is the one its spans go to."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor  # noqa: PLC0415

    instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(tracer_provider=provider)


def untrace_sql() -> None:
    """Undo `trace_sql` (tests)."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor  # noqa: PLC0415

    instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
