"""What browsers and front-end tooling need from the HTTP layer: CORS and compression.

Both are Starlette's own middleware, which are plain ASGI (no extra task per request, no
response stream wrapped), and each is installed only when its setting turns it on, so an app
without CORS origins pays nothing for CORS.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soilapi.settings import Settings

# What a browser may send: `Content-Type: application/json` and the custom headers are not
# CORS-safelisted, so a POST from another origin is preflighted and must find them here.
ALLOWED_HEADERS = ("Accept", "Content-Type", "X-API-Key", "Authorization", "X-Request-Id")
# What a page may read of an answer besides the safelisted headers: the request id to quote
# in a bug report, the rate-limit budget, how long to wait, and the validator to revalidate.
EXPOSED_HEADERS = (
    "X-Request-Id",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
    "ETag",
    "X-Cache",
)
# Browsers keep a preflight this long (Chromium caps it at 2 h): one OPTIONS per ten minutes.
PREFLIGHT_MAX_AGE_SECONDS = 600
# zlib's default: JSON shrinks 5-10x already; 9 costs about twice the CPU for a few percent.
GZIP_LEVEL = 6


def origins(setting: str) -> list[str]:
    """The origins of CORS_ALLOW_ORIGINS: comma-separated, blanks and empties dropped."""
    return [origin.strip() for origin in setting.split(",") if origin.strip()]


def install_compression(app: FastAPI, settings: Settings) -> None:
    """Gzip answers of at least GZIP_MINIMUM_BYTES for clients that accept it (0: never)."""
    if settings.gzip_minimum_bytes > 0:
        app.add_middleware(
            Compression, minimum_size=settings.gzip_minimum_bytes, compresslevel=GZIP_LEVEL
        )


class Compression:
    """Starlette's GZipMiddleware, with the answer to a client that takes no gzip sent
    without it.

    For such a client Starlette builds a responder per request, which normalises its list of
    excluded media types again and parses the response's headers into two header objects,
    only to add `Vary: Accept-Encoding` to an answer it would have compressed: 6-20 us of a
    cached answer's ~210 us in-process. Here that path reads the raw headers once and decides
    as Starlette does (tests/http/test_frontends.py sends the same responses through both);
    gzip itself stays Starlette's.
    """

    def __init__(self, app: ASGIApp, minimum_size: int, compresslevel: int) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel)
        self.excluded = frozenset(self.gzip.exclude_content_types)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _takes_gzip(scope["headers"]):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, _VaryOnEncoding(self, send).send)


def _takes_gzip(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the first Accept-Encoding names gzip (Starlette's test)."""
    for name, value in headers:
        if name == b"accept-encoding":
            return b"gzip" in value
    return False


class _VaryOnEncoding:
    """One response to a client that takes no gzip: `Vary: Accept-Encoding` is added where
    Starlette's GZipMiddleware would have compressed the answer for a client that does."""

    __slots__ = ("_compression", "_send", "_start")

    def __init__(self, compression: Compression, send: Send) -> None:
        self._compression = compression
        self._send = send
        self._start: Message | None = None  # held until the first body says its size

    async def send(self, message: Message) -> None:
        start = self._start
        if start is not None:  # the first body after a held start
            self._start = None
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if message["type"] == "http.response.body" and (
                more or len(body) >= self._compression.minimum_size
            ):
                _add_vary(start["headers"])
            await self._send(start)
        elif message["type"] == "http.response.start" and self._compressible(message):
            message.setdefault("headers", [])
            self._start = message
            return
        await self._send(message)

    def _compressible(self, start: Message) -> bool:
        if start["status"] == 206:
            return False
        media_type = ""
        for name, value in start.get("headers", ()):
            if name == b"content-encoding":
                return False
            if name == b"content-type" and not media_type:
                media_type = value.decode("latin-1").partition(";")[0].strip().lower()
        kinds = {media_type, media_type.partition("/")[0] + "/*"}
        if media_type.startswith("application/grpc+"):
            kinds.add("application/grpc")
        return kinds.isdisjoint(self._compression.excluded)


def _add_vary(headers: list[tuple[bytes, bytes]]) -> None:
    """Add Accept-Encoding to Vary as Starlette's `MutableHeaders.add_vary_header` does: to
    the first Vary's value, dropping any others; or as a new header."""
    found = [i for i, (name, _) in enumerate(headers) if name == b"vary"]
    if not found:
        headers.append((b"vary", b"Accept-Encoding"))
        return
    first = found[0]
    headers[first] = (b"vary", headers[first][1] + b", Accept-Encoding")
    for i in reversed(found[1:]):
        del headers[i]


def install_cors(app: FastAPI, settings: Settings) -> None:
    """Let pages of CORS_ALLOW_ORIGINS call the API (GET and POST), if any are set.

    No credentials: soilapi sets no cookies, and clients identify themselves with a header
    (`X-API-Key`), which a page sends explicitly; so `*` stays valid for the public API.
    """
    allowed = origins(settings.cors_allow_origins)
    if not allowed:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"] if "*" in allowed else allowed,
        allow_methods=["GET", "POST"],
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
