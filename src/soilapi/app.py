"""The HTTP application: /graphql (API and offline GraphiQL), its schema file, a landing
page at /, and /healthz."""

from __future__ import annotations

import gc
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import strawberry
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import Route

from soilapi import VERSION, tracing
from soilapi.db.probe import SharedRead
from soilapi.db.session import POOL_OVERFLOW, connect_args, create_engine, read_only, reading
from soilapi.errors import ErrorCode
from soilapi.graphql.answers import Answers, responses
from soilapi.graphql.context import Context
from soilapi.graphql.examples import EXAMPLES
from soilapi.graphql.explorer import (
    CONTENT_SECURITY_POLICY,
    DEFAULT_STATIC_PREFIX,
    explorer_html,
    mount_explorer_static,
)
from soilapi.graphql.limits import Limits as OperationLimits
from soilapi.graphql.limits import estimate
from soilapi.graphql.schema import build_schema
from soilapi.http.admission import Admission
from soilapi.http.endpoint import GraphQLEndpoint
from soilapi.http.endpoint_params import Limits, Params, Problem
from soilapi.http.export import ROUTES as EXPORT_ROUTES
from soilapi.http.frontends import install_compression, install_cors
from soilapi.http.landing import SCHEMA_PATH, landing, schema_file
from soilapi.http.lane import Lane
from soilapi.http.metrics import record_operation, record_rejection
from soilapi.http.observability import install_observability
from soilapi.http.persisted import PersistedDocuments, read_manifest
from soilapi.http.security import SecurityHeaders
from soilapi.repositories.cache import version_probe
from soilapi.services.keys import Credentials, KnownKeys, TokenVerifier, credentials
from soilapi.services.ratelimit import CpuBudget, RateLimitUnavailable, charge, client_key
from soilapi.services.ratelimit import headers as rate_headers
from soilapi.settings import Settings, get_settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger("soilapi.app")


def graphiql_page(settings: Settings) -> Callable[[Request], HTMLResponse]:
    """The offline GraphiQL page, talking to the URL it was loaded from, with the CSP that
    lets it load its own assets and nothing else; with the Explain panel when
    EXPLAIN_QUERIES is on."""

    def page(request: Request) -> HTMLResponse:
        html = explorer_html(
            endpoint=request.url.path,
            static_prefix=DEFAULT_STATIC_PREFIX,
            tabs=[example.tab() for example in EXAMPLES],
            explain=settings.explain_queries,
        )
        return HTMLResponse(html, headers={"content-security-policy": CONTENT_SECURITY_POLICY})

    return page


def caching(schema: strawberry.Schema, settings: Settings, app: FastAPI) -> Answers:
    """How requests are answered: with the response cache unless the settings turn it off.

    A remembered response is served when the data version the app's shared probe reads now
    is the one it was computed at (soilapi.graphql.answers).
    """
    limits = OperationLimits.from_settings(settings)
    explains = settings.explain_queries
    if not settings.response_cache_enabled:
        return Answers(schema, limits=limits, explains=explains)

    async def current() -> int:
        probe: SharedRead = app.state.version_probe
        return int(await probe.read())

    store = responses(settings.response_cache_max_entries, settings.response_cache_max_bytes)
    return Answers(
        schema, responses=store, current_version=current, limits=limits, explains=explains
    )


def probe_for(engine: AsyncEngine, settings: Settings) -> SharedRead:
    """The data-version reader for cache hits, connecting like the engine's connections."""
    return version_probe(engine, connect_args(settings))


