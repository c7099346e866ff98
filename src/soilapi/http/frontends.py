"""What browsers and front-end tooling need from the HTTP layer: CORS and compression.

Both are Starlette's own middleware, which are plain ASGI (no extra task per request, no
response stream wrapped), and each is installed only when its setting turns it on, so an app
without CORS origins pays nothing for CORS.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

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
            GZipMiddleware, minimum_size=settings.gzip_minimum_bytes, compresslevel=GZIP_LEVEL
        )


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
