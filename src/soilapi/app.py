"""The HTTP application: /graphql (API and offline GraphiQL) and /healthz."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from soilapi.db.session import Reader, create_engine
from soilapi.graphql.context import Context
from soilapi.graphql.explorer import ExplorerGraphQLRouter, mount_explorer_static
from soilapi.graphql.schema import schema
from soilapi.settings import Settings, get_settings

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


def create_app(settings: Settings | None = None, engine: AsyncEngine | None = None) -> FastAPI:
    """Build the app; the engine is created at startup unless a test passes one in."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if engine is not None:
            yield
            return
        app.state.engine = create_engine(settings)
        app.state.sessions = async_sessionmaker(app.state.engine, expire_on_commit=False)
        try:
            yield
        finally:
            await app.state.engine.dispose()

    async def get_context(request: Request) -> AsyncIterator[Context]:
        sessions: async_sessionmaker = request.app.state.sessions  # type: ignore[type-arg]
        async with sessions() as session:
            # One snapshot for the whole request, read-only: every resolver sees the same data.
            await session.connection(
                execution_options={
                    "isolation_level": "REPEATABLE READ",
                    "postgresql_readonly": True,
                }
            )
            yield Context(Reader(session))

    app = FastAPI(title="soilapi", lifespan=lifespan, docs_url=None, redoc_url=None)
    if engine is not None:  # tests share one engine and drive the app without a lifespan
        app.state.engine = engine
        app.state.sessions = async_sessionmaker(engine, expire_on_commit=False)
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
