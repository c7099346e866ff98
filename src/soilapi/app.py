"""The HTTP application: /graphql (API and offline GraphiQL) and /healthz."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from soilapi.db.session import Reader, create_engine
from soilapi.graphql.context import Context
from soilapi.graphql.explorer import ExplorerGraphQLRouter, mount_explorer_static
from soilapi.graphql.schema import schema
from soilapi.settings import Settings, get_settings

log = logging.getLogger("soilapi.app")

EXAMPLE_QUERY = """\
# Welcome to soilapi: the global soil-governance network as a graph.
# Press the play button to run this query; open "Docs" for every type and field.

# What sits under the Global Soil Partnership, level by level?
query UnderTheGSP {
  organization(slug: "gsp") {
    name
    start { iso precision }
    hostedBy { nodes { name } }
    descendants(first: 20) {
      nodes {
        depth
        via
        organization { name acronym start { iso } }
      }
    }
  }
  # Who are the "4 per 1000" Initiative's partners in Germany, and on what terms?
  partnerAgreements(countries: ["DE"]) {
    nodes {
      rawText
      parties { nodes { name } }
      instruments {
        nodes { instrumentType fte signed { iso } start { iso } end { iso } }
      }
    }
  }
}
"""


def read_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that read one consistent snapshot per request and can never write."""
    snapshot = engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return async_sessionmaker(snapshot, expire_on_commit=False)


def create_app(settings: Settings | None = None, engine: AsyncEngine | None = None) -> FastAPI:
    """Build the app; the engine is created at startup unless a test passes one in."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if engine is not None:
            yield
            return
        app.state.engine = create_engine(settings)
        app.state.sessions = read_sessions(app.state.engine)
        try:
            yield
        finally:
            await app.state.engine.dispose()

    async def get_context(request: Request) -> AsyncIterator[Context]:
        sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
        # The connection opens at the first statement, inside a resolver, so an unreachable
        # database becomes a coded GraphQL error rather than an HTTP 500 here.
        session = sessions()
        try:
            yield Context(Reader(session))
        finally:
            try:
                await session.close()
            except Exception:  # the error itself was already reported to the client
                log.warning("closing a session failed", exc_info=True)

    app = FastAPI(title="soilapi", lifespan=lifespan, docs_url=None, redoc_url=None)
    if engine is not None:  # tests share one engine and drive the app without a lifespan
        app.state.engine = engine
        app.state.sessions = read_sessions(engine)
    mount_explorer_static(app)
    router: ExplorerGraphQLRouter[Context, None] = ExplorerGraphQLRouter(
        schema,
        context_getter=get_context,
        default_query=EXAMPLE_QUERY,
        multipart_uploads_enabled=False,
    )
    app.include_router(router, prefix="/graphql")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app