class RateLimiter:
    """Admission by rate limit: each request's estimated cost is charged to its client's
    bucket of points, and the CPU time its documents take is spent from the client's CPU
    budget (`CpuBudget`); a client whose budget is spent waits before anything is parsed."""

    def __init__(
        self, schema: strawberry.Schema, settings: Settings, limits: OperationLimits
    ) -> None:
        self.schema = schema
        self.settings = settings
        self.limits = limits
        self.cpu = CpuBudget(
            settings.rate_limit_cpu_seconds_per_minute, settings.rate_limit_cpu_burst_seconds
        )
        self.keys = KnownKeys()

    async def _charged(self, request: Request) -> str:
        """The bucket a request is charged to: a live API key's own (issued with `soilapi
        keys create`, or listed in RATE_LIMIT_API_KEYS), else its network's."""
        client = request.client.host if request.client else None
        headers = request.headers
        presented = credentials(headers.get("x-api-key"), headers.get("authorization"))
        actor = None
        if presented is not None:
            found = Credentials(presented, request.app.state.tokens)
            actor = await self.keys.actor(request.app.state.engine, found)
        key = actor or client_key(presented, client, self.settings)
        request.state.rate_key = key
        return key

    def _key(self, request: Request) -> str:
        """The bucket `admit` charged this request to."""
        return str(getattr(request.state, "rate_key", "ip:unknown"))

    async def admit(self, request: Request, params: Params) -> Mapping[str, str]:
        """Refuse with 429 a client whose CPU budget or bucket cannot pay; else charge it."""
        key = await self._charged(request)
        wait = self.cpu.wait(key)
        if wait > 0:
            raise self._cpu_spent(wait)
        started = time.thread_time()
        p = params
        cost = estimate(self.schema, p.query, p.variables, p.operation_name, self.limits)
        self.cpu.spend(key, time.thread_time() - started)  # pricing parses: it counts too
        try:
            decision = await charge(
                request.app.state.engine, key, cost.requested_query_cost, self.settings
            )
        except RateLimitUnavailable:
            # Fail open: a query that needs the database fails on its own with a coded 503;
            # one that does not (`{ __typename }`) should not be refused for the limiter's sake.
            log.warning("rate limiter unavailable; request admitted unmetered", exc_info=True)
            return {}
        if not decision.allowed:
            raise Problem(429, ErrorCode.RATE_LIMITED, decision.message, rate_headers(decision))
        return rate_headers(decision)

    def settle(self, request: Request, cpu_seconds: float) -> None:
        """Spend the CPU time the request took to parse and validate from its client's budget."""
        self.cpu.spend(self._key(request), cpu_seconds)

    def _cpu_spent(self, wait: float) -> Problem:
        retry = max(1, math.ceil(wait))
        message = (
            "Rate limit exceeded: this client's documents took more CPU time to parse and "
            f"validate than its {self.settings.rate_limit_cpu_seconds_per_minute:g} s a minute. "
            f"Retry in {retry} s, or send shorter documents (fewer fields, no repeats)."
        )
        return Problem(429, ErrorCode.RATE_LIMITED, message, {"retry-after": str(retry)})


def persisted_documents(settings: Settings) -> PersistedDocuments:
    """Documents requests may name by hash: the trusted manifest's alone, when one is set;
    else those clients send (automatic persisted queries). A manifest that cannot be read
    stops the start with a ManifestError that says why."""
    if settings.trusted_documents is None:
        return PersistedDocuments()
    return PersistedDocuments(read_manifest(Path(settings.trusted_documents)))


class _RequestContext:
    """One request's context, opened with `async with`: a reader of its own, closed when the
    request ends, and the app's limits. (A class rather than an @asynccontextmanager: its
    generator cost a small request a few microseconds each way.)"""

    __slots__ = ("_context",)

    def __init__(self, request: Request, limits: OperationLimits) -> None:
        context = Context(reading(request.app.state.read_only), limits)
        context.request = request
        self._context = context

    async def __aenter__(self) -> Context:
        return self._context

    async def __aexit__(self, *exc: object) -> None:
        await self._context.reader.__aexit__(*exc)


def context_opener(
    limits: OperationLimits,
) -> Callable[[Request], AbstractAsyncContextManager[Context]]:
    """Opens each request's context: a reader of its own and the app's `limits`."""
    return lambda request: _RequestContext(request, limits)


