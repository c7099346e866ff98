"""The front door for people and tools: a landing page at `/` and the schema's SDL as a file.

The page is plain HTML with no script, style or image, so the app's default
Content-Security-Policy (`default-src 'none'`, soilapi.http.security) fits it as it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from soilapi.http.conditional import entity_tag, fresh

SCHEMA_PATH = "/graphql/schema.graphql"

LANDING_PAGE = f"""\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>soilapi</title>
</head>
<body>
<h1>soilapi</h1>
<p>The GraphQL API of the global soil-governance network: who works with whom on soils,
with the source of every fact.</p>
<ul>
<li><a href="/graphql">GraphiQL</a>: explore the schema and run queries in the browser
(works offline). Programs send their queries to the same URL, <code>/graphql</code>, with
GET or POST.</li>
<li><a href="{SCHEMA_PATH}">schema.graphql</a>: the schema this server runs, as SDL, for
code generators and editors.</li>
<li>For front-end developers (CORS, compression, ETags and 304, persisted queries,
rate-limit headers) and example clients (curl, Python, TypeScript): the sections &ldquo;For
front-end developers&rdquo; and &ldquo;Clients&rdquo; of the README in soilapi's source
repository.</li>
</ul>
</body>
</html>
"""


async def landing(request: Request) -> HTMLResponse:
    """The landing page; `no-cache` so a new release's page is seen at once.

    Async, as every endpoint here: Starlette runs a plain function in a worker thread.
    """
    return HTMLResponse(LANDING_PAGE, headers={"cache-control": "no-cache"})


def schema_file(sdl: str) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint serving `sdl` as text, with an ETag: tools re-download it only when the
    running schema changed (a new release)."""
    body = sdl.encode()
    etag = entity_tag(sdl)
    headers = {"etag": etag, "cache-control": "no-cache"}

    async def schema_graphql(request: Request) -> Response:
        if fresh(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="text/plain; charset=utf-8", headers=headers)

    return schema_graphql
