"""Request ids, access logs, metrics and /readyz, /metrics: installed with one call.

`ObservabilityMiddleware` is plain ASGI rather than a BaseHTTPMiddleware, which would run the
app in a second task and wrap every response in a stream; this costs a few lookups per request.
"""

from __future__ import annotations

import logging
import time
import uuid

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soilapi.db.session import on_each_statement
from soilapi.errors import ErrorCode
from soilapi.http import metrics
from soilapi.http.logs import (
    REQUEST_ID_HEADER,
    accept_request_id,
    bind_request_id,
    unbind_request_id,
)
from soilapi.http.refusals import refuse
from soilapi.services import health
from soilapi.settings import Settings

access_log = logging.getLogger("soilapi.access")
log = logging.getLogger("soilapi.http")

GRAPHQL_ROUTE = "/graphql"
PROBE_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
_HEADER = REQUEST_ID_HEADER.encode("latin-1")
_CLIENT_CLOSED = 499  # nginx's convention for "the client went away before the response"


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == _HEADER:
            return accept_request_id(value.decode("latin-1"))
    return accept_request_id(None)


class _Routes:
    """Names a request by the app route it belongs to: a closed set, fit for metric labels.

    Raw paths are not (anyone can request /a, /b, ...), and FastAPI sets `scope["route"]` only
    for its own APIRoutes, not for plain routes such as /graphql or for mounts.
    """

    def __init__(self) -> None:
        self._seen: object = None
        self._exact: frozenset[str] = frozenset()
        self._mounts: tuple[str, ...] = ()

    def label(self, scope: Scope) -> str:
        matched = getattr(scope.get("route"), "path", None)
        if isinstance(matched, str) and matched:
            return matched
        routes = getattr(scope.get("app"), "routes", None) or []
        if (id(routes), len(routes)) != self._seen:
            self._seen = (id(routes), len(routes))
            paths = [(r.path, isinstance(r, Mount)) for r in routes if hasattr(r, "path")]
            self._exact = frozenset(p for p, mount in paths if not mount and "{" not in p)
            self._mounts = tuple(p for p, mount in paths if mount)
        path: str = scope["path"]
        if path in self._exact:
            return path
        for prefix in self._mounts:
            if path.startswith(prefix + "/"):
                return prefix + "/{path}"
        return "unmatched"


class ObservabilityMiddleware:
    """Gives each request an id, times it, counts it, and writes one access log line."""

    def __init__(self, app: ASGIApp, *, shared_metrics: bool = False) -> None:
        """`shared_metrics`: several worker processes build /metrics from shared files."""
        self.app = app
        self.shared_metrics = shared_metrics
        self._engine: object = None
        self._routes = _Routes()

    def _instrument(self, scope: Scope) -> None:
        # The engine appears on app.state at startup, after the middleware was built.
        engine = getattr(scope["app"].state, "engine", None) if "app" in scope else None
        if engine is not None and engine is not self._engine:
            on_each_statement(engine, metrics.count_statement)
            self._engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection; only HTTP requests are observed."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._instrument(scope)
        request_id = _request_id(scope)
        id_token = bind_request_id(request_id)
        # Starlette's `request.state`: a write records the request id in its revision.
        scope.setdefault("state", {})["request_id"] = request_id
        stats, stats_token = metrics.start_request()
        status = _CLIENT_CLOSED
        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                started_response = True
                status = message["status"]
                # Appended as it is: nothing inside sets this header.
                header = (_HEADER, request_id.encode("latin-1"))
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        started = time.perf_counter()
        metrics.IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            # The client left while sending its request: nobody to answer, nothing to fix.
            # Counted as 499 (not 5xx, which alerts watch), with no traceback. A request
            # cancelled before it answered keeps the 499 it started with, for the same reason.
            status = _CLIENT_CLOSED
        except Exception:
            status = 500
            if started_response:
                log.exception("unhandled error after the response started")
                raise
            await _internal_error(send_with_id)
        finally:
            metrics.IN_PROGRESS.dec()
            seconds = time.perf_counter() - started
            _record(scope, self._routes.label(scope), stats, status, seconds)
            if self.shared_metrics:
                metrics.share_caches()
            metrics.end_request(stats_token)
            unbind_request_id(id_token)


async def _internal_error(send: Send) -> None:
    """Answer a crash with a masked GraphQL-shaped error; the traceback goes to the log."""
    error_id = uuid.uuid4().hex[:12]
    log.exception("unhandled error [%s]", error_id)
    message = f"Internal error (error id {error_id})"
    await refuse(send, 500, ErrorCode.INTERNAL_SERVER_ERROR, message, [], errorId=error_id)


def _record(
    scope: Scope, route: str, stats: metrics.RequestStats, status: int, seconds: float
) -> None:
    metrics.child(metrics.HTTP_REQUESTS, route, str(status)).inc()
    metrics.child(metrics.HTTP_DURATION, route).observe(seconds)
    metrics.finish_graphql(stats, seconds, route == GRAPHQL_ROUTE)
    level = logging.DEBUG if route in PROBE_ROUTES and status < 500 else logging.INFO
    if not access_log.isEnabledFor(level):
        return
    client = scope.get("client")
    access_log.log(
        level,
        "%s %s %s",
        scope["method"],
        scope["path"],
        status,
        extra={
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "route": route,
            "operation": stats.operation,
            "outcome": stats.outcome,
            "sql_statements": stats.statements,
            "client": client[0] if client else None,
        },
    )


def install_observability(app: FastAPI, settings: Settings) -> None:
    """Add the middleware (outermost of those added so far), /readyz and /metrics; once."""
    if getattr(app.state, "observability", False):
        return
    app.state.observability = True
    metrics.limit_operation_names(settings.metrics_max_operations)
    heads = health.read_heads(settings.alembic_config)
    shared = bool(settings.prometheus_multiproc_dir)
    app.add_middleware(ObservabilityMiddleware, shared_metrics=shared)

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        result = await health.check(
            request.app.state.engine, heads, settings.readiness_timeout_seconds
        )
        body = {
            "status": "ready" if result.ready else "unavailable",
            "checks": {"database": result.database, "migrations": result.migrations},
        }
        return JSONResponse(
            body, status_code=200 if result.ready else 503, headers={"Cache-Control": "no-store"}
        )

    if settings.metrics_enabled:

        @app.get("/metrics", include_in_schema=False)
        async def prometheus() -> Response:
            content, media_type = metrics.exposition(settings.prometheus_multiproc_dir)
            return Response(content, media_type=media_type, headers={"Cache-Control": "no-store"})
