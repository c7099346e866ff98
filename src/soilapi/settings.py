"""All runtime settings in one typed class, read from the environment (prefix-free names)."""

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """soilapi's configuration; every field can be set by an environment variable."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql+asyncpg://...). Unset: `make run` starts a "
        "private server under the project folder.",
    )
    host: str = Field(default="127.0.0.1", description="Interface the HTTP server binds to.")
    port: int = Field(default=8000, description="Port the HTTP server listens on.")
    db_pool_size: int = Field(
        default=10,
        description=(
            "Connections kept open per process by its pool; as many again are kept for "
            "requests that run one statement."
        ),
    )
    max_page_size: int = Field(
        default=100, ge=1, description="Largest `first`/`last` a list accepts."
    )
    statement_timeout_ms: int = Field(
        default=5000, description="PostgreSQL statement_timeout for API queries, in ms."
    )
    log_sql: bool = Field(default=False, description="Echo every SQL statement (debugging).")
    explain_queries: bool = Field(
        default=False,
        description='Development only: a request that sends `extensions: {"explain": true}` '
        "gets the SQL statements it ran, with their values and EXPLAIN plans, in "
        "`extensions.explain`, and GraphiQL gets an Explain panel. Off: the extension is "
        "ignored. It shows the SQL and the data's shape to anyone: never in production.",
    )
    query_compiler: bool = Field(
        default=True,
        description="Answer queries with one SQL statement per root field where the SQL "
        "compiler can (`off`: every query runs through the resolvers, for debugging).",
    )
    # Query limits: refused at parse/validation time, before any resolver runs.
    max_query_depth: int = Field(
        default=16,
        gt=0,
        description="Deepest nesting of fields (introspection `ofType` is free); each "
        "connection costs two levels (`list { nodes { ... } }`).",
    )
    max_query_aliases: int = Field(
        default=30, ge=0, description="Aliased fields per query, counting each fragment use."
    )
    max_query_directives: int = Field(
        default=20, ge=0, description="Directives (`@include`, `@skip` ...) per document."
    )
    max_query_tokens: int = Field(
        default=5000, gt=0, description="Tokens (names, punctuation, values) per document."
    )
    max_query_nodes: int = Field(
        default=500_000,
        gt=0,
        description="Most nodes a query could return: the sum over lists of the product of "
        "their page sizes along the path (GitHub's node limit).",
    )
    execution_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Stop executing a query after this long (code TIMEOUT)."
    )
    # Response cache: repeated reads answered from memory while the data version stands.
    response_cache_enabled: bool = Field(
        default=True,
        description="Answer repeated identical queries from memory; an entry is used only "
        "while the data version it was computed at is current, so answers are never stale.",
    )
    response_cache_max_entries: int = Field(
        default=2000, ge=1, description="Most responses kept per process."
    )
    response_cache_max_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024, description="Most bytes of responses kept per process."
    )
    # Rate limiting: a token bucket per client, kept in PostgreSQL for every process.
    rate_limit_enabled: bool = Field(
        default=True, description="Charge each request's cost to its client's bucket."
    )
    rate_limit_capacity: int = Field(
        default=5000, gt=0, description="Points a client's bucket holds when full."
    )
    rate_limit_refill_per_minute: int = Field(
        default=5000, gt=0, description="Points added back to a bucket per minute."
    )
    rate_limit_cpu_seconds_per_minute: float = Field(
        default=6.0,
        gt=0,
        description="CPU seconds a client's documents may take to parse and validate per "
        "minute, per server process (GitHub's secondary limit); past it, 429 until it refills.",
    )
    rate_limit_cpu_burst_seconds: float = Field(
        default=1.0,
        gt=0,
        description="CPU seconds a client may spend at once before its per-minute rate applies.",
    )
    rate_limit_api_keys: str = Field(
        default="",
        description="Comma-separated API keys that get their own bucket via `X-API-Key`; "
        "other keys are ignored and the client is limited by IP.",
    )
    # GraphQL over HTTP: what one request to /graphql may send.
    max_body_bytes: int = Field(
        default=100_000, gt=0, description="Largest POST body /graphql reads, in bytes (else 413)."
    )
    max_query_chars: int = Field(
        default=20_000, gt=0, description="Longest GraphQL document accepted, in characters."
    )
    max_response_bytes: int = Field(
        default=10 * 1024 * 1024,
        gt=0,
        description="Largest response body /graphql sends, in bytes; past it the client gets "
        "RESPONSE_TOO_LARGE instead of the data.",
    )
    retry_after_seconds: int = Field(
        default=5, ge=0, description="Retry-After of the 503 sent while the database is down."
    )
    # Operability: logs, health, metrics, outages, shutdown.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest level written to the JSON log on stderr."
    )
    db_connect_timeout_seconds: float = Field(
        default=3.0,
        gt=0,
        description="Give up opening a database connection after this long, so requests fail "
        "fast with DATABASE_UNAVAILABLE when PostgreSQL is unreachable.",
    )
    readiness_timeout_seconds: float = Field(
        default=2.0, gt=0, description="/readyz reports the database as down past this long."
    )
    alembic_config: str | None = Field(
        default=None,
        description="Path to alembic.ini, whose migrations /readyz compares with the database. "
        "Unset: alembic.ini in the project root.",
    )
    metrics_enabled: bool = Field(default=True, description="Serve Prometheus metrics at /metrics.")
    metrics_max_operations: int = Field(
        default=200,
        ge=0,
        description="Distinct GraphQL operation names kept as metric labels; later names are "
        'counted as "other", so clients cannot blow up the metrics.',
    )
    prometheus_multiproc_dir: str | None = Field(
        default=None,
        description="Folder shared by several worker processes for their metrics (read by "
        "prometheus-client itself); unset with one process per container.",
    )
    shutdown_grace_seconds: int = Field(
        default=20,
        ge=0,
        description="On SIGTERM, in-flight requests get this long to finish before the "
        "server closes their connections.",
    )
    forwarded_allow_ips: str = Field(
        default="",
        description="Comma-separated addresses of load balancers whose X-Forwarded-For / "
        "X-Forwarded-Proto are trusted (`*`: any). Empty: the client is the TCP peer.",
    )

    # Hostile traffic: what one request may send, how long it may take, how many run at once
    # (soilapi.http.server for the head, soilapi.http.admission for the rest).
    max_request_head_bytes: int = Field(
        default=65536,
        ge=1024,
        description="Largest request line and headers together, in bytes: the server stops "
        "reading there and answers 431 (HEADERS_TOO_LARGE).",
    )
    max_header_bytes: int = Field(
        default=16384,
        ge=256,
        description="Largest single header, name and value, in bytes (else 431).",
    )
    max_headers: int = Field(
        default=100, ge=1, description="Most headers in one request (else 431)."
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A connection whose request headers are not complete this long after it "
        "opened, or after the request's first byte, is closed (with 408 REQUEST_TIMEOUT when "
        "part of them came), however they trickle in.",
    )
    body_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A request body not complete this long after its headers gets 408 "
        "(REQUEST_TIMEOUT) and its connection is closed.",
    )
    max_requests_in_flight: int | None = Field(
        default=None,
        ge=1,
        description="Requests one process handles at once; past that, requests are refused at "
        "once with 503 (OVERLOADED) and Retry-After instead of queueing (/healthz, /readyz "
        "and /metrics never are). Unset: the database connections a process may open "
        "(DB_POOL_SIZE + 10), since requests beyond them only wait for one, some far longer "
        "than others.",
    )
    overload_retry_after_seconds: int = Field(
        default=1, ge=0, description="Retry-After of the 503 sent past MAX_REQUESTS_IN_FLIGHT."
    )

    # Writes: bearer tokens from an OpenID Connect provider, besides the API keys in the
    # database (soilapi.services.keys). All three set, or none.
    oidc_issuer: str | None = Field(
        default=None, description="Issuer (`iss`) whose tokens are accepted; unset: API keys only."
    )
    oidc_audience: str | None = Field(
        default=None, description="Audience (`aud`) a token must be for, e.g. `soilapi`."
    )
    oidc_jwks_url: str | None = Field(
        default=None, description="Where the issuer publishes its signing keys (JWKS)."
    )
    oidc_role_claim: str = Field(
        default="soilapi_role",
        description="The claim holding the token's role: partner, curator or admin.",
    )
    oidc_organizations_claim: str = Field(
        default="soilapi_organizations",
        description="The claim listing a partner's organisations, by slug.",
    )

    # Front-ends: what browsers and HTTP caches need (soilapi.http.frontends, endpoint).
    cors_allow_origins: str = Field(
        default="",
        description="Comma-separated origins (`https://app.example.org`) whose pages may call "
        "the API from a browser, or `*` for any (the API is public and read-only over GET). "
        "Empty: no CORS headers, so browsers let no other origin read an answer.",
    )
    gzip_minimum_bytes: int = Field(
        default=1000,
        ge=0,
        description="Responses of at least this many bytes are gzip-compressed for clients "
        "that accept it; smaller ones gain less than the work costs. `0`: never (a proxy in "
        "front compresses).",
    )
    http_cache_control: str = Field(
        default="no-cache",
        description="Cache-Control of successful GET query answers, which carry an ETag; "
        "`no-cache` makes clients revalidate (a 304 when nothing changed), so none shows an "
        "answer older than the last write. POST answers and errors are always `no-store`.",
    )
    trusted_documents: str | None = Field(
        default=None,
        description="Path to a JSON manifest of SHA-256 hashes to GraphQL documents: the "
        "server then runs those documents only, named by hash (`documentId` or "
        "`extensions.persistedQuery`) or sent in full, and refuses any other "
        "(PERSISTED_QUERY_NOT_ALLOWED), introspection included. Unset: any query runs, and "
        "clients may send a hash in place of a query they sent before (automatic persisted "
        "queries).",
    )


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()


def normalise_url(url: str) -> str:
    """Accept plain postgres:// URLs and point them at the asyncpg driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url
