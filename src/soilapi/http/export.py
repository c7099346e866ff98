"""`GET /export.jsonl` and `GET /export.csv`: the full dump, streamed from one snapshot.

The feed cursor the dump is consistent with goes in the `Soilapi-Feed-Cursor` response header
(and, in JSONL, in the first line too), so a client knows where to follow the feed from before
the first record arrives. Compression comes from the app's gzip middleware, chunk by chunk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from soilapi.graphql.dump import ENCODERS
from soilapi.services import export

MEDIA_TYPES = {"jsonl": "application/jsonl; charset=utf-8", "csv": "text/csv; charset=utf-8"}
CURSOR_HEADER = "Soilapi-Feed-Cursor"


def _endpoint(fmt: str) -> Route:
    async def download(request: Request) -> StreamingResponse:
        stack = AsyncExitStack()
        dump = await stack.enter_async_context(export.open_dump(request.app.state.engine, ENCODERS))

        async def body() -> AsyncIterator[bytes]:
            # The snapshot stays open while the body streams, and closes when it ends or the
            # client goes away (Starlette then stops this generator).
            async with stack:
                async for chunk in export.writer(fmt)(dump):
                    yield chunk

        header = dump.header
        return StreamingResponse(
            body(),
            media_type=MEDIA_TYPES[fmt],
            headers={
                CURSOR_HEADER: str(header["cursor"]),
                "Soilapi-Exported-At": str(header["exportedAt"]),
                "Soilapi-Dump-Version": str(header["version"]),
                "Content-Disposition": f'attachment; filename="soilapi-export.{fmt}"',
                "Cache-Control": "no-store",
            },
        )

    return Route(f"/export.{fmt}", download, methods=["GET"])


ROUTES = [_endpoint(fmt) for fmt in export.FORMATS]