def create_app(
    settings: Settings | None = None,
    engine: AsyncEngine | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """Build the app; the engine is created at startup unless a test passes one in, and
    traces go to `tracer_provider`, else where the OTEL_* variables say (else nowhere)."""
    settings = settings or get_settings()
    tracer_provider = tracer_provider or tracing.from_environment()
    schema = build_schema(compiler=settings.query_compiler, tracer_provider=tracer_provider)
    # The limits of this app's settings travel with each request, in its context.
    operation_limits = OperationLimits.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The schema, the mappers and the modules live as long as the process: freezing them
        # keeps the collector from walking ~200k objects again and again under load, which
        # showed up as 10-20 ms stalls in request profiles.
        gc.collect()
        gc.freeze()
        if engine is not None:
            yield
            return
        app.state.engine = create_engine(settings)
        app.state.read_only = read_only(app.state.engine)
        app.state.version_probe = probe_for(app.state.engine, settings)
        try:
            yield
        finally:
            await app.state.version_probe.close()
            await app.state.engine.dispose()

    # No OpenAPI document or its viewers: FastAPI's would describe no more than /healthz, and
    # the API documents itself through GraphQL introspection. No native telemetry either:
    # traces come from soilapi.tracing's middleware when OTEL_* asks for them, and FastAPI's
    # own check, made on every request, read the environment each time (~2 % of a request).
    app = FastAPI(
        title="soilapi",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    if engine is not None:  # tests share one engine and drive the app without a lifespan
        app.state.engine = engine
        app.state.read_only = read_only(engine)
        app.state.version_probe = probe_for(engine, settings)
    mount_explorer_static(app)
    # Bearer tokens from an OpenID Connect provider, when the settings name one.
    app.state.tokens = TokenVerifier.from_settings(settings)

    endpoint = GraphQLEndpoint(
        caching(schema, settings, app),
        context=context_opener(operation_limits),
        limits=Limits(
            settings.max_body_bytes,
            settings.max_query_chars,
            settings.max_query_tokens,
            settings.max_response_bytes,
        ),
        retry_after_seconds=settings.retry_after_seconds,
        ide=graphiql_page(settings),
        on_operation=record_operation,
        on_rejection=record_rejection,
        rate_limiter=RateLimiter(schema, settings, operation_limits)
        if settings.rate_limit_enabled
        else None,
        cache_control=settings.http_cache_control,
        documents=persisted_documents(settings),
    )
    # An ASGI app as the route's endpoint takes every method, so the endpoint itself answers
    # PUT, DELETE ... with a GraphQL-shaped 405 and an Allow header. Its requests reach it by
    # their own lane (soilapi.http.lane), not through the router.
    graphql_route = Route("/graphql", endpoint, include_in_schema=False)
    app.router.routes.insert(0, graphql_route)
    app.router.routes.append(Route(SCHEMA_PATH, schema_file(schema.as_str() + "\n")))
    app.router.routes.append(Route("/", landing))
    app.router.routes.extend(EXPORT_ROUTES)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": VERSION})

    app.add_middleware(Lane, route=graphql_route)  # innermost: see soilapi.http.lane
    app.add_middleware(
        Admission,
        max_in_flight=settings.max_requests_in_flight or settings.db_pool_size + POOL_OVERFLOW,
        retry_after_seconds=settings.overload_retry_after_seconds,
        body_timeout=settings.body_timeout_seconds,
    )
    install_compression(app, settings)  # inside observability: its time counts
    install_observability(app, settings)  # its middleware wraps everything above
    # Outside observability and admission, so a browser may read their refusals (503, the
    # masked 500), and a preflight is answered without taking a request slot.
    install_cors(app, settings)
    app.add_middleware(SecurityHeaders)  # its headers reach even a masked 500
    if tracer_provider is not None:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware  # noqa: PLC0415

        tracing.trace_sql(tracer_provider)
        # Outermost: the HTTP span is the parent of the others and times all of the request.
        app.add_middleware(OpenTelemetryMiddleware, tracer_provider=tracer_provider)
    return app
